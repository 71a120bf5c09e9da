"""Word images rendered on the fly: text, font, colours, background, geometry, then degradations.

Every random choice draws from the `numpy.random.Generator` passed in, so a fixed seed per
index gives a fixed validation set. The defaults aim at variety (real crops are judged later,
with fonts and distortions the model never saw) while staying learnable in minutes on a CPU.

`WordRenderer` runs the stages in order, each in its own module: the text (text.py, drawing on
corpus.py and patterns.py) in fonts that draw it (fonts.py), its typesetting into masks
(typeset.py), geometry and crop (geometry.py), surface and light (surface.py), then degradation
(degrade.py); the knobs are `RenderSettings` (settings.py).
"""

from __future__ import annotations

import string
from collections.abc import Iterator

import numpy as np

from crnn_pl.core.charset import Charset
from crnn_pl.core.errors import ConfigError
from crnn_pl.data.synth.degrade import build_degradations, shrink_and_upscale
from crnn_pl.data.synth.fonts import FontFile, bundled_fonts, check_coverage, coverage_report, read_user_fonts
from crnn_pl.data.synth.geometry import crop_with_margin, warp
from crnn_pl.data.synth.settings import STACKED_MAX_LENGTH, RenderSettings
from crnn_pl.data.synth.surface import composite, uneven_light
from crnn_pl.data.synth.text import TextSampler, is_heldout
from crnn_pl.data.synth.typeset import draw_stacked, draw_text, load_font, neighbour_texts

REDRAWS = 10       # tries at text some font draws before falling back to a few letters


class WordRenderer:
    """Samples a word in a charset and renders it as an RGB uint8 crop."""

    def __init__(self, charset: Charset, settings: RenderSettings | None = None,
                 fonts: tuple[FontFile, ...] | None = None,
                 vocabulary: tuple[str, ...] | None = None) -> None:
        self.charset = charset
        settings = (settings or RenderSettings.from_config()).effective()
        self.settings = settings
        self.alphabet = self._render_alphabet(charset)
        self.fonts, self.report_lines = self._choose_fonts(fonts, settings)
        self.coverages = sorted({f.characters for f in self.fonts}, key=len, reverse=True)
        # Punctuation is drawn even where a case-folding charset drops it from labels (alnum36, the
        # benchmark protocol, reads "$4.00" as "400"): the model learns to skip it.
        extra = "" if charset.case_sensitive else "".join(c for c in string.punctuation if c not in self.alphabet)
        drawable = "".join(c for c in self.alphabet + extra if c == " " or self.can_draw(c))
        self.text = TextSampler(settings.text, drawable, settings.max_length, settings.split, vocabulary,
                                can_draw=self.can_draw, writable=self.alphabet + extra)
        self.report_lines.append(self.text.report())
        self.vocabulary = self.text.words
        self.degrade = build_degradations(settings)

    def _choose_fonts(self, fonts: tuple[FontFile, ...] | None,
                      settings: RenderSettings) -> tuple[tuple[FontFile, ...], list[str]]:
        """The fonts of this split that draw some of the charset's letters, each checked for what
        it draws (crnn_pl.data.synth.fonts), and the start-up report's lines about them."""
        fonts = fonts if fonts is not None else bundled_fonts(settings.font_sources)
        user_fonts, report = read_user_fonts(settings.font_dirs)
        fonts = tuple(check_coverage(f, self.alphabet) for f in fonts + user_fonts)
        # A caps-only face cannot show the difference a case-sensitive charset makes.
        fonts = tuple(f for f in fonts if self.charset.case_sensitive is False or not f.caps_only)
        report += coverage_report(fonts, self.alphabet)
        letters = {c for c in self.alphabet if c.isalpha()}
        fonts = tuple(f for f in fonts if not letters or letters & f.characters)
        if not fonts:
            raise ConfigError(f"no font of dataset.render.font_sources={list(settings.font_sources)} or font_dirs="
                              f"{list(settings.font_dirs)} draws this charset's letters")
        # Held-out font families render only the held-out split (never trained on).
        heldout = settings.heldout_fonts
        in_split = tuple(f for f in fonts if (f.family in heldout if heldout is not None else is_heldout(f.family))
                         == (settings.split == "heldout"))
        if not in_split:
            raise ConfigError(f"dataset.render.split={settings.split}: none of the {len(fonts)} fonts of font_sources="
                              f"{list(settings.font_sources)} and font_dirs={list(settings.font_dirs)} that draw "
                              "this charset is in that split; add fonts or name the held-out families in heldout_fonts")
        return in_split, report

    def can_draw(self, text: str) -> bool:
        """Whether one of the fonts draws every character of `text`."""
        characters = set(text) - {" "}
        return any(characters <= coverage for coverage in self.coverages)

    @staticmethod
    def _render_alphabet(charset: Charset) -> str:
        if charset.case_sensitive:
            return charset.characters
        return charset.characters + "".join(
            c.upper() for c in charset.characters if c.upper() != c and len(c.upper()) == 1
        )

    def sample_text(self, rng: np.random.Generator) -> str:
        """Text that one of the fonts draws: a random string or pattern may mix characters that no
        single font holds, and is then drawn again."""
        for _ in range(REDRAWS):
            text = self.text.sample(rng)
            if self.can_draw(text):
                return text
        pool = sorted(self.fonts[0].characters & set(self.alphabet))
        return "".join(pool[i] for i in rng.integers(len(pool), size=3))

    def label_of(self, text: str) -> str:
        """The label for drawn text: the charset's form, without what the charset cannot write."""
        return "".join(c for c in self.charset.normalize(text) if self.charset.can_encode(c))

    def render(self, text: str, rng: np.random.Generator) -> np.ndarray:
        """`text` through every stage: typeset, warped and cropped, composited and lit, degraded."""
        s = self.settings
        font = self._pick_font(text, rng)
        size = int(rng.integers(*s.font_size, endpoint=True))
        face = load_font(str(font.path), size)
        if rng.random() < s.stacked_prob and len(text) <= STACKED_MAX_LENGTH:
            layers = draw_stacked(text, face)
        else:
            neighbours = neighbour_texts(self.sample_text, rng) if rng.random() < s.neighbour_prob else None
            if neighbours:              # in the word's font: what it cannot draw would show as boxes
                neighbours = tuple(n if font.covers(n) else "" for n in neighbours)
            layers = draw_text(text, face, s, rng, neighbours)
        layers = warp(layers, s, rng)
        layers = crop_with_margin(layers, size, s.tight_crop_prob, rng)
        image = composite(layers, s, rng)
        if rng.random() < s.uneven_light_prob:
            image = uneven_light(image, rng)
        if rng.random() < s.tiny_prob:
            image = shrink_and_upscale(image, rng)
        return self.degrade(image=image)["image"] if self.degrade else image

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """One (image, label) pair; the label is in the charset's normalised form."""
        text = self.sample_text(rng)
        label = self.label_of(text)
        if not label:                       # all punctuation, for a charset without any
            text = "".join(self.alphabet[i] for i in rng.integers(len(self.alphabet), size=rng.integers(1, 6)))
            label = self.label_of(text)
        self.degrade_seed(rng)
        image = self.render(text, rng)
        if rng.random() < self.settings.turned_prob:
            # Text the reader must turn before reading (crnn_pl.runtime.recognizer's orientation):
            # the model learns to read nothing there, so the reader's other turns win.
            return np.ascontiguousarray(np.rot90(image, int(rng.integers(1, 4)))), ""
        return image, label

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
