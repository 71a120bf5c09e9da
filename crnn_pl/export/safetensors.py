"""safetensors: the weights and hyper-parameters, in a file that cannot run code. What fine-tuning
(`pretrained=`) and PyTorch reading take from a stranger; the shipped models' weights are one."""

from __future__ import annotations

from pathlib import Path

from crnn_pl.export.base import Trained, Writer
from crnn_pl.model.weights import write_safetensors


class SafetensorsWriter(Writer):
    name = "safetensors"
    tolerance = 0.0         # the same weights: PyTorch reads them back exactly

    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        write_safetensors(path, trained.model.state_dict(), trained.hparams)
