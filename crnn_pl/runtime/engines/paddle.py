"""PaddlePaddle inference models (a folder written by the exporter), run with paddle.inference."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from crnn_pl.runtime.engines.base import Engine, ModelLoadError, Runner, first_line


def model_files(folder: Path) -> tuple[Path, Path]:
    """The program and parameter files paddle.jit.save wrote (PIR .json or legacy .pdmodel)."""
    params = sorted(folder.rglob("*.pdiparams"))
    programs = sorted(folder.rglob("*.json")) + sorted(folder.rglob("*.pdmodel"))
    programs = [p for p in programs if p.name != "card.json" and p.stem == params[0].stem] if params else []
    if not params or not programs:
        raise ModelLoadError(f"{folder}: no Paddle inference model (*.json or *.pdmodel + *.pdiparams)")
    return programs[0], params[0]


class PaddleEngine(Engine):
    def unavailable(self, device: str = "cpu") -> str | None:
        if importlib.util.find_spec("paddle") is None:
            return "needs paddlepaddle (pip install 'crnn_pl[paddle]')"
        return None

    def load(self, path: Path, device: str = "cpu") -> Runner:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*ccache.*")     # paddle's import-time notice
            import paddle.inference as paddle_infer

        program, params = model_files(path)
        config = paddle_infer.Config(str(program), str(params))
        if device == "cuda":
            config.enable_use_gpu(256, 0)
        else:
            config.disable_gpu()
        config.disable_glog_info()
        try:
            predictor = paddle_infer.create_predictor(config)
        except Exception as error:      # Paddle raises its own untyped errors for a damaged model
            raise ModelLoadError(f"{path}: not a readable Paddle model ({first_line(error)})") from None
        input_handle = predictor.get_input_handle(predictor.get_input_names()[0])
        output_handle = predictor.get_output_handle(predictor.get_output_names()[0])

        def run(images: np.ndarray) -> np.ndarray:
            input_handle.reshape(images.shape)
            input_handle.copy_from_cpu(np.ascontiguousarray(images))
            predictor.run()
            return output_handle.copy_to_cpu()

        return run
