"""ONNX quantized to int8 by ONNX Runtime's static quantization, converted from the fp32 ONNX export.

Convolutions and the classifier run in int8 (QDQ format: int8 weights per output channel, uint8
activations whose ranges are calibrated on word images); ONNX Runtime's static quantization has
no int8 LSTM, so the two LSTMs stay float32. QDQ is what other execution providers take; weight
scales per channel suit the folded BatchNorm's very different channel ranges.

Not done: quantizing the LSTMs dynamically as well (quantize_dynamic) is faster still, but scales
each batch's activations by that batch's own range, so a crop's read would depend on the crops
batched with it. Static ranges read every crop the same in any batch. The measurements behind
these choices: docs/decisions.md.
"""

from __future__ import annotations

import contextlib
import glob
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from crnn_pl.core.card import ModelCard
from crnn_pl.export.base import ExportError, Trained
from crnn_pl.export.onnx import OnnxWriter, save_with_card

# Calibration knobs. They are constants rather than conf/export options because the export config
# has no per-backend settings: every format is written by one `export_checkpoint(formats, images)`.
# Fewer words leave activation ranges too narrow, more read no better and take longer; MinMax ranges,
# since percentile ranges clip real crops' outliers (docs/decisions.md). The seed is not the
# verification words' (2024): verifying on the words it was calibrated on would flatter the model.
CALIBRATION_IMAGES = 64
CALIBRATION_SEED = 7
CALIBRATION_BATCH = 16          # bounds memory only: MinMax ranges do not depend on it


class OnnxInt8Writer(OnnxWriter):
    """The fp32 ONNX file quantized by `quantize`; read by the same ONNX engine."""

    name = "onnx_int8"
    needs_onnx = True
    # int8 is lossy by design: a few reads differ from fp32's, mostly words fp32 itself is unsure of,
    # so requiring every word would fail good exports; these bounds still catch a broken one
    # (docs/decisions.md).
    tolerance = 3.0
    word_tolerance = 0.12

    def __init__(self, calibration: str | Path | None = None) -> None:
        self.calibration = calibration      # a folder or glob of word crops to calibrate on; None: rendered words

    def export(self, trained: Trained, path: Path, onnx_path: Path | None) -> None:
        if onnx_path is None:
            raise ExportError("onnx_int8 is converted from the ONNX export; export onnx first")
        quantize(onnx_path, path, trained.card, calibration_images(trained.card, self.calibration))


def calibration_images(card: ModelCard, source: str | Path | None = None,
                       count: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED) -> np.ndarray:
    """Model inputs (N, C, H, W) to calibrate activation ranges on: `count` crops drawn (seeded) from
    the files of a folder or glob `source`, skipping files that are not images, else rendered words."""
    from crnn_pl.core.preprocess import prepare

    if source is None:
        from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
        from crnn_pl.model.crnn import CRNN

        settings = RenderSettings.from_config({"max_length": min(10, CRNN.num_frames(card.width) - 1)})
        renderer = WordRenderer(card.make_charset(), settings)
        return np.stack([prepare(image, card.spec) for image, _ in renderer.samples(count, seed)])
    files = sorted(Path(source).iterdir()) if Path(source).is_dir() else sorted(map(Path, glob.glob(str(source))))
    inputs = []
    for index in np.random.default_rng(seed).permutation(len(files)):
        with contextlib.suppress(ValueError):      # gt.txt and other files beside the crops
            inputs.append(prepare(files[index], card.spec))
        if len(inputs) == count:
            break
    if not inputs:
        raise ExportError(f"{source}: no word images to calibrate on")
    return np.stack(inputs)


def quantize(onnx_path: Path, path: Path, card: ModelCard, images: np.ndarray,
             batch_size: int = CALIBRATION_BATCH) -> None:
    """Write the fp32 ONNX model at `onnx_path` as int8 to `path`, calibrated on `images`."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches: Iterator[np.ndarray] = (images[i:i + batch_size] for i in range(0, len(images), batch_size))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {"images": np.ascontiguousarray(batch, dtype=np.float32)}

    with quiet_root_logger():
        # reduce_range: 7-bit weights, so CPUs without VNNI (AVX2's u8 x s8 products saturate in 16
        # bits) read as CPUs with it do (docs/decisions.md, int8 export)
        quantize_static(str(onnx_path), str(path), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, reduce_range=True)
    save_with_card(onnx.load(str(path)), card, path)


@contextlib.contextmanager
def quiet_root_logger():
    """ONNX Runtime's quantization tools advise running their pre-processing (shape inference and
    graph fusions; it changes nothing for this network) on the root logger at WARNING, twice per
    call: keep that out of the export's output. Errors still show."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
