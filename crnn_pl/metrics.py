"""Word-recognition metrics: exact word accuracy, the alnum36 benchmark protocol, CER and 1-NED."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import MeanMetric
from torchmetrics.text import CharErrorRate

ALNUM36 = set("0123456789abcdefghijklmnopqrstuvwxyz")


def alnum36(text: str) -> str:
    """The standard benchmark comparison: case-insensitive, alphanumerics only."""
    return "".join(c for c in text.lower() if c in ALNUM36)


class WordMetrics(torch.nn.Module):
    """Word accuracy, alnum36 accuracy, CER and 1-NED for one stage, synced across DDP ranks."""

    def __init__(self) -> None:
        super().__init__()
        self.acc = MeanMetric()
        self.acc36 = MeanMetric()
        self.cer = CharErrorRate()
        self.ned = MeanMetric()

    def update(self, predictions: Sequence[str], labels: Sequence[str]) -> None:
        exact = torch.tensor([p == t for p, t in zip(predictions, labels, strict=True)], dtype=torch.float32)
        folded = torch.tensor(
            [alnum36(p) == alnum36(t) for p, t in zip(predictions, labels, strict=True)], dtype=torch.float32)
        self.acc.update(exact)
        self.acc36.update(folded)
        self.cer.update(list(predictions), list(labels))
        self.ned.update(torch.tensor([one_minus_ned(p, t) for p, t in zip(predictions, labels, strict=True)]))

    def compute(self) -> dict[str, float]:
        return {"acc": float(self.acc.compute()), "acc36": float(self.acc36.compute()),
                "cer": float(self.cer.compute()), "ned": float(self.ned.compute())}


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
