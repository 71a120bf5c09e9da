"""The one interface every backend implements, and the model card every export carries.

A backend writes a trained CRNN in its format (`export`) and runs such a file (`load`, giving a
`Runner`: float32 images (N, C, H, W) in, logits (N, T, classes) out, both numpy). Everything
else (preprocessing, decoding, verification, benchmarks) is shared and lives outside them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crnn_pl.charset import BLANK, Charset
from crnn_pl.data.preprocess import ImageSpec

if TYPE_CHECKING:     # reading an export needs no torch: only exporting does
    from torch import nn

CARD_KEY = "crnn_pl"            # ONNX metadata key, TorchScript extra file name stem
CARD_FILE = "card.json"         # written beside every export

Runner = Callable[[np.ndarray], np.ndarray]


class ExportError(RuntimeError):
    """An export that failed or whose outputs do not match PyTorch's."""


@dataclass(frozen=True)
class ModelCard:
    """What predicting needs besides the weights: the charset and the input the model expects."""

    charset: str
    case_sensitive: bool
    blank: int
    height: int
    width: int
    channels: int
    mean: float
    std: float
    read_max_width: int | None = None      # wide crops read at natural width up to this (None: squeezed)

    @classmethod
    def from_hparams(cls, hparams: dict) -> ModelCard:
        return cls(charset=hparams["charset"], case_sensitive=hparams["case_sensitive"], blank=BLANK,
                   height=hparams["height"], width=hparams["width"], channels=hparams["channels"],
                   mean=hparams["mean"], std=hparams["std"], read_max_width=hparams.get("read_max_width"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        return cls(**json.loads(text))

    @property
    def spec(self) -> ImageSpec:
        return ImageSpec(height=self.height, width=self.width, channels=self.channels,
                         mean=self.mean, std=self.std, max_read_width=self.read_max_width)

    def make_charset(self) -> Charset:
        return Charset(self.charset, self.case_sensitive)


class Backend(ABC):
    """One export format. Subclasses are small: write the file, run the file."""

    name: str               # "onnx"
    file_name: str          # "model.onnx", inside the export folder
    needs_onnx = False      # converted from the ONNX export rather than from PyTorch
    tolerance = 1e-3        # max |logit difference| to PyTorch accepted by verification
    word_tolerance = 0.0    # share of verification words that may read otherwise than PyTorch's

    def unavailable(self, device: str = "cpu") -> str | None:
        """Why this backend cannot run here (missing package or GPU), or None if it can."""
        return None

    @abstractmethod
    def export(self, model: nn.Module, card: ModelCard, path: Path, onnx_path: Path | None) -> None:
        """Write `model` (float32, eval mode, on CPU) to `path`."""

    @abstractmethod
    def load(self, path: Path, device: str = "cpu") -> Runner:
        """A callable running the exported file."""

    def read_card(self, path: Path) -> ModelCard:
        """The card travelling with an export; by default the card.json beside it."""
        for candidate in (path / CARD_FILE, path.parent / CARD_FILE):
            if candidate.is_file():
                return ModelCard.from_json(candidate.read_text(encoding="utf-8"))
        raise ExportError(f"{path}: no {CARD_FILE} beside it; re-export the model with crnn-export")
