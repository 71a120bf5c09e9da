"""PyTorch eager: a live `nn.Module` (a CRNNModule being trained or read in a notebook) or the
weights of a checkpoint or .safetensors file (never unpickling code: crnn_pl.model.weights)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from crnn_pl.core.card import ModelCard
from crnn_pl.runtime.engines.base import Engine, ModelLoadError, Runner

if TYPE_CHECKING:
    from torch import nn


def module_runner(model: nn.Module, device: str | None = None) -> Runner:
    """Run a live module on numpy batches, on its own device unless told otherwise."""
    import torch

    def run(images):
        target = device or next(model.parameters()).device
        with torch.no_grad():
            return model(torch.from_numpy(images).to(target)).float().cpu().numpy()

    return run


class TorchWeightsEngine(Engine):
    """A Lightning checkpoint (.ckpt) or safetensors weights, read by PyTorch."""

    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("torch") is None:
            return "needs PyTorch (pip install 'crnn_pl[train]'); or read an exported .onnx file"
        if device == "cuda":
            import torch

            if not torch.cuda.is_available():
                return "device=cuda needs a CUDA GPU"
        return None

    def open(self, path: Path, device: str = "cpu") -> tuple[Runner, ModelCard]:
        from crnn_pl.model.weights import ModelFileError, UnsafeModelError, load_crnn

        try:
            model, hparams = load_crnn(path)
        except (UnsafeModelError, ModelFileError) as error:
            raise ModelLoadError(str(error)) from None
        return module_runner(model.to(device), device), ModelCard.from_hparams(hparams, str(path))

    def load(self, path: Path, device: str = "cpu") -> Runner:
        return self.open(path, device)[0]

    def read_card(self, path: Path) -> ModelCard:
        return self.open(path, "cpu")[1]
