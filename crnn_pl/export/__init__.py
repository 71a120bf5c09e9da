"""Export a trained CRNN to every backend, verify each against PyTorch, and run any of them.

One module per backend behind `crnn_pl.export.base.Backend`; `BACKENDS` names them all.
"""

from crnn_pl.export.base import Backend, ExportError, ModelCard
from crnn_pl.export.checkpoint_backend import CheckpointBackend
from crnn_pl.export.onnx_backend import OnnxBackend
from crnn_pl.export.onnx_int8_backend import OnnxInt8Backend
from crnn_pl.export.paddle_backend import PaddleBackend
from crnn_pl.export.tensorrt_backend import TensorRTBackend
from crnn_pl.export.torchscript_backend import TorchScriptBackend

BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (CheckpointBackend(), TorchScriptBackend(), OnnxBackend(), OnnxInt8Backend(), PaddleBackend(),
                    TensorRTBackend())
}
EXPORT_FORMATS = ("torchscript", "onnx", "onnx_int8", "paddle", "tensorrt")

# Double suffixes first: "model.int8.onnx" is also "*.onnx".
SUFFIXES = {".int8.onnx": "onnx_int8", ".ckpt": "ckpt", ".pt": "torchscript", ".onnx": "onnx", ".engine": "tensorrt"}


def format_of(path) -> str:
    """The backend a path is for: by suffix, or a folder holding a Paddle model."""
    from pathlib import Path

    path = Path(path)
    for suffix, name in SUFFIXES.items():
        if path.name.endswith(suffix):
            return name
    if path.is_dir():
        return "paddle"
    raise ExportError(f"{path}: cannot tell the format from the name; pass export_format=")


__all__ = ["BACKENDS", "EXPORT_FORMATS", "Backend", "ExportError", "ModelCard", "format_of"]
