"""ONNX with dynamic batch and width, for ONNX Runtime (crnn_pl.runtime.engines.onnx reads it).

The TorchScript-based exporter (`dynamo=False`) keeps the LSTM's sequence length dynamic;
the dynamo exporter and torch.export specialise it to the example's width.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

from crnn_pl.core.card import CARD_KEY, ModelCard
from crnn_pl.export.base import Trained, Writer

OPSET = 17


class OnnxWriter(Writer):
    name = "onnx"

    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("onnx") is None:
            return "writing ONNX needs the onnx package (pip install 'crnn_pl[export]')"
        return super().unavailable(device)

    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        import onnx
        import torch

        card = trained.card
        example = torch.zeros(1, card.channels, card.height, card.width)
        with warnings.catch_warnings():
            # It warns that an LSTM with a dynamic batch axis may not generalise across batch
            # sizes; verification runs batches of 1 and 8 at two widths to prove it does.
            warnings.filterwarnings("ignore", message=".*variable length with LSTM.*")
            torch.onnx.export(
                trained.model, (example,), str(path), dynamo=False, opset_version=OPSET,
                input_names=["images"], output_names=["logits"],
                dynamic_axes={"images": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "frames"}},
            )
        save_with_card(onnx.load(str(path)), card, path)


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
