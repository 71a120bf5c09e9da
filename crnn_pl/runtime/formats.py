"""The one registry of model formats: how a file is recognised, which engine reads it, which writer
(crnn_pl.export) writes it. Engines and writers are named, not imported, so reading an ONNX file
imports neither torch nor the exporters.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from crnn_pl.runtime.engines.base import Engine, ModelLoadError


@dataclass(frozen=True)
class Format:
    name: str                   # what export.formats= and --format take
    file_name: str              # inside an export folder
    suffix: str | None          # recognised at the end of a file name (None: a folder)
    engine: str                 # "module:Class" under crnn_pl.runtime.engines
    writer: str | None = None   # "module:Class" under crnn_pl.export (None: not written by crnn-export)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("ckpt", "model.ckpt", ".ckpt", "torch_module:TorchWeightsEngine"),
    Format("safetensors", "model.safetensors", ".safetensors", "torch_module:TorchWeightsEngine",
           "safetensors:SafetensorsWriter"),
    Format("torchscript", "model.pt", ".pt", "torchscript:TorchScriptEngine", "torchscript:TorchScriptWriter"),
    Format("onnx", "model.onnx", ".onnx", "onnx:OnnxEngine", "onnx:OnnxWriter"),
    Format("onnx_int8", "model.int8.onnx", ".int8.onnx", "onnx:OnnxEngine", "onnx_int8:OnnxInt8Writer"),
    Format("paddle", "paddle", None, "paddle:PaddleEngine", "paddle:PaddleWriter"),
    Format("tensorrt", "model.engine", ".engine", "tensorrt:TensorRTEngine", "tensorrt:TensorRTWriter"),
)}
EXPORT_FORMATS = tuple(name for name, f in FORMATS.items() if f.writer)


def import_named(package: str, target: str):
    module, name = target.split(":")
    return getattr(importlib.import_module(f"{package}.{module}"), name)


@cache
def engine(name: str) -> Engine:
    if name not in FORMATS:
        raise ModelLoadError(f"unknown model format {name!r}; choose one of {sorted(FORMATS)}")
    return import_named("crnn_pl.runtime.engines", FORMATS[name].engine)()


def format_of(path: str | Path) -> str:
    """The format a path is in: by suffix (the longest that matches), or a folder holding a Paddle model."""
    path = Path(path)
    by_length = sorted((f for f in FORMATS.values() if f.suffix), key=lambda f: -len(f.suffix))
    for candidate in by_length:
        if path.name.endswith(candidate.suffix):
            return candidate.name
    if path.is_dir():
        return "paddle"
    raise ModelLoadError(f"{path}: cannot tell the model format from its name "
                         f"({', '.join(f.suffix for f in by_length)} or a Paddle folder); pass the format")
