"""Text metrics, computed in one place for every reader and report: exact word accuracy (the label
as written), acc36 (the benchmark protocol: case folded, letters and digits only), CER and 1-NED.

Pure Python: training (`crnn_pl.training.metrics`), `crnn-eval`, the benchmarks and the error
analysis all score a read with `WordScore.of`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALNUM36 = set("0123456789abcdefghijklmnopqrstuvwxyz")


def alnum36(text: str) -> str:
    """The standard benchmark comparison: case-insensitive, alphanumerics only."""
    return "".join(c for c in text.lower() if c in ALNUM36)


def matches36(prediction: str, label: str) -> bool:
    """Whether a read is right under the benchmark protocol (acc36)."""
    return alnum36(prediction) == alnum36(label)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, each costing one."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def one_minus_ned(prediction: str, label: str) -> float:
    """1 - normalised edit distance (ICDAR 2019's measure): 1 for a perfect read, 0 for nothing right."""
    longest = max(len(prediction), len(label))
    return 1.0 if longest == 0 else 1.0 - edit_distance(prediction, label) / longest


@dataclass(frozen=True)
class WordScore:
    """One read scored against its label."""

    exact: bool             # the label as written: case and punctuation count
    acc36: bool             # the benchmark protocol
    edits: int              # character edits from the label as written (CER's numerator)
    label_length: int       # CER's denominator
    ned: float              # 1 - normalised edit distance

    @classmethod
    def of(cls, prediction: str, label: str) -> WordScore:
        edits = edit_distance(prediction, label)
        longest = max(len(prediction), len(label))
        return cls(exact=prediction == label, acc36=matches36(prediction, label), edits=edits,
                   label_length=len(label), ned=1.0 if longest == 0 else 1.0 - edits / longest)


def summarize(scores: Iterable[WordScore]) -> dict[str, float]:
    """exact (word accuracy, as written), acc36, CER (edits over label characters) and 1-NED of many reads."""
    scores = list(scores)
    if not scores:
        raise ValueError("no reads to score")
    count = len(scores)
    return {"exact": sum(s.exact for s in scores) / count, "acc36": sum(s.acc36 for s in scores) / count,
            "cer": sum(s.edits for s in scores) / max(sum(s.label_length for s in scores), 1),
            "ned": sum(s.ned for s in scores) / count, "images": count}


def score_reads(predictions: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """`summarize` of predictions against their labels."""
    return summarize(WordScore.of(p, t) for p, t in zip(predictions, labels, strict=True))
