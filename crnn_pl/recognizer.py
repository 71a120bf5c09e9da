"""Read word images with any backend: a checkpoint or any exported file, the same way.

    Recognizer("exports/model.onnx").read(["word_1.png"])  ->  [("genaxis", 0.98)]

The model card travelling with the file gives the charset and the input spec, so nothing but
the file is needed; images go through the one preprocessing and greedy CTC decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from crnn_pl.data.preprocess import ImageInput, ImageSpec, preprocess_batch
from crnn_pl.export import BACKENDS, ExportError, format_of


class Recognizer:
    def __init__(self, path: str | Path, export_format: str | None = None, device: str = "cpu") -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ExportError(f"{self.path}: no such model file")
        self.format = export_format or format_of(self.path)
        if self.format not in BACKENDS:
            raise ExportError(f"export_format={self.format!r}; choose one of {sorted(BACKENDS)}")
        backend = BACKENDS[self.format]
        reason = backend.unavailable(device)
        if reason:
            raise ExportError(f"cannot run {self.format} here: {reason}")
        self.card = backend.read_card(self.path)
        self.charset = self.card.make_charset()
        self.spec: ImageSpec = self.card.spec
        self.run = backend.load(self.path, device)

    def logits(self, images: np.ndarray) -> np.ndarray:
        return self.run(np.ascontiguousarray(images, dtype=np.float32))

    def read_tensors(self, images: torch.Tensor | np.ndarray) -> list[tuple[str, float]]:
        """Already preprocessed images (N, C, H, W) -> (text, confidence) per image."""
        array = images.numpy() if isinstance(images, torch.Tensor) else images
        return self.charset.decode_greedy(torch.from_numpy(self.logits(array)))

    def read(self, images: Sequence[ImageInput], batch_size: int = 64) -> list[tuple[str, float]]:
        results: list[tuple[str, float]] = []
        for start in range(0, len(images), batch_size):
            batch = preprocess_batch(list(images[start:start + batch_size]), self.spec)
            results.extend(self.read_tensors(batch))
        return results
