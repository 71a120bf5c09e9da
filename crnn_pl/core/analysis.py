"""Error analysis of a model's reads: where accuracy falls (length, crop height, aspect ratio)
and which characters it confuses. Pure Python over (label, prediction, crop size) records, used
by scripts/bench_real.py; the comparison is the benchmark protocol (`alnum36`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from crnn_pl.core.metrics import alnum36, matches36, score_reads

# Bucket edges: (upper bound exclusive, name). The last bucket takes everything above.
LENGTH_BUCKETS = ((2, "1"), (4, "2-3"), (6, "4-5"), (9, "6-8"), (11, "9-10"), (None, "11+"))
HEIGHT_BUCKETS = ((16, "<16 px"), (24, "16-23 px"), (32, "24-31 px"), (48, "32-47 px"), (None, "48+ px"))
ASPECT_BUCKETS = ((1.0, "<1 (tall)"), (1.5, "1-1.5"), (3.0, "1.5-3"), (5.0, "3-5"), (None, "5+"))


@dataclass(frozen=True)
class Read:
    label: str
    prediction: str
    height: int
    width: int

    @property
    def correct(self) -> bool:
        return matches36(self.prediction, self.label)


def bucket(value: float, edges: Sequence[tuple[float | None, str]]) -> str:
    for upper, name in edges:
        if upper is None or value < upper:
            return name
    raise AssertionError("the last bucket has no upper bound")


def by_length(read: Read) -> str:
    return bucket(len(alnum36(read.label)), LENGTH_BUCKETS)


def by_height(read: Read) -> str:
    return bucket(read.height, HEIGHT_BUCKETS)


def by_aspect(read: Read) -> str:
    return bucket(read.width / max(read.height, 1), ASPECT_BUCKETS)


def breakdown(reads: Iterable[Read], key: Callable[[Read], str],
              edges: Sequence[tuple[float | None, str]]) -> list[tuple[str, int, float]]:
    """(bucket, count, acc36) for each bucket that holds reads, in the order of `edges`."""
    totals, right = Counter(), Counter()
    for read in reads:
        name = key(read)
        totals[name] += 1
        right[name] += read.correct
    return [(name, totals[name], right[name] / totals[name]) for _, name in edges if totals[name]]


def summary(reads: Sequence[Read]) -> dict[str, float]:
    """The text metrics of `crnn_pl.core.metrics` over these reads: exact, acc36, CER, 1-NED."""
    return score_reads([r.prediction for r in reads], [r.label for r in reads])


def alignment(prediction: str, label: str) -> list[tuple[str, str]]:
    """The (label character, predicted character) pairs of a minimal edit script; "" stands for a
    missing character (a deletion when in the prediction, an insertion when in the label)."""
    rows, cols = len(label) + 1, len(prediction) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1,
                             cost[i - 1][j - 1] + (label[i - 1] != prediction[j - 1]))
    pairs, i, j = [], len(label), len(prediction)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (label[i - 1] != prediction[j - 1]):
            pairs.append((label[i - 1], prediction[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((label[i - 1], ""))
            i -= 1
        else:
            pairs.append(("", prediction[j - 1]))
            j -= 1
    return pairs[::-1]


def confusions(reads: Iterable[Read], top: int = 20) -> list[tuple[str, str, int]]:
    """The most frequent character errors over alnum36 strings: (label char, read as, count)."""
    counts: Counter[tuple[str, str]] = Counter()
    for read in reads:
        for truth, guess in alignment(alnum36(read.prediction), alnum36(read.label)):
            if truth != guess:
                counts[truth, guess] += 1
    return [(truth, guess, n) for (truth, guess), n in counts.most_common(top)]
