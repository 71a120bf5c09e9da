"""The one interface every engine implements: open a model file, giving a `Runner` (float32 images
(N, C, H, W) in, logits (N, T, classes) out, both numpy) and the model card it carries.

Engines only read. Writing a format is the exporter's job (crnn_pl.export), so a deployed reader
imports no exporter and no trainer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import numpy as np

from crnn_pl.core.card import CARD_FILE, ModelCard
from crnn_pl.core.errors import UserError

Runner = Callable[[np.ndarray], np.ndarray]


class ModelLoadError(UserError, RuntimeError):
    """A model file that cannot be read here: missing, refused, of an unknown format, or needing a
    package or device this machine lacks."""


def first_line(error: BaseException) -> str:
    """An exception's message for a one-line error: its first line, cut short."""
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:160]


class Engine(ABC):
    def unavailable(self, device: str = "cpu") -> str | None:
        """Why this engine cannot run here (missing package or GPU), or None if it can."""
        return None

    @abstractmethod
    def load(self, path: Path, device: str = "cpu") -> Runner:
        """A callable running the model file."""

    def read_card(self, path: Path) -> ModelCard:
        """The card travelling with the file; by default the card.json beside it."""
        for candidate in (path / CARD_FILE, path.parent / CARD_FILE):
            if candidate.is_file():
                return ModelCard.from_json(candidate.read_text(encoding="utf-8"), str(candidate))
        raise ModelLoadError(f"{path}: no {CARD_FILE} beside it; re-export the model with crnn-export")

    def open(self, path: Path, device: str = "cpu") -> tuple[Runner, ModelCard]:
        """The runner and the card (engines that can read both at once override this)."""
        return self.load(path, device), self.read_card(path)
