"""Word images rendered on the fly: text, font, colours, background, geometry, then degradations.

Every random choice draws from the `numpy.random.Generator` passed in, so a fixed seed per
index gives a fixed validation set. The defaults aim at variety (real crops are judged later,
with fonts and distortions the model never saw) while staying learnable in minutes on a CPU.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import albumentations as A
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from crnn_pl.charset import Charset
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

    @classmethod
    def from_config(cls, values: dict | None) -> RenderSettings:
        """From a plain dict such as `dataset.render` (YAML gives lists where tuples are meant)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in (values or {}).items()})


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
        font = self._pick_font(text, rng)
        size = int(rng.integers(*self.settings.font_size, endpoint=True))
        mask, outline = self._draw_text(text, load_font(str(font.path), size), rng)
        mask, outline = self._warp(mask, outline, rng)
        mask, outline = self._crop_with_margin(mask, outline, size, rng)
        image = self._composite(mask, outline, rng)
        return self.degrade(image=image)["image"] if self.degrade else image

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

    def _draw_text(self, text: str, font: ImageFont.FreeTypeFont,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        size = font.size
        stroke = int(rng.integers(1, max(2, size // 12) + 1)) if rng.random() < self.settings.outline_prob else 0
        spacing = int(rng.integers(-size // 12, size // 4 + 1)) if rng.random() < self.settings.spacing_prob else 0
        advances = [font.getlength(c) + spacing for c in text] if spacing else [font.getlength(text)]
        width = int(sum(advances)) + 2 * size + 2 * stroke
        height = 2 * size + 2 * stroke
        canvas = Image.new("L", (width, height), 0)
        outline_canvas = Image.new("L", (width, height), 0) if stroke else None
        origin = (size // 2 + stroke, size // 2 + stroke)
        pieces = list(text) if spacing else [text]
        x = origin[0]
        for piece, advance in zip(pieces, advances, strict=True):
            if outline_canvas is not None:
                ImageDraw.Draw(outline_canvas).text((x, origin[1]), piece, font=font, fill=255,
                                                    stroke_width=stroke, stroke_fill=255)
            ImageDraw.Draw(canvas).text((x, origin[1]), piece, font=font, fill=255)
            x += advance
        outline = np.asarray(outline_canvas) if outline_canvas is not None else None
        return np.asarray(canvas), outline

    def _warp(self, mask: np.ndarray, outline: np.ndarray | None,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """Rotation, shear and perspective as one homography around the canvas centre."""
        s = self.settings
        height, width = mask.shape
        angle = np.deg2rad(rng.uniform(-s.rotation_degrees, s.rotation_degrees))
        shear = rng.uniform(-s.shear, s.shear)
        cos, sin = np.cos(angle), np.sin(angle)
        centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
        linear = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]]) @ np.array(
            [[1, shear, 0], [0, 1, 0], [0, 0, 1]])
        projective = np.eye(3)
        projective[2, :2] = rng.uniform(-s.perspective, s.perspective, 2) / np.array([width, height])
        matrix = centre @ projective @ linear @ np.linalg.inv(centre)

        def apply(channel: np.ndarray) -> np.ndarray:
            return cv2.warpPerspective(channel, matrix, (width, height), flags=cv2.INTER_LINEAR)

        return apply(mask), apply(outline) if outline is not None else None

    @staticmethod
    def _crop_with_margin(mask: np.ndarray, outline: np.ndarray | None, size: int,
                          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        ink = mask if outline is None else np.maximum(mask, outline)
        rows = np.flatnonzero(ink.max(1) > 32)
        cols = np.flatnonzero(ink.max(0) > 32)
        if rows.size == 0 or cols.size == 0:
            rows, cols = np.arange(mask.shape[0]), np.arange(mask.shape[1])
        top = max(0, rows[0] - int(rng.uniform(0, 0.25) * size))
        bottom = min(mask.shape[0], rows[-1] + 1 + int(rng.uniform(0, 0.25) * size))
        left = max(0, cols[0] - int(rng.uniform(0, 0.4) * size))
        right = min(mask.shape[1], cols[-1] + 1 + int(rng.uniform(0, 0.4) * size))
        crop = (slice(top, bottom), slice(left, right))
        return mask[crop], outline[crop] if outline is not None else None

    def _composite(self, mask: np.ndarray, outline: np.ndarray | None,
                   rng: np.random.Generator) -> np.ndarray:
        height, width = mask.shape
        background = random_background(height, width, rng)
        background_level = float(background.mean())
        text_colour = contrasting_colour(background_level, self.settings.min_contrast, rng)
        image = background
        if rng.random() < self.settings.shadow_prob:
            offset = int(rng.integers(1, max(2, height // 12) + 1))
            shadow = np.zeros_like(mask)
            shadow[offset:, offset:] = mask[:-offset, :-offset]
            image = blend(image, shadow, contrasting_colour(background_level, 30, rng) * 0.6)
        if outline is not None:
            image = blend(image, outline, contrasting_colour(float(text_colour.mean()), 80, rng))
        return blend(image, mask, text_colour).astype(np.uint8)


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


def random_background(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Solid, gradient, smooth noise or stripes: float32 (H, W, 3) in 0..255."""
    base = rng.uniform(0, 255, 3)
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


def build_degradations(settings: RenderSettings) -> A.Compose:
    s = settings
    transforms = photometric_transforms(s.blur_prob, s.downscale_prob, s.noise_prob, s.jpeg_prob,
                                        brightness_contrast_prob=0.3)
    return A.Compose(transforms, seed=0)
