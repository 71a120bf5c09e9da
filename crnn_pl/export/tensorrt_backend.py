"""TensorRT: an engine built from the ONNX export, with a profile over batch and width.

Needs the `tensorrt` package (10.x) and a CUDA GPU; elsewhere the exporter skips it and says why.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crnn_pl.export.base import Backend, ExportError, ModelCard, Runner

if TYPE_CHECKING:
    from torch import nn


class TensorRTBackend(Backend):
    name = "tensorrt"
    file_name = "model.engine"
    needs_onnx = True
    tolerance = 5e-2            # FP16 kernels; the decoded text must still agree exactly

    def __init__(self, fp16: bool = True, max_batch: int = 64, max_width: int = 400) -> None:
        self.fp16, self.max_batch, self.max_width = fp16, max_batch, max_width
        if not fp16:
            self.tolerance = 1e-3

    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("tensorrt") is None:
            return "needs the tensorrt package and a CUDA GPU"
        import torch  # device buffers; only once tensorrt is there

        if not torch.cuda.is_available():
            return "needs the tensorrt package and a CUDA GPU"
        return None

    def export(self, model: nn.Module, card: ModelCard, path: Path, onnx_path: Path | None) -> None:
        import tensorrt as trt

        logger = trt.Logger(trt.Logger.WARNING)
        builder = trt.Builder(logger)
        network = builder.create_network(0)     # explicit batch is the only mode in TensorRT 10
        parser = trt.OnnxParser(network, logger)
        if not parser.parse(Path(onnx_path).read_bytes()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise ExportError(f"TensorRT cannot parse {onnx_path}: {errors}")
        config = builder.create_builder_config()
        if self.fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        profile = builder.create_optimization_profile()
        c, h = card.channels, card.height
        profile.set_shape("images", (1, c, h, 16), (self.max_batch // 2, c, h, card.width),
                          (self.max_batch, c, h, self.max_width))
        config.add_optimization_profile(profile)
        engine = builder.build_serialized_network(network, config)
        if engine is None:
            raise ExportError(f"TensorRT could not build an engine from {onnx_path}")
        path.write_bytes(bytes(engine))

    def load(self, path: Path, device: str = "cuda") -> Runner:
        import tensorrt as trt
        import torch  # CUDA buffers and stream for the engine's inputs and outputs

        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        engine = runtime.deserialize_cuda_engine(path.read_bytes())
        context = engine.create_execution_context()
        stream = torch.cuda.Stream()

        def run(images: np.ndarray) -> np.ndarray:
            inputs = torch.from_numpy(images).cuda()
            context.set_input_shape("images", tuple(inputs.shape))
            logits = torch.empty(tuple(context.get_tensor_shape("logits")), dtype=torch.float32, device="cuda")
            context.set_tensor_address("images", inputs.data_ptr())
            context.set_tensor_address("logits", logits.data_ptr())
            if not context.execute_async_v3(stream.cuda_stream):
                raise ExportError(f"TensorRT failed to run {path}")
            stream.synchronize()
            return logits.cpu().numpy()

        return run
