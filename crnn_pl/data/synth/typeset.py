"""Typesetting: the word drawn as ink masks, before any geometry, colour or surface.

A word is drawn in one font as 255-on-0 masks (`TextLayers`): its glyphs, an outline in a second
colour, and fragments of neighbouring words. Keeping them apart lets the later stages move them
together while only the word's own ink sets the crop, and colour each one separately. Letter
spacing, a bent or jittered baseline and stacked letters (vertical signs) are decided here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from crnn_pl.data.synth.settings import RenderSettings


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


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def neighbour_texts(sample_text: Callable[[np.random.Generator], str],
                    rng: np.random.Generator) -> tuple[str, str, str, str]:
    """Words a detector's box catches the edges of: left, right, the line above, the line below
    (each may be empty). They are drawn in the word's font and colour, outside its box."""
    def maybe(probability: float, words: int = 1) -> str:
        if rng.random() >= probability:
            return ""
        return " ".join(sample_text(rng) for _ in range(words))
    return maybe(0.6), maybe(0.6), maybe(0.3, words=3), maybe(0.3, words=3)


def draw_text(text: str, font: ImageFont.FreeTypeFont, settings: RenderSettings, rng: np.random.Generator,
              neighbours: tuple[str, str, str, str] | None = None) -> TextLayers:
    """The word on one line, with its outline (outline_prob), letter spacing (spacing_prob), a bent
    or jittered baseline, and the neighbouring words (`neighbour_texts`) around it."""
    s = settings
    size = font.size
    stroke = int(rng.integers(1, max(2, size // 12) + 1)) if rng.random() < s.outline_prob else 0
    spacing = int(rng.integers(-size // 12, size // 4 + 1)) if rng.random() < s.spacing_prob else 0
    offsets = baseline_offsets(text, size, s, rng)
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


def draw_stacked(text: str, font: ImageFont.FreeTypeFont) -> TextLayers:
    """Upright letters stacked in a column (vertical signs), turned a quarter anticlockwise:
    what the reader sees after it turns a tall crop (crnn_pl.runtime.recognizer), so the
    model learns such letters lying in a row, first letter on the left."""
    size = font.size
    step = int(size * 1.05)
    width, height = 2 * size, size + step * len(text)
    column = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(column)
    for index, character in enumerate(text):
        draw.text(((width - font.getlength(character)) / 2, size // 2 + index * step), character,
                  font=font, fill=255)
    return TextLayers(np.ascontiguousarray(np.rot90(np.asarray(column))))


def baseline_offsets(text: str, size: int, settings: RenderSettings,
                     rng: np.random.Generator) -> np.ndarray | None:
    """Per-character vertical offsets: a bent baseline (arc or wave, as on curved signs and
    logos) and/or small independent jitter (hand-set or printed letters); None for straight."""
    s = settings
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
