"""TensorRT: an engine built from the ONNX export, with a profile over batch and width
(read by crnn_pl.runtime.engines.tensorrt).

Needs the `tensorrt` package (10.x) and a CUDA GPU; elsewhere the exporter skips it and says why.
"""

from __future__ import annotations

from pathlib import Path

from crnn_pl.export.base import ExportError, Trained, Writer


class TensorRTWriter(Writer):
    name = "tensorrt"
    needs_onnx = True
    tolerance = 5e-2            # FP16 kernels; the decoded text must still agree exactly

    def __init__(self, fp16: bool = True, max_batch: int = 64, max_width: int = 400) -> None:
        self.fp16, self.max_batch, self.max_width = fp16, max_batch, max_width
        if not fp16:
            self.tolerance = 1e-3

    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        import tensorrt as trt

        card = trained.card
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
