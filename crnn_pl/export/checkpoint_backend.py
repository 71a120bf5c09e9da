"""A Lightning checkpoint behind the same interface, so predict, eval and bench treat PyTorch
eager as one more backend (the reference the others are compared with)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crnn_pl.export.base import Backend, ExportError, ModelCard, Runner

if TYPE_CHECKING:
    from torch import nn


def load_module(path: Path, device: str = "cpu"):
    from crnn_pl.module import CRNNModule

    return CRNNModule.load_from_checkpoint(str(path), map_location=device).eval()


class CheckpointBackend(Backend):
    name = "ckpt"
    file_name = "model.ckpt"

    def export(self, model: nn.Module, card: ModelCard, path: Path, onnx_path: Path | None) -> None:
        raise ExportError("checkpoints are written by training, not exported")

    def load(self, path: Path, device: str = "cpu") -> Runner:
        import torch

        model = load_module(path, device).model

        def run(images):
            with torch.no_grad():
                return model(torch.from_numpy(images).to(device)).float().cpu().numpy()

        return run

    def read_card(self, path: Path) -> ModelCard:
        import torch

        checkpoint = torch.load(str(path), map_location="cpu", weights_only=False)
        return ModelCard.from_hparams(checkpoint["hyper_parameters"])
