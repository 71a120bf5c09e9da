"""What a dataset keeps and why it skips: label cleaning against a charset, and the skip report.

Every loader runs each sample through a `LabelFilter` and records every skipped sample in a
`LoadReport` with where it came from (file and line, or LMDB key). The report's summary is
printed when a DataModule sets up; with `strict=True` the first skip raises instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from crnn_pl.core.charset import Charset
from crnn_pl.core.errors import ConfigError, UserError
from crnn_pl.core.metrics import alnum36

# Why a sample is skipped; the keys the report counts.
MISSING_FILE = "missing image file"
UNREADABLE = "unreadable image"
MALFORMED = "malformed ground-truth line"
EMPTY_LABEL = "empty label"
OUTSIDE_CHARSET = "characters outside the charset"
TOO_LONG = "label longer than the model's frames"
NOTHING_TO_SCORE = "no letter or digit to score"

UNKNOWN_CHARACTER_POLICIES = ("drop", "fold_case")


class DataError(UserError, ValueError):
    """A dataset problem a user must fix; the message names the file (and line or key)."""


def frames_needed(label: str) -> int:
    """CTC emits one frame per character plus a blank between equal neighbours ("ll")."""
    return len(label) + sum(1 for a, b in zip(label, label[1:], strict=False) if a == b)


@dataclass(frozen=True)
class LabelFilter:
    """Turns a ground-truth label into the form training compares, or says why it cannot.

    `unknown_characters="drop"` skips a label with any character outside the charset;
    `"fold_case"` first swaps such characters for their other case when that one is in the
    charset (e.g. "A" for a lower-case-only dictionary), then drops what is still unknown.

    `as_written` (evaluation: crnn-eval): every label is kept exactly as written, whatever the
    model's charset, so a model is scored on every crop it is given, as the benchmarks score it;
    only labels with no letter or digit (nothing the benchmark protocol can compare) are skipped.
    """

    charset: Charset
    max_frames: int
    unknown_characters: str = "drop"
    as_written: bool = False

    def __post_init__(self) -> None:
        if self.unknown_characters not in UNKNOWN_CHARACTER_POLICIES:
            raise ConfigError(f"unknown_characters={self.unknown_characters!r}; "
                             f"choose one of {UNKNOWN_CHARACTER_POLICIES}")

    def clean(self, label: str) -> tuple[str | None, str | None]:
        """(normalised label, None) when kept, (None, reason) when skipped."""
        if self.as_written:
            return (label, None) if alnum36(label) else (None, NOTHING_TO_SCORE)
        text = self.charset.normalize(label)
        if not text:
            return None, EMPTY_LABEL
        if self.unknown_characters == "fold_case":
            text = "".join(self._fold(c) for c in text)
        if self.charset.unknown_characters(text):
            return None, OUTSIDE_CHARSET
        if frames_needed(text) > self.max_frames:
            return None, TOO_LONG
        return text, None

    def _fold(self, character: str) -> str:
        if self.charset.can_encode(character):
            return character
        for variant in (character.lower(), character.upper()):
            if len(variant) == 1 and self.charset.can_encode(variant):
                return variant
        return character


@dataclass
class LoadReport:
    """Kept and skipped counts of one split, with the first few places each skip came from."""

    name: str
    strict: bool = False
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)     # how it was checked, when that is worth saying
    max_examples: int = 3

    def keep(self) -> None:
        self.kept += 1

    def skip(self, reason: str, where: str, count: int = 1) -> None:
        """Count `count` skipped samples (`where`: the first); in strict mode, stop with an error naming it."""
        if self.strict:
            raise DataError(f"{where}: {reason} (dataset.strict=true turns skips into errors)")
        self.skipped[reason] += count
        shown = self.examples.setdefault(reason, [])
        if len(shown) < self.max_examples:
            shown.append(where)

    @property
    def total(self) -> int:
        return self.kept + sum(self.skipped.values())

    def summary(self) -> str:
        lines = [f"{self.name}: kept {self.kept:,} of {self.total:,} samples"]
        for reason, count in self.skipped.most_common():
            lines.append(f"  skipped {count:,}: {reason}, e.g. {'; '.join(self.examples.get(reason, []))}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"name": self.name, "kept": self.kept, "skipped": dict(self.skipped),
                "examples": self.examples, "notes": self.notes}

    @classmethod
    def from_dict(cls, values: dict, strict: bool = False) -> LoadReport:
        report = cls(values["name"], strict=strict, kept=values["kept"], skipped=Counter(values["skipped"]),
                     examples=values["examples"], notes=values.get("notes", []))
        if strict and report.skipped:
            reason, _ = report.skipped.most_common(1)[0]
            raise DataError(f"{report.examples[reason][0]}: {reason} "
                            "(dataset.strict=true turns skips into errors)")
        return report
