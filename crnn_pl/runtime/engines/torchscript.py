"""TorchScript files: the traced CRNN, runnable from C++ or Python without this package. A
TorchScript archive holds TorchScript code (the traced graph, which cannot call Python) and is
loaded by PyTorch's own restricted reader."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from crnn_pl.core.card import CARD_KEY, ModelCard
from crnn_pl.runtime.engines.base import Engine, ModelLoadError, Runner, first_line
from crnn_pl.runtime.engines.torch_module import module_runner


class TorchScriptEngine(Engine):
    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("torch") is None:
            return "needs PyTorch (pip install 'crnn_pl[train]'); or read an exported .onnx file"
        return None

    def open(self, path: Path, device: str = "cpu") -> tuple[Runner, ModelCard]:
        import torch

        extra = {f"{CARD_KEY}.json": ""}
        try:
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra).eval()
        except Exception as error:     # PyTorch's reader raises several kinds for a damaged archive
            raise ModelLoadError(f"{path}: not a TorchScript file ({first_line(error)})") from None
        return module_runner(module, device), ModelCard.from_json(extra[f"{CARD_KEY}.json"], str(path))

    def load(self, path: Path, device: str = "cpu") -> Runner:
        return self.open(path, device)[0]

    def read_card(self, path: Path) -> ModelCard:
        return self.open(path, "cpu")[1]
