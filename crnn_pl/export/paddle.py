"""PaddlePaddle: converted from the ONNX export with x2paddle (read by crnn_pl.runtime.engines.paddle).

x2paddle 1.6 predates onnx 1.23; three things make it work (found on this project's machines):
- `import onnx.version` before it, and a stand-in for the removed `onnx.mapping` module;
- MaxPool nodes carrying `dilations=[1, 1]` are rejected: all-ones dilations are dropped first;
- its command line silently does nothing with onnx 1.23, so its Python API is called instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import types
import warnings
from pathlib import Path

from crnn_pl.core.card import CARD_FILE
from crnn_pl.export.base import Trained, Writer
from crnn_pl.runtime.engines.paddle import model_files


def install_onnx_mapping_shim() -> None:
    """Provide `onnx.mapping`, removed in onnx 1.17+, from its successor `onnx.helper`."""
    import onnx
    import onnx.helper
    import onnx.version  # noqa: F401  (x2paddle reads onnx.version.version)

    if "onnx.mapping" in sys.modules:
        return
    mapping = types.ModuleType("onnx.mapping")
    types_by_id = {int(v): v for v in onnx.TensorProto.DataType.values()}
    tensor_to_np = {}
    for data_type in types_by_id:
        with contextlib.suppress(Exception):
            tensor_to_np[data_type] = onnx.helper.tensor_dtype_to_np_dtype(data_type)
    mapping.TENSOR_TYPE_TO_NP_TYPE = tensor_to_np
    mapping.NP_TYPE_TO_TENSOR_TYPE = {v: k for k, v in tensor_to_np.items()}
    sys.modules["onnx.mapping"] = mapping
    onnx.mapping = mapping


def strip_unit_dilations(graph) -> None:
    """Drop `dilations` attributes that are all ones (the default), which x2paddle rejects."""
    for node in graph.graph.node:
        kept = [a for a in node.attribute if not (a.name == "dilations" and all(d == 1 for d in a.ints))]
        if len(kept) != len(node.attribute):
            del node.attribute[:]
            node.attribute.extend(kept)


@contextlib.contextmanager
def output_to(log_file: Path):
    """Send this process's stdout and stderr (Python and C++ alike) to a file for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_file, "w") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


class PaddleWriter(Writer):
    """A folder: inference_model/model.{json,pdiparams} + card.json."""

    name = "paddle"
    needs_onnx = True

    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("x2paddle") is None:
            return "writing Paddle needs x2paddle (pip install 'crnn_pl[paddle]')"
        return super().unavailable(device)

    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        import onnx

        install_onnx_mapping_shim()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*ccache.*")     # paddle's import-time notice
            from x2paddle.convert import onnx2paddle

        graph = onnx.load(str(onnx_path))
        strip_unit_dilations(graph)
        with tempfile.TemporaryDirectory() as scratch:
            cleaned = Path(scratch) / "model.onnx"
            onnx.save(graph, str(cleaned))
            path.mkdir(parents=True, exist_ok=True)
            with output_to(path / "x2paddle.log"):     # keep its chatter out of our one line per format
                onnx2paddle(str(cleaned), str(path), convert_to_lite=False, disable_feedback=True)
        model_files(path)   # raises if x2paddle wrote nothing
        (path / CARD_FILE).write_text(trained.card.to_json(), encoding="utf-8")
