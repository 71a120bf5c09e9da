"""TorchScript: the traced CRNN, runnable from C++ or Python without this package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crnn_pl.export.base import CARD_KEY, Backend, ModelCard, Runner

if TYPE_CHECKING:
    from torch import nn


class TorchScriptBackend(Backend):
    name = "torchscript"
    file_name = "model.pt"

    def export(self, model: nn.Module, card: ModelCard, path: Path, onnx_path: Path | None) -> None:
        import torch

        example = torch.zeros(2, card.channels, card.height, card.width)
        with torch.no_grad():
            traced = torch.jit.trace(model, example, check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={f"{CARD_KEY}.json": card.to_json()})

    def load(self, path: Path, device: str = "cpu") -> Runner:
        import torch

        module = torch.jit.load(str(path), map_location=device).eval()

        def run(images):
            with torch.no_grad():
                return module(torch.from_numpy(images).to(device)).float().cpu().numpy()

        return run

    def read_card(self, path: Path) -> ModelCard:
        import torch

        extra = {f"{CARD_KEY}.json": ""}
        torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
        return ModelCard.from_json(extra[f"{CARD_KEY}.json"])
