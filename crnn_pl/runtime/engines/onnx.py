"""ONNX files (float32 and int8) run by ONNX Runtime; the card is read from the model's metadata
through ONNX Runtime itself, so reading needs no `onnx` package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from crnn_pl.core.card import CARD_KEY, ModelCard
from crnn_pl.runtime.engines.base import Engine, ModelLoadError, Runner, first_line


class OnnxEngine(Engine):
    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("onnxruntime") is None:
            return "needs the onnxruntime package (pip install crnn_pl)"
        return None

    def session(self, path: Path, device: str):
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ModelLoadError("device=cuda needs onnxruntime-gpu (pip install 'crnn_pl[gpu]') and a CUDA GPU")
            providers.insert(0, "CUDAExecutionProvider")
        try:
            return ort.InferenceSession(str(path), providers=providers)
        except Exception as error:      # onnxruntime raises its own untyped errors for bad files
            raise ModelLoadError(f"{path}: not a readable ONNX model ({first_line(error)})") from None

    def load(self, path: Path, device: str = "cpu") -> Runner:
        return self.open(path, device)[0]

    def read_card(self, path: Path) -> ModelCard:
        return self.open(path, "cpu")[1]

    def open(self, path: Path, device: str = "cpu") -> tuple[Runner, ModelCard]:
        session = self.session(path, device)
        inputs, outputs = [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]
        if "images" not in inputs or "logits" not in outputs:
            raise ModelLoadError(f"{path}: not a crnn_pl ONNX model (inputs {inputs}, outputs {outputs}; "
                                 "expected an input `images` and an output `logits`)")
        metadata = session.get_modelmeta().custom_metadata_map
        card = (ModelCard.from_json(metadata[CARD_KEY], f"{path} (metadata)") if CARD_KEY in metadata
                else super().read_card(path))

        def run(images):
            return session.run(["logits"], {"images": images})[0]

        return run, card
