"""Read word images with any backend: a checkpoint or any exported file, the same way.

    Recognizer("exports/model.onnx").read(["word_1.png"])  ->  [("genaxis", 0.98)]
    Recognizer("en").read(["word_1.png"])                  (the pretrained model shipped in the package)

The model card travelling with the file gives the charset and the input spec, so nothing but
the file is needed; images go through the one preprocessing and greedy CTC decoding. Both are
numpy: reading an ONNX, Paddle or TensorRT file imports neither torch nor Lightning.

Files are decoded on a thread pool while the model reads the batch before (Pillow, OpenCV and
every runtime release the GIL). Crops are padded to the training width; a wider one is squeezed,
or, for a model whose card sets read_max_width (`en`: 160), read at its natural width up to that,
each width group in its own model call so that a read never depends on its batch-mates. A blank
crop (flat, no ink) reads as ("", 0.0) without running the model.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from crnn_pl.data.preprocess import ImageInput, ImageSpec, is_blank, normalize_array, read_by_width, to_array
from crnn_pl.export import BACKENDS, ExportError, format_of
from crnn_pl.pretrained import UnknownModelError, resolve_model

# What a prepared crop is: a model input, None for a blank crop, or why it could not be read.
Prepared = np.ndarray | None | ValueError


@dataclass(frozen=True)
class Read:
    """One image's result: its text and confidence, or the error that kept it from being read."""

    source: ImageInput
    text: str = ""
    confidence: float = 0.0
    error: str | None = None


class Recognizer:
    def __init__(self, path: str | Path, export_format: str | None = None, device: str = "cpu") -> None:
        try:
            self.path = resolve_model(path)      # "en": the model shipped in the package
        except UnknownModelError as error:
            raise ExportError(str(error)) from None
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
        self.spec: ImageSpec = self.card.spec.for_reading()     # the card's read_max_width applies
        self.run = backend.load(self.path, device)

    def logits(self, images: np.ndarray) -> np.ndarray:
        return self.run(np.ascontiguousarray(images, dtype=np.float32))

    def read_tensors(self, images) -> list[tuple[str, float]]:
        """Already preprocessed images (N, C, H, W), numpy or torch -> (text, confidence) per image."""
        array = images if isinstance(images, np.ndarray) else images.numpy()
        return self.charset.decode_greedy(self.logits(array))

    def read(self, images: Sequence[ImageInput], batch_size: int = 64, workers: int = 2) -> list[tuple[str, float]]:
        """(text, confidence) per image; an unreadable image raises ValueError naming it."""
        results = []
        for read in self.read_stream(images, batch_size, workers):
            if read.error:
                raise ValueError(read.error)
            results.append((read.text, read.confidence))
        return results

    def read_stream(self, images: Iterable[ImageInput], batch_size: int = 64, workers: int = 2) -> Iterator[Read]:
        """Read in batches, in order, decoding the next batches on `workers` threads meanwhile
        (0: decode inline). Unreadable images come back as a Read with `error` set; the others
        are still read."""
        remaining = iter(images)
        chunks = iter(lambda: list(islice(remaining, batch_size)), [])
        if workers == 0:            # inline: the least latency for one image at a time
            for chunk in chunks:
                yield from self.read_prepared(chunk, self.prepare_chunk(chunk))
            return
        with ThreadPoolExecutor(workers) as pool:
            window = deque((chunk, pool.submit(self.prepare_chunk, chunk)) for chunk in islice(chunks, workers + 1))
            while window:
                chunk, prepared = window.popleft()
                following = next(chunks, None)
                if following is not None:
                    window.append((following, pool.submit(self.prepare_chunk, following)))
                yield from self.read_prepared(chunk, prepared.result())

    def prepare_chunk(self, images: list[ImageInput]) -> list[Prepared]:
        return [self.prepare(image) for image in images]

    def prepare(self, image: ImageInput) -> Prepared:
        try:
            array = to_array(image, self.spec.channels)
        except ValueError as error:
            return error
        return None if is_blank(array) else normalize_array(array, self.spec)

    def read_prepared(self, images: list[ImageInput], prepared: list[Prepared]) -> Iterator[Read]:
        inputs = [p for p in prepared if isinstance(p, np.ndarray)]
        reads = iter(read_by_width(inputs, self.read_tensors))
        for image, item in zip(images, prepared, strict=True):
            if isinstance(item, ValueError):
                yield Read(image, error=str(item))
            elif item is None:
                yield Read(image)                   # blank crop: nothing to read
            else:
                text, confidence = next(reads)
                yield Read(image, text, confidence)
