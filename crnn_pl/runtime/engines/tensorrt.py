"""TensorRT engines (built by the exporter from the ONNX file). Needs the `tensorrt` package (10.x)
and a CUDA GPU; elsewhere it says why it cannot run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from crnn_pl.runtime.engines.base import Engine, ModelLoadError, Runner


class TensorRTEngine(Engine):
    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("tensorrt") is None:
            return "needs the tensorrt package and a CUDA GPU"
        import torch  # device buffers; only once tensorrt is there

        if not torch.cuda.is_available():
            return "needs the tensorrt package and a CUDA GPU"
        return None

    def load(self, path: Path, device: str = "cuda") -> Runner:
        import tensorrt as trt
        import torch  # CUDA buffers and stream for the engine's inputs and outputs

        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        engine = runtime.deserialize_cuda_engine(path.read_bytes())
        if engine is None:
            raise ModelLoadError(f"{path}: not a TensorRT engine this TensorRT can read")
        context = engine.create_execution_context()
        stream = torch.cuda.Stream()

        def run(images: np.ndarray) -> np.ndarray:
            inputs = torch.from_numpy(images).cuda()
            context.set_input_shape("images", tuple(inputs.shape))
            logits = torch.empty(tuple(context.get_tensor_shape("logits")), dtype=torch.float32, device="cuda")
            context.set_tensor_address("images", inputs.data_ptr())
            context.set_tensor_address("logits", logits.data_ptr())
            if not context.execute_async_v3(stream.cuda_stream):
                raise ModelLoadError(f"TensorRT failed to run {path}")
            stream.synchronize()
            return logits.cpu().numpy()

        return run
