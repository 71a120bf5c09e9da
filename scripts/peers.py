"""Peer recognizers to benchmark our CRNN against, on whole-word crops (one word per file).

RapidOcrRecognizer runs only the recognition stage of RapidOCR (no text detection, no angle
classifier): PaddleOCR's PP-OCRv4 recognizer `ch_PP-OCRv4_rec_infer.onnx` (Chinese + English
charset, 6,623 characters: all of [A-Za-z0-9] and ASCII punctuation) on onnxruntime. The ONNX
model ships inside the `rapidocr-onnxruntime` wheel; nothing is downloaded at run time.

Install it with the `bench` extra's pins, and without dependencies: the wheel asks for
opencv-python, which must not sit beside the project's opencv-python-headless:

    pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper==1.4.0 shapely==2.2.0

(pyclipper and shapely are only imported by the package's detector, but importing any part of
`rapidocr_onnxruntime` loads it.) Importing this module never needs the package.
`scripts/bench_backends.py` (`make bench`) runs it beside every crnn_pl backend, end to end.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

RAPIDOCR_PIN = "rapidocr-onnxruntime==1.4.4"
REC_MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"


def available() -> str | None:
    """Why RapidOcrRecognizer cannot run here, or None when it can."""
    for module, hint in (("rapidocr_onnxruntime", RAPIDOCR_PIN), ("pyclipper", "pyclipper"),
                         ("shapely", "shapely"), ("onnxruntime", "onnxruntime"), ("cv2", "opencv-python-headless")):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"{module} is not installed (pip install --no-deps {hint}; see the bench extra in pyproject.toml)"
    import rapidocr_onnxruntime  # lazy: the package is optional

    model = Path(rapidocr_onnxruntime.__file__).parent / REC_MODEL
    if not model.is_file():
        return f"{model} is missing from the installed rapidocr-onnxruntime"
    return None


def load_bgr(path: str | Path) -> np.ndarray:
    """A crop as an HxWx3 uint8 BGR array, as RapidOCR's own loader hands it to the recognizer."""
    import cv2

    image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot decode image {path}")
    return image


class RapidOcrRecognizer:
    """RapidOCR's PP-OCRv4 text recognizer alone, on whole-word crops.

    threads sets onnxruntime's intra_op_num_threads (inter-op is 1). Each batch of `batch_size`
    paths is one ONNX run, padded to the widest crop in it, exactly as RapidOCR batches crops.
    """

    name = "RapidOCR PP-OCRv4 rec (onnxruntime)"

    def __init__(self, threads: int = 2):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        import rapidocr_onnxruntime
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
        from rapidocr_onnxruntime.utils import read_yaml

        root = Path(rapidocr_onnxruntime.__file__).parent
        config = dict(read_yaml(root / "config.yaml")["Rec"])
        config.update(model_path=str(root / REC_MODEL), use_cuda=False, use_dml=False,
                      intra_op_num_threads=int(threads), inter_op_num_threads=1)
        self.threads = int(threads)
        self._rec = TextRecognizer(config)

    def read_images(self, images: Sequence[np.ndarray], batch_size: int = 1) -> list[tuple[str, float]]:
        """(text, mean per-character confidence) for each BGR crop, in order."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        out: list[tuple[str, float]] = []
        self._rec.rec_batch_num = batch_size
        for start in range(0, len(images), batch_size):
            results, _ = self._rec(list(images[start:start + batch_size]))
            out.extend((str(text), float(score)) for text, score in results)
        return out

    def read(self, paths: Sequence[str | Path], batch_size: int = 1) -> list[tuple[str, float]]:
        """(text, confidence) for each word-crop file, in order."""
        out: list[tuple[str, float]] = []
        for start in range(0, len(paths), batch_size):
            images = [load_bgr(p) for p in paths[start:start + batch_size]]
            out.extend(self.read_images(images, batch_size))
        return out
