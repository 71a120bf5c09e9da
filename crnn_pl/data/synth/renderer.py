"""Word images rendered on the fly: text, font, colours, background, geometry, then degradations.

Every random choice draws from the `numpy.random.Generator` passed in, so a fixed seed per
index gives a fixed validation set. The defaults aim at variety (real crops are judged later,
with fonts and distortions the model never saw) while staying learnable in minutes on a CPU.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

import albumentations as A
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from crnn_pl.core.charset import Charset
from crnn_pl.data.augment import photometric_transforms
from crnn_pl.data.synth.fonts import FontFile, bundled_fonts


@dataclass(frozen=True)
class RenderSettings:
    """Knobs of the renderer; conf/dataset/synth.yaml documents each."""

    font_size: tuple[int, int] = (22, 44)
    font_sources: tuple[str, ...] = ("packages",)
    max_length: int = 10
    random_text_prob: float = 0.1
    rotation_degrees: float = 3.0
    shear: float = 0.2
    perspective: float = 0.05
    spacing_prob: float = 0.2
    outline_prob: float = 0.1
    shadow_prob: float = 0.1
    min_contrast: int = 60
    blur_prob: float = 0.1
    noise_prob: float = 0.1
    jpeg_prob: float = 0.1
    downscale_prob: float = 0.08
    # The scene-text variety knobs: 0 turns each off (conf/dataset/synth.yaml sets them), and
    # `variety` scales all their probabilities at once (0: the renderer before they existed).
    variety: float = 1.0
    curve_prob: float = 0.0
    curve_amount: float = 0.3
    char_jitter_prob: float = 0.0
    neighbour_prob: float = 0.0
    tight_crop_prob: float = 0.0
    large_rotation_prob: float = 0.0
    large_rotation_degrees: float = 15.0
    texture_prob: float = 0.0
    blend_prob: float = 0.0
    uneven_light_prob: float = 0.0
    low_contrast_prob: float = 0.0
    tiny_prob: float = 0.0

    def effective(self) -> RenderSettings:
        """These settings with `variety` folded into each variety probability."""
        scaled = {name: min(1.0, getattr(self, name) * self.variety) for name in VARIETY_KNOBS}
        return replace(self, variety=1.0, **scaled)

    @classmethod
    def from_config(cls, values: dict | None) -> RenderSettings:
        """From a plain dict such as `dataset.render` (YAML gives lists where tuples are meant)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in (values or {}).items()})


VARIETY_KNOBS = ("curve_prob", "char_jitter_prob", "neighbour_prob", "tight_crop_prob", "large_rotation_prob",
                 "texture_prob", "blend_prob", "uneven_light_prob", "low_contrast_prob", "tiny_prob")


def load_vocabulary() -> tuple[str, ...]:
    text = resources.files("crnn_pl.data.synth").joinpath("words.txt").read_text("utf-8")
    return tuple(word for word in text.split() if word)


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


class WordRenderer:
    """Samples a word in a charset and renders it as an RGB uint8 crop."""

    def __init__(self, charset: Charset, settings: RenderSettings = RenderSettings(),
                 fonts: tuple[FontFile, ...] | None = None,
                 vocabulary: tuple[str, ...] | None = None) -> None:
        self.charset = charset
        settings = settings.effective()
        self.settings = settings
        fonts = fonts if fonts is not None else bundled_fonts(settings.font_sources)
        # A caps-only face cannot show the difference a case-sensitive charset makes.
        self.fonts = tuple(f for f in fonts if charset.case_sensitive is False or not f.caps_only)
        if not self.fonts:
            raise ValueError("no usable fonts for this charset")
        self.alphabet = self._render_alphabet(charset)
        vocabulary = vocabulary if vocabulary is not None else load_vocabulary()
        self.vocabulary = tuple(
            w for w in vocabulary if len(w) <= settings.max_length and charset.can_encode(w)
        )
        self.degrade = build_degradations(settings)

    @staticmethod
    def _render_alphabet(charset: Charset) -> str:
        if charset.case_sensitive:
            return charset.characters
        return charset.characters + "".join(
            c.upper() for c in charset.characters if c.upper() != c and len(c.upper()) == 1
        )

    def sample_text(self, rng: np.random.Generator) -> str:
        if not self.vocabulary or rng.random() < self.settings.random_text_prob:
            return self._random_string(rng)
        word = self.vocabulary[rng.integers(len(self.vocabulary))]
        style = rng.random()
        if style < 0.2:
            word = word.upper()
        elif style < 0.35:
            word = word.lower()
        elif style < 0.45:
            word = word.capitalize()
        return word if self.charset.can_encode(word) else self._random_string(rng)

    def _random_string(self, rng: np.random.Generator) -> str:
        length = int(rng.integers(1, min(8, self.settings.max_length) + 1))
        kind = rng.random()
        if kind < 0.3:
            pool = "".join(c for c in self.alphabet if c in string.digits) or self.alphabet
        elif kind < 0.5:
            pool = "".join(c for c in self.alphabet if c.isupper() or c in string.digits)
        else:
            pool = self.alphabet
        pool = pool or self.alphabet
        return "".join(pool[i] for i in rng.integers(len(pool), size=length))

    def render(self, text: str, rng: np.random.Generator) -> np.ndarray:
        s = self.settings
        font = self._pick_font(text, rng)
        size = int(rng.integers(*s.font_size, endpoint=True))
        neighbours = self._neighbour_texts(rng) if rng.random() < s.neighbour_prob else None
        layers = self._draw_text(text, load_font(str(font.path), size), rng, neighbours)
        layers = self._warp(layers, rng)
        layers = self._crop_with_margin(layers, size, rng)
        image = self._composite(layers, rng)
        if rng.random() < s.uneven_light_prob:
            image = uneven_light(image, rng)
        if rng.random() < s.tiny_prob:
            image = shrink_and_upscale(image, rng)
        return self.degrade(image=image)["image"] if self.degrade else image

    def _neighbour_texts(self, rng: np.random.Generator) -> tuple[str, str, str, str]:
        """Words a detector's box catches the edges of: left, right, the line above, the line below
        (each may be empty). They are drawn in the word's font and colour, outside its box."""
        def maybe(probability: float, words: int = 1) -> str:
            if rng.random() >= probability:
                return ""
            return " ".join(self.sample_text(rng) for _ in range(words))
        return maybe(0.6), maybe(0.6), maybe(0.3, words=3), maybe(0.3, words=3)

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """One (image, label) pair; the label is in the charset's normalised form."""
        text = self.sample_text(rng)
        self.degrade_seed(rng)
        return self.render(text, rng), self.charset.normalize(text)

    def samples(self, count: int, seed: int) -> Iterator[tuple[np.ndarray, str]]:
        """`count` pairs, pair i drawn from a generator seeded by (seed, i): the same words on
        every machine (fixed sets written to disk, export verification images)."""
        for index in range(count):
            yield self.sample(np.random.default_rng([seed, index]))

    def degrade_seed(self, rng: np.random.Generator) -> None:
        if self.degrade is not None:
            self.degrade.set_random_seed(int(rng.integers(2**31)))

    def _pick_font(self, text: str, rng: np.random.Generator) -> FontFile:
        for _ in range(8):
            font = self.fonts[rng.integers(len(self.fonts))]
            if font.covers(text):
                return font
        covering = [f for f in self.fonts if f.covers(text)]
        if not covering:
            raise ValueError(f"no bundled font can render {text!r}")
        return covering[rng.integers(len(covering))]

    def _draw_text(self, text: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator,
                   neighbours: tuple[str, str, str, str] | None = None) -> TextLayers:
        s = self.settings
        size = font.size
        stroke = int(rng.integers(1, max(2, size // 12) + 1)) if rng.random() < s.outline_prob else 0
        spacing = int(rng.integers(-size // 12, size // 4 + 1)) if rng.random() < s.spacing_prob else 0
        offsets = self._baseline_offsets(text, size, rng)
        per_character = bool(spacing) or offsets is not None
        pieces = list(text) if per_character else [text]
        advances = [font.getlength(c) + spacing for c in pieces]
        offsets = offsets if offsets is not None else np.zeros(len(pieces))
        left_word, right_word, above, below = neighbours or ("", "", "", "")
        gap = font.getlength(" ") * rng.uniform(0.8, 2.0)
        left_width = font.getlength(left_word) + gap if left_word else 0.0
        right_width = font.getlength(right_word) + gap if right_word else 0.0
        lift = int(np.abs(offsets).max()) if len(offsets) else 0
        line_step = int(size * rng.uniform(1.0, 1.3))
        margin_top = size // 2 + stroke + lift + (line_step if above else 0)
        margin_bottom = size // 2 + stroke + lift + (line_step if below else 0)
        width = int(left_width + sum(advances) + right_width) + 2 * size + 2 * stroke
        height = margin_top + size + margin_bottom
        word = Image.new("L", (width, height), 0)
        outline = Image.new("L", (width, height), 0) if stroke else None
        x0, y0 = size // 2 + stroke + left_width, margin_top
        x = x0
        for piece, advance, dy in zip(pieces, advances, offsets, strict=True):
            if outline is not None:
                ImageDraw.Draw(outline).text((x, y0 + dy), piece, font=font, fill=255,
                                             stroke_width=stroke, stroke_fill=255)
            ImageDraw.Draw(word).text((x, y0 + dy), piece, font=font, fill=255)
            x += advance
        extra = None
        if neighbours:
            extra = Image.new("L", (width, height), 0)
            draw = ImageDraw.Draw(extra)
            if left_word:
                draw.text((x0 - left_width, y0), left_word, font=font, fill=255)
            if right_word:
                draw.text((x + gap, y0), right_word, font=font, fill=255)
            shift = rng.uniform(-0.5, 0.5) * size
            if above:
                draw.text((x0 + shift - size, y0 - line_step), above, font=font, fill=255)
            if below:
                draw.text((x0 - shift - size, y0 + line_step), below, font=font, fill=255)
        return TextLayers(np.asarray(word), as_array(outline), as_array(extra))

    def _baseline_offsets(self, text: str, size: int, rng: np.random.Generator) -> np.ndarray | None:
        """Per-character vertical offsets: a bent baseline (arc or wave, as on curved signs and
        logos) and/or small independent jitter (hand-set or printed letters); None for straight."""
        s = self.settings
        curved, jittered = rng.random() < s.curve_prob, rng.random() < s.char_jitter_prob
        if not (curved or jittered) or len(text) < 2:
            return None
        position = np.linspace(-1.0, 1.0, len(text))
        offsets = np.zeros(len(text))
        if curved:
            amount = rng.uniform(0.1, s.curve_amount) * size * rng.choice([-1.0, 1.0])
            if rng.random() < 0.6:
                offsets += amount * (position ** 2)
            else:
                offsets += amount * np.sin(position * np.pi * rng.uniform(0.5, 1.5) + rng.uniform(0, np.pi))
        if jittered:
            offsets += rng.normal(0.0, 0.05 * size, len(text))
        return offsets

    def _warp(self, layers: TextLayers, rng: np.random.Generator) -> TextLayers:
        """Rotation, shear and perspective as one homography around the canvas centre, onto a
        canvas grown to hold the warped corners (a long word rotated 15 degrees keeps its ends)."""
        s = self.settings
        height, width = layers.word.shape
        degrees = s.large_rotation_degrees if rng.random() < s.large_rotation_prob else s.rotation_degrees
        angle = np.deg2rad(rng.uniform(-degrees, degrees))
        shear = rng.uniform(-s.shear, s.shear)
        cos, sin = np.cos(angle), np.sin(angle)
        centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
        linear = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]]) @ np.array(
            [[1, shear, 0], [0, 1, 0], [0, 0, 1]])
        projective = np.eye(3)
        projective[2, :2] = rng.uniform(-s.perspective, s.perspective, 2) / np.array([width, height])
        matrix = centre @ projective @ linear @ np.linalg.inv(centre)
        corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=float).T
        warped = matrix @ corners
        warped = warped[:2] / warped[2]
        low, high = np.floor(warped.min(1)), np.ceil(warped.max(1))
        matrix = np.array([[1, 0, -low[0]], [0, 1, -low[1]], [0, 0, 1]]) @ matrix
        size = (int(high[0] - low[0]), int(high[1] - low[1]))

        def apply(channel: np.ndarray) -> np.ndarray:
            return cv2.warpPerspective(channel, matrix, size, flags=cv2.INTER_LINEAR)

        return layers.map(apply)

    def _crop_with_margin(self, layers: TextLayers, size: int, rng: np.random.Generator) -> TextLayers:
        """The word's ink box plus a random margin, as detectors cut it: loose, or (tight_crop_prob)
        shaving a few percent of the glyphs' edges. Neighbouring fragments are cut where it falls."""
        ink = layers.word if layers.outline is None else np.maximum(layers.word, layers.outline)
        rows = np.flatnonzero(ink.max(1) > 32)
        cols = np.flatnonzero(ink.max(0) > 32)
        if rows.size == 0 or cols.size == 0:
            rows, cols = np.arange(ink.shape[0]), np.arange(ink.shape[1])
        if rng.random() < self.settings.tight_crop_prob:
            vertical, horizontal = (-0.08, 0.02), (-0.04, 0.02)
        else:
            vertical, horizontal = (0.0, 0.25), (0.0, 0.4)
        top = max(0, rows[0] - int(rng.uniform(*vertical) * size))
        bottom = min(ink.shape[0], rows[-1] + 1 + int(rng.uniform(*vertical) * size))
        left = max(0, cols[0] - int(rng.uniform(*horizontal) * size))
        right = min(ink.shape[1], cols[-1] + 1 + int(rng.uniform(*horizontal) * size))
        if bottom - top < 4 or right - left < 4:        # never cut a crop to nothing
            top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        return layers.map(lambda channel: channel[top:bottom, left:right])

    def _composite(self, layers: TextLayers, rng: np.random.Generator) -> np.ndarray:
        s = self.settings
        height, width = layers.word.shape
        background = random_background(height, width, rng, s.texture_prob)
        background_level = float(background.mean())
        contrast = rng.uniform(20, s.min_contrast) if rng.random() < s.low_contrast_prob else s.min_contrast
        text_colour = contrasting_colour(background_level, contrast, rng)
        mask = layers.word if layers.extra is None else np.maximum(layers.word, layers.extra)
        image = background
        if rng.random() < s.shadow_prob:
            offset = int(rng.integers(1, max(2, height // 12) + 1))
            shadow = np.zeros_like(mask)
            shadow[offset:, offset:] = mask[:-offset, :-offset]
            image = blend(image, shadow, contrasting_colour(background_level, 30, rng) * 0.6)
        if layers.outline is not None:
            image = blend(image, layers.outline, contrasting_colour(float(text_colour.mean()), 80, rng))
        if rng.random() < s.blend_prob:
            # Paint on a surface: the text keeps the background's texture (multiplied, not pasted).
            shading = background / max(background_level, 1.0)
            return np.clip(blend(image, mask, text_colour) * (1 - mask[..., None] / 255.0)
                           + np.clip(text_colour * shading, 0, 255) * (mask[..., None] / 255.0),
                           0, 255).astype(np.uint8)
        return blend(image, mask, text_colour).astype(np.uint8)


@dataclass(frozen=True)
class TextLayers:
    """Masks (uint8, 255 = ink) that every geometric step moves together: the word itself, its
    outline (or None), and neighbouring words' fragments (or None), which never set the crop."""

    word: np.ndarray
    outline: np.ndarray | None = None
    extra: np.ndarray | None = None

    def map(self, step) -> TextLayers:
        return TextLayers(step(self.word), *(None if m is None else step(m) for m in (self.outline, self.extra)))


def as_array(image: Image.Image | None) -> np.ndarray | None:
    return None if image is None else np.asarray(image)


def blend(image: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> np.ndarray:
    weight = (alpha.astype(np.float32) / 255.0)[..., None]
    return image * (1.0 - weight) + colour[None, None, :] * weight


def contrasting_colour(level: float, min_contrast: float, rng: np.random.Generator) -> np.ndarray:
    """An RGB colour whose brightness differs from `level` by at least `min_contrast`."""
    darker_possible = level - min_contrast >= 0
    lighter_possible = level + min_contrast <= 255
    go_dark = darker_possible and (not lighter_possible or rng.random() < 0.6)
    target = rng.uniform(0, level - min_contrast) if go_dark else rng.uniform(level + min_contrast, 255)
    tint = rng.normal(0, 25, 3) if rng.random() < 0.5 else np.zeros(3)
    return np.clip(target + tint, 0, 255).astype(np.float32)


def random_background(height: int, width: int, rng: np.random.Generator,
                      texture_prob: float = 0.0) -> np.ndarray:
    """Solid, gradient, smooth noise or stripes, or (texture_prob) a fractal texture:
    float32 (H, W, 3) in 0..255."""
    base = rng.uniform(0, 255, 3)
    if rng.random() < texture_prob:
        return fractal_texture(height, width, base, rng)
    kind = rng.random()
    if kind < 0.35:
        background = np.broadcast_to(base, (height, width, 3)).astype(np.float32)
    elif kind < 0.6:
        other = rng.uniform(0, 255, 3)
        ramp = np.linspace(0, 1, width if rng.random() < 0.7 else height, dtype=np.float32)
        ramp = ramp[None, :, None] if ramp.size == width else ramp[:, None, None]
        background = base * (1 - ramp) + other * ramp
        background = np.broadcast_to(background, (height, width, 3)).astype(np.float32)
    elif kind < 0.85:
        coarse = rng.normal(0, rng.uniform(10, 50), (int(rng.integers(2, 6)), int(rng.integers(2, 12)), 3))
        smooth = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
        background = smooth + base.astype(np.float32)
    else:
        period = rng.uniform(4, 20)
        phase = np.arange(width if rng.random() < 0.5 else height, dtype=np.float32)
        wave = (np.sin(phase * 2 * np.pi / period) * rng.uniform(10, 40)).astype(np.float32)
        wave = wave[None, :, None] if wave.size == width else wave[:, None, None]
        background = np.broadcast_to(base + wave, (height, width, 3)).astype(np.float32)
    # Brightness statistics steer the text colour: keep them inside the valid range.
    return np.clip(background, 0, 255).astype(np.float32)


def fractal_texture(height: int, width: int, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Octaves of smooth noise with 1/f amplitudes (stone, paper, bark, foliage-like), sometimes
    bent into grain; tinted per channel so surfaces are not grey."""
    field = np.zeros((height, width), np.float32)
    amplitude = 1.0
    for octave in range(int(rng.integers(3, 6))):
        cells = (max(2, height >> max(0, 4 - octave)), max(2, width >> max(0, 4 - octave)))
        coarse = rng.normal(0, 1, cells).astype(np.float32)
        field += amplitude * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        amplitude *= rng.uniform(0.45, 0.7)
    if rng.random() < 0.3:                       # grain: wood, brushed metal
        period = rng.uniform(3, 12)
        axis = np.arange(height, dtype=np.float32)[:, None] if rng.random() < 0.5 else \
            np.arange(width, dtype=np.float32)[None, :]
        field = np.sin(axis * 2 * np.pi / period + 2.0 * field)
    field = (field - field.mean()) / (field.std() + 1e-6)
    strength = rng.uniform(10, 45)
    tint = rng.uniform(0.6, 1.4, 3).astype(np.float32)
    texture = base.astype(np.float32) + field[..., None] * strength * tint
    return np.clip(texture, 0, 255).astype(np.float32)


def uneven_light(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A lighting gradient across the crop and, half the time, a glare spot."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * xs / max(width, 1) + np.sin(direction) * ys / max(height, 1))
    ramp = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
    low, high = rng.uniform(0.45, 0.9), rng.uniform(1.0, 1.3)
    lit = image.astype(np.float32) * (low + (high - low) * ramp)[..., None]
    if rng.random() < 0.5:
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.15, 0.5) * width
        spot = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius ** 2))
        lit += spot[..., None] * rng.uniform(60, 160)
    return np.clip(lit, 0, 255).astype(np.uint8)


def shrink_and_upscale(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render at 8-20 px high and scale back up, as a detector's tiny crops look."""
    height, width = image.shape[:2]
    target = int(rng.integers(8, 21))
    if height <= target:
        return image
    small = cv2.resize(image, (max(1, round(width * target / height)), target), interpolation=cv2.INTER_AREA)
    method = cv2.INTER_LINEAR if rng.random() < 0.5 else cv2.INTER_CUBIC
    return cv2.resize(small, (width, height), interpolation=method)


def build_degradations(settings: RenderSettings) -> A.Compose:
    s = settings
    transforms = photometric_transforms(s.blur_prob, s.downscale_prob, s.noise_prob, s.jpeg_prob,
                                        brightness_contrast_prob=0.3)
    return A.Compose(transforms, seed=0)
