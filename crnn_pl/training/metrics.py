"""WordMetrics: the text metrics of `crnn_pl.core.metrics`, accumulated over a validation or test
epoch and synced across DDP ranks by torchmetrics."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import MeanMetric, Metric

from crnn_pl.core.metrics import WordScore


class CharacterErrorRate(Metric):
    """Character edits over label characters, summed over the epoch (not a mean of per-word rates)."""

    def __init__(self) -> None:
        super().__init__()
        self.add_state("edits", torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("characters", torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, edits: int, characters: int) -> None:
        self.edits += edits
        self.characters += characters

    def compute(self) -> torch.Tensor:
        return self.edits / self.characters.clamp(min=1)


class WordMetrics(torch.nn.Module):
    """acc (exact), acc36, CER and 1-NED of one stage: each read scored by `WordScore.of`."""

    def __init__(self) -> None:
        super().__init__()
        self.acc = MeanMetric()
        self.acc36 = MeanMetric()
        self.ned = MeanMetric()
        self.cer = CharacterErrorRate()

    def update(self, predictions: Sequence[str], labels: Sequence[str]) -> None:
        scores = [WordScore.of(p, t) for p, t in zip(predictions, labels, strict=True)]
        self.acc.update(torch.tensor([s.exact for s in scores], dtype=torch.float32))
        self.acc36.update(torch.tensor([s.acc36 for s in scores], dtype=torch.float32))
        self.ned.update(torch.tensor([s.ned for s in scores], dtype=torch.float32))
        self.cer.update(sum(s.edits for s in scores), sum(s.label_length for s in scores))

    def compute(self) -> dict[str, float]:
        return {"acc": float(self.acc.compute()), "acc36": float(self.acc36.compute()),
                "cer": float(self.cer.compute()), "ned": float(self.ned.compute())}
