"""The one interface every writer implements, and what it writes from.

A writer puts a trained CRNN in its format (`export`); reading the file back is its format's
engine's job (crnn_pl.runtime), which verification uses like every reader does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from crnn_pl.core.card import ModelCard
from crnn_pl.core.errors import UserError
from crnn_pl.runtime.formats import EXPORT_FORMATS, FORMATS, engine, import_named

if TYPE_CHECKING:
    from torch import nn


class ExportError(UserError, RuntimeError):
    """An export that failed or whose outputs do not match PyTorch's."""


@dataclass(frozen=True)
class Trained:
    """What every writer writes from: the network (float32, eval mode, on CPU) and the
    hyper-parameters that describe it (its card among them)."""

    model: nn.Module
    hparams: dict

    @property
    def card(self) -> ModelCard:
        return ModelCard.from_hparams(self.hparams)


class Writer(ABC):
    """One export format. Subclasses are small: write the file."""

    name: str               # a key of crnn_pl.runtime.formats.FORMATS
    needs_onnx = False      # converted from the ONNX export rather than from PyTorch
    tolerance = 1e-3        # max |logit difference| to PyTorch accepted by verification
    word_tolerance = 0.0    # share of verification words that may read otherwise than PyTorch's

    @property
    def file_name(self) -> str:
        return FORMATS[self.name].file_name

    def unavailable(self, device: str = "cpu") -> str | None:
        """Why this format cannot be written and verified here, or None if it can."""
        return engine(self.name).unavailable(device)

    @abstractmethod
    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        """Write `trained.model` to `path`."""


@cache
def writer(name: str) -> Writer:
    if name not in EXPORT_FORMATS:
        raise ExportError(f"cannot export to {name!r}; choose from {list(EXPORT_FORMATS)}")
    return import_named("crnn_pl.export", FORMATS[name].writer)()
