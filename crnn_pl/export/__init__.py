"""Export a trained CRNN to every backend, verify each against PyTorch, and run any of them.

One module per backend behind `crnn_pl.export.base.Backend`; `BACKENDS` names them all.
"""

from crnn_pl.export.base import Backend, ExportError, ModelCard
from crnn_pl.export.checkpoint_backend import CheckpointBackend
from crnn_pl.export.onnx_backend import OnnxBackend
from crnn_pl.export.paddle_backend import PaddleBackend
from crnn_pl.export.tensorrt_backend import TensorRTBackend
from crnn_pl.export.torchscript_backend import TorchScriptBackend

BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (CheckpointBackend(), TorchScriptBackend(), OnnxBackend(), PaddleBackend(), TensorRTBackend())
}
EXPORT_FORMATS = ("torchscript", "onnx", "paddle", "tensorrt")

SUFFIXES = {".ckpt": "ckpt", ".pt": "torchscript", ".onnx": "onnx", ".engine": "tensorrt"}


def format_of(path) -> str:
    """The backend a path is for: by suffix, or a folder holding a Paddle model."""
    from pathlib import Path

    path = Path(path)
    if path.suffix in SUFFIXES:
        return SUFFIXES[path.suffix]
    if path.is_dir():
        return "paddle"
    raise ExportError(f"{path}: cannot tell the format from the name; pass export_format=")


__all__ = ["BACKENDS", "EXPORT_FORMATS", "Backend", "ExportError", "ModelCard", "format_of"]
