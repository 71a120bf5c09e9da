"""Charset: the one place that maps text to CTC targets and frame scores back to text.

The blank is index 0, so a model over a charset of N characters has N + 1 classes. Text is
Unicode-normalised once, to NFC, wherever it meets a charset (the charset's own characters, labels,
the renderer's corpus), so a letter typed precomposed (`ệ`) and one typed with combining marks
(`e` + U+0323 + U+0302) are the same character.
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crnn_pl.core.errors import UserError
from crnn_pl.core.textfile import read_text, text_lines

if TYPE_CHECKING:
    import torch

BLANK = 0
NORMAL_FORM = "NFC"
# Charsets shipped as dictionaries (one character per line), named like the presets: charset.name=vi
DICTIONARY_DIR = Path(__file__).with_name("dictionaries")

PRESETS: dict[str, tuple[str, bool]] = {
    # name: (characters, case_sensitive)
    "alnum36": (string.digits + string.ascii_lowercase, False),
    "printable94": (string.digits + string.ascii_letters + string.punctuation, True),
}


class CharsetError(UserError, ValueError):
    """A charset (preset, characters or file) that cannot be used."""


class Charset:
    """An ordered set of characters plus the CTC blank at index 0."""

    def __init__(self, characters: str, case_sensitive: bool = True) -> None:
        if not characters:
            raise CharsetError("a charset needs at least one character")
        # one character at a time: a dictionary may list a combining mark on a line of its own
        characters = "".join(nfc(c) for c in characters)
        duplicates = sorted(c for c, count in Counter(characters).items() if count > 1)
        if duplicates:
            raise CharsetError(f"charset has duplicate characters: {duplicates!r}")
        if not case_sensitive and characters != characters.lower():
            raise CharsetError("a case-insensitive charset must hold lower-case characters only")
        self.characters = characters
        self.case_sensitive = case_sensitive
        self._index = {c: i + 1 for i, c in enumerate(characters)}

    @classmethod
    def preset(cls, name: str) -> Charset:
        """A built-in charset: a preset above or a dictionary shipped in crnn_pl/core/dictionaries."""
        if name in PRESETS:
            characters, case_sensitive = PRESETS[name]
            return cls(characters, case_sensitive)
        dictionary = DICTIONARY_DIR / f"{name}.txt"
        if dictionary.is_file():
            return cls.from_file(dictionary)
        raise CharsetError(f"unknown charset preset {name!r}; choose one of {preset_names()}")

    @classmethod
    def from_file(cls, path: str | Path, case_sensitive: bool = True) -> Charset:
        """Read a dictionary with one character per line, as PaddleOCR's are."""
        path = Path(path)
        text = read_text(path, CharsetError, f"{path}: no such charset file", "the charset file")
        characters = []
        for line_number, line in enumerate(text_lines(text), 1):
            character = nfc(line)
            if len(character) != 1:
                raise CharsetError(
                    f"{path}:{line_number}: expected one character per line, got {character!r}"
                )
            characters.append(character)
        return cls("".join(characters), case_sensitive)

    @property
    def num_classes(self) -> int:
        return len(self.characters) + 1

    @property
    def blank(self) -> int:
        return BLANK

    def __len__(self) -> int:
        return len(self.characters)

    def __repr__(self) -> str:
        return f"Charset({self.characters!r}, case_sensitive={self.case_sensitive})"

    def normalize(self, text: str) -> str:
        """NFC, and case folded where the charset ignores case: the label form training compares."""
        text = nfc(text)
        return text if self.case_sensitive else text.lower()

    def unknown_characters(self, text: str) -> set[str]:
        return {c for c in self.normalize(text) if c not in self._index}

    def can_encode(self, text: str) -> bool:
        return bool(text) and not self.unknown_characters(text)

    def encode(self, text: str) -> list[int]:
        normalized = self.normalize(text)
        try:
            return [self._index[c] for c in normalized]
        except KeyError as error:
            raise ValueError(f"character {error.args[0]!r} of {text!r} is not in the charset") from None

    def encode_batch(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenated CTC targets and their lengths, the form `F.ctc_loss` takes."""
        import torch

        encoded = [self.encode(text) for text in texts]
        targets = torch.tensor([i for e in encoded for i in e], dtype=torch.long)
        lengths = torch.tensor([len(e) for e in encoded], dtype=torch.long)
        return targets, lengths

    def decode_indices(self, indices: Sequence[int]) -> str:
        return "".join(self.characters[i - 1] for i in indices if i != BLANK)

    def decode_greedy(self, logits: torch.Tensor | np.ndarray) -> list[tuple[str, float]]:
        """Best path decoding of (batch, frames, classes) scores: collapse repeats, drop blanks.

        Numpy, so exported models decode without torch; a torch tensor is converted first.
        The confidence is the mean probability of the frames that emitted a character
        (PaddleOCR's convention); a word with no characters is ("", 0.0): nothing was read.
        """
        if not isinstance(logits, np.ndarray):
            logits = logits.detach().float().cpu().numpy()
        scores = logits.astype(np.float32, copy=False)
        best_classes = scores.argmax(-1)
        # softmax at the best class only: exp(0) / sum(exp(scores - max))
        best_probabilities = 1.0 / np.exp(scores - scores.max(-1, keepdims=True)).sum(-1)
        results = []
        for classes, probabilities in zip(best_classes.tolist(), best_probabilities.tolist(), strict=True):
            kept_characters, kept_scores, previous = [], [], BLANK
            for class_index, probability in zip(classes, probabilities, strict=True):
                if class_index != BLANK and class_index != previous:
                    kept_characters.append(self.characters[class_index - 1])
                    kept_scores.append(probability)
                previous = class_index
            confidence = sum(kept_scores) / len(kept_scores) if kept_scores else 0.0
            results.append(("".join(kept_characters), confidence))
        return results


def nfc(text: str) -> str:
    """`text` in the one normal form every charset, label and corpus uses."""
    return text if unicodedata.is_normalized(NORMAL_FORM, text) else unicodedata.normalize(NORMAL_FORM, text)


def preset_names() -> list[str]:
    return sorted([*PRESETS, *(p.stem for p in DICTIONARY_DIR.glob("*.txt"))])


def build_charset(name: str | None = None, characters: str | None = None,
                  path: str | None = None, case_sensitive: bool = True) -> Charset:
    """Build a charset from exactly one of a preset name, a string of characters, or a file."""
    given = [value for value in (name, characters, path) if value]
    if len(given) != 1:
        raise CharsetError("give exactly one of a charset preset name, characters, or a file path")
    if name:
        return Charset.preset(name)
    if path:
        return Charset.from_file(path, case_sensitive)
    return Charset(characters, case_sensitive)
