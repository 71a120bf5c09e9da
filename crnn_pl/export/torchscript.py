"""TorchScript: the traced CRNN, runnable from C++ or Python without this package."""

from __future__ import annotations

from pathlib import Path

from crnn_pl.core.card import CARD_KEY
from crnn_pl.export.base import Trained, Writer


class TorchScriptWriter(Writer):
    name = "torchscript"

    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        import torch

        card = trained.card
        example = torch.zeros(2, card.channels, card.height, card.width)
        with torch.no_grad():
            traced = torch.jit.trace(trained.model, example, check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={f"{CARD_KEY}.json": card.to_json()})
