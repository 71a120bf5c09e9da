"""CTC and focal CTC over per-frame scores, always computed in float32.

CTC sums path probabilities over many frames: in half precision the log-sum-exp overflows or
underflows, so the losses leave autocast and upcast their input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from crnn_pl.core.charset import BLANK


class CTCLoss(nn.Module):
    """Mean over the batch of per-sample CTC divided by target length (PyTorch's 'mean')."""

    def __init__(self, blank: int = BLANK) -> None:
        super().__init__()
        self.blank = blank

    def per_sample(self, logits: torch.Tensor, targets: torch.Tensor,
                   input_lengths: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
        """logits: (N, T, C) raw scores. Returns the (N,) negative log-likelihoods."""
        with torch.autocast(device_type=logits.device.type, enabled=False):
            log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # T, N, C
            return F.ctc_loss(log_probs, targets, input_lengths, target_lengths,
                              blank=self.blank, reduction="none", zero_infinity=True)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                input_lengths: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
        losses = self.per_sample(logits, targets, input_lengths, target_lengths)
        return (losses / target_lengths.clamp(min=1).to(losses.dtype)).mean()


class FocalCTCLoss(CTCLoss):
    """Focal CTC (Feng et al. 2019): alpha * (1 - p)^gamma * L with p = exp(-L) per sample.

    Easy words (p near 1) contribute little, so training spends its gradient on hard ones.
    At alpha=1, gamma=0 it is exactly `CTCLoss`.
    """

    def __init__(self, alpha: float = 0.5, gamma: float = 2.0, blank: int = BLANK) -> None:
        super().__init__(blank)
        self.alpha = alpha
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                input_lengths: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
        losses = self.per_sample(logits, targets, input_lengths, target_lengths)
        weights = self.alpha * (1.0 - torch.exp(-losses)) ** self.gamma
        focal = weights * losses
        return (focal / target_lengths.clamp(min=1).to(focal.dtype)).mean()


def build_loss(name: str, alpha: float = 0.5, gamma: float = 2.0) -> CTCLoss:
    if name == "ctc":
        return CTCLoss()
    if name == "focal_ctc":
        return FocalCTCLoss(alpha=alpha, gamma=gamma)
    raise ValueError(f"unknown loss {name!r}; choose 'ctc' or 'focal_ctc'")
