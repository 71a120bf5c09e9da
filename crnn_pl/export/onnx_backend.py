"""ONNX with dynamic batch and width, run by ONNX Runtime.

The TorchScript-based exporter (`dynamo=False`) keeps the LSTM's sequence length dynamic;
the dynamo exporter and torch.export specialise it to the example's width.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from crnn_pl.export.base import CARD_KEY, Backend, ExportError, ModelCard, Runner

if TYPE_CHECKING:
    from torch import nn

OPSET = 17


class OnnxBackend(Backend):
    name = "onnx"
    file_name = "model.onnx"

    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxruntime") is None:
            return "needs the onnx and onnxruntime packages (pip install -e .[export])"
        return None

    def export(self, model: nn.Module, card: ModelCard, path: Path, onnx_path: Path | None) -> None:
        import onnx
        import torch

        example = torch.zeros(1, card.channels, card.height, card.width)
        with warnings.catch_warnings():
            # It warns that an LSTM with a dynamic batch axis may not generalise across batch
            # sizes; verification runs batches of 1 and 8 at two widths to prove it does.
            warnings.filterwarnings("ignore", message=".*variable length with LSTM.*")
            torch.onnx.export(
                model, (example,), str(path), dynamo=False, opset_version=OPSET,
                input_names=["images"], output_names=["logits"],
                dynamic_axes={"images": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "frames"}},
            )
        save_with_card(onnx.load(str(path)), card, path)

    def load(self, path: Path, device: str = "cpu") -> Runner:
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ExportError("device=cuda needs onnxruntime-gpu (pip install -e .[gpu]) and a CUDA GPU")
            providers.insert(0, "CUDAExecutionProvider")
        session = ort.InferenceSession(str(path), providers=providers)

        def run(images):
            return session.run(["logits"], {"images": images})[0]

        return run

    def read_card(self, path: Path) -> ModelCard:
        import onnx

        graph = onnx.load(str(path), load_external_data=False)
        for entry in graph.metadata_props:
            if entry.key == CARD_KEY:
                return ModelCard.from_json(entry.value)
        return super().read_card(path)


def save_with_card(graph, card: ModelCard, path: Path) -> None:
    """Check an ONNX model and save it to `path` with the card in its metadata."""
    import onnx

    kept = [entry for entry in graph.metadata_props if entry.key != CARD_KEY]
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    entry = graph.metadata_props.add()
    entry.key, entry.value = CARD_KEY, card.to_json()
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))
