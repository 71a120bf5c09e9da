"""The one place images become text, whatever holds the model: a live CRNNModule, a checkpoint,
safetensors, or any exported file. `read()`, crnn-predict, crnn-eval and the benchmarks all read
through it, so the same model on the same crops gives the same figure everywhere.

    Recognizer("exports/model.onnx").read(["word_1.png"])  ->  [("genaxis", 0.98)]
    Recognizer("en").read(["word_1.png"])                  (the pretrained model shipped in the package)
    Recognizer.from_runner(run, card)                      (a model in memory, e.g. CRNNModule.read)

The model card travelling with the file gives the charset and the input spec, so nothing but
the file is needed; images go through the one preprocessing and the one CTC decoding (greedy, or
weighed against a lexicon: crnn_pl.core.ctc; the card says which, `decoder=` overrides it). All of
it is numpy: reading an ONNX or Paddle file imports neither torch nor Lightning. Views of a crop
(turns, second looks) are compared on their greedy reads; only the chosen view is decoded.

Files are decoded on a thread pool while the model reads the batch before (Pillow, OpenCV and
every runtime release the GIL). An image that cannot be read (not a regular file, not a raster
format, more than `max_pixels`, a bad array) is one Read with its error; the others are still read.
Stopping early (Ctrl-C, a closed pipe) cancels the decoding not yet started. A model file is
checked when opened: one blank image of the shape its card describes goes through it and must give
one score per charset class and the blank, so a card that does not describe its model fails at
once, in one line, not in the middle of a run. Crops are padded to the training width; a wider one is squeezed,
or, for a model whose card sets read_max_width (`en`: 160), read at its natural width up to that,
each width group in its own model call so that a read never depends on its batch-mates. A blank
crop (flat, no ink) reads as ("", 0.0) without running the model.

Orientation and shape (`orientation="auto"`, the default; "upright" reads every crop once, as
it is): a crop at least `TALL_RATIO` times as tall as wide (vertical signs) is also read turned a
quarter each way, and the most confident read wins. Then, judged on the read as it is, a crop
narrower than `STRETCH_BELOW` times its height read below `STRETCH_IF_BELOW` confident (condensed
letters in a tight box, which squeezed into a few frames lose letters) is read stretched to that
shape, and one read below `FLIP_BELOW` confident is read upside down; the most confident read wins.
Sure reads are never read twice, so the second looks cost batch-1 latency little. Stacked upright
letters, which no turn makes a row of upright letters, are read turned a quarter anticlockwise, as
the renderer trains them.
docs/decisions.md gives the thresholds' measurements.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
from PIL import Image

from crnn_pl.core.card import ModelCard
from crnn_pl.core.ctc import DecoderSettings, make_decoder
from crnn_pl.core.decode import MAX_PIXELS, ImageInput, to_array
from crnn_pl.core.errors import ConfigError
from crnn_pl.core.preprocess import (
    ImageSpec,
    is_blank,
    normalize_array,
    read_by_width,
    stretch_to_aspect,
)
from crnn_pl.pretrained import UnknownModelError, resolve_model
from crnn_pl.runtime.engines.base import ModelLoadError, Runner, first_line
from crnn_pl.runtime.formats import engine, format_of

ORIENTATIONS = ("auto", "upright")
TALL_RATIO = 1.5        # height / width from which a crop is also read turned a quarter each way
FLIP_BELOW = 0.5        # read confidence under which a crop is also read upside down
STRETCH_BELOW = 2.0     # width / height under which an unsure crop is also read stretched to this shape
STRETCH_IF_BELOW = 0.99  # read confidence under which such a narrow crop is read stretched


@dataclass(frozen=True)
class Views:
    """A crop ready for the model: the ways it is read at once (as it is first, then turned), and
    the decoded crop with the second looks it may get if read unsurely as it is (prepared only
    then): stretched (a narrow crop), upside down (one not tall)."""

    turns: tuple[np.ndarray, ...]
    decoded: np.ndarray | None = None
    stretch: bool = False
    flip: bool = False

    def second_looks(self, confidence: float) -> list[np.ndarray]:
        """The decoded crop's other shapes to read, given the confidence of the read as it is."""
        looks = []
        if self.stretch and confidence < STRETCH_IF_BELOW:
            looks.append(stretch_to_aspect(self.decoded, STRETCH_BELOW))     # bounded in pixels
        if self.flip and confidence < FLIP_BELOW:
            looks.append(np.rot90(self.decoded, 2))
        return looks


# What a prepared crop is: its views, None for a blank crop, or why it could not be read.
Prepared = Views | None | ValueError


@dataclass(frozen=True)
class Read:
    """One image's result: its text and confidence, or the error that kept it from being read."""

    source: ImageInput
    text: str = ""
    confidence: float = 0.0
    error: str | None = None


class Recognizer:
    """Reads word images with one model. `model`: a shipped model's name ("en") or a model file
    (.onnx, .int8.onnx, .safetensors, .ckpt, .pt, .engine, a Paddle folder); `format` when the
    name does not tell (crnn_pl.runtime.formats)."""

    def __init__(self, model: str | Path = "en", format: str | None = None, device: str = "cpu",
                 orientation: str = "auto", max_pixels: int = MAX_PIXELS,
                 decoder: DecoderSettings | None = None) -> None:
        self.orientation = check_orientation(orientation)
        self.decoder_settings = decoder
        self.max_pixels = check_at_least("max_pixels", max_pixels, 1)
        try:
            path = resolve_model(model)      # "en": the model shipped in the package
        except UnknownModelError as error:
            raise ModelLoadError(str(error)) from None
        if not path.exists():
            raise ModelLoadError(f"{path}: no such model file")
        self.format = format or format_of(path)
        reader = engine(self.format)
        reason = reader.unavailable(device)
        if reason:
            raise ModelLoadError(f"cannot read {self.format} files here: {reason}")
        run, card = reader.open(path, device)
        check_model_fits_card(run, card, path)
        self.use(run, card, path)

    @classmethod
    def from_runner(cls, run: Runner, card: ModelCard, source: str = "<in memory>",
                    orientation: str = "auto", max_pixels: int = MAX_PIXELS) -> Recognizer:
        """A recognizer for a model already in memory (CRNNModule.read: `module_runner(model)`)."""
        recognizer = cls.__new__(cls)
        recognizer.format = "in-memory"
        recognizer.orientation = check_orientation(orientation)
        recognizer.max_pixels = check_at_least("max_pixels", max_pixels, 1)
        recognizer.decoder_settings = None
        recognizer.use(run, card, source)
        return recognizer

    def use(self, run: Runner, card: ModelCard, source: str | Path) -> None:
        self.path, self.run, self.card = source, run, card
        self.charset = card.make_charset()
        self.spec: ImageSpec = card.spec.for_reading()     # the card's read_max_width applies
        self.set_decoder(self.decoder_settings)

    def set_decoder(self, settings: DecoderSettings | None) -> None:
        """Decode with `settings` (None: as the model card says, greedy for a card that says nothing)."""
        self.decoder_settings = settings
        self.decoder = make_decoder(self.decoder_in_use(), self.charset)

    def decoder_in_use(self) -> DecoderSettings:
        return self.decoder_settings or self.card.decoder_settings()

    def read_arrays(self, images: np.ndarray) -> list[tuple[str, float]]:
        """Preprocessed images (N, C, H, W) -> (text, confidence) per image."""
        return self.decoder(self.run(np.ascontiguousarray(images, dtype=np.float32)))

    def read_scored(self, images: np.ndarray) -> list[tuple[str, float, np.ndarray]]:
        """Greedy (text, confidence) and the frame scores per image: views are compared on these,
        and only the chosen view goes through the decoder."""
        scores = self.run(np.ascontiguousarray(images, dtype=np.float32))
        return [(text, confidence, frames)
                for (text, confidence), frames in zip(self.charset.decode_greedy(scores), scores, strict=True)]

    def read(self, images: Sequence[ImageInput], batch_size: int = 64, workers: int = 2) -> list[tuple[str, float]]:
        """(text, confidence) per image of a list; an unreadable image raises ValueError naming it."""
        results = []
        for read in self.read_stream(images, batch_size, workers):
            if read.error:
                raise ValueError(read.error)
            results.append((read.text, read.confidence))
        return results

    def read_stream(self, images: Iterable[ImageInput], batch_size: int = 64, workers: int = 2) -> Iterator[Read]:
        """Read in batches, in order, decoding the next batches on `workers` threads meanwhile
        (0: decode inline). Unreadable images come back as a Read with `error` set; the others
        are still read. An error raised by `images` itself (a generator) is raised once every
        image it gave before is read and yielded."""
        check_many(images)
        check_at_least("batch_size", batch_size, 1)
        check_at_least("workers", workers, 0)
        batches = Batches(images, batch_size)
        if workers == 0:            # inline: the least latency for one image at a time
            for batch in batches:
                yield from self.read_prepared(batch, self.prepare_chunk(batch))
        else:
            yield from self.read_decoding_ahead(batches, workers)
        if batches.failure is not None:
            raise batches.failure

    def read_decoding_ahead(self, batches: Batches, workers: int) -> Iterator[Read]:
        pool = ThreadPoolExecutor(workers)
        try:
            window = deque((batch, pool.submit(self.prepare_chunk, batch)) for batch in islice(batches, workers + 1))
            while window:
                batch, prepared = window.popleft()
                following = next(batches, None)
                if following is not None:
                    window.append((following, pool.submit(self.prepare_chunk, following)))
                yield from self.read_prepared(batch, prepared.result())
        finally:    # stopped early (Ctrl-C, a closed pipe, an error): decode nothing more
            pool.shutdown(wait=False, cancel_futures=True)

    def prepare_chunk(self, images: list[ImageInput]) -> list[Prepared]:
        return [self.prepare(image) for image in images]

    def prepare(self, image: ImageInput) -> Prepared:
        try:
            array = to_array(image, self.spec.channels, self.max_pixels)
        except ValueError as error:
            return error
        if is_blank(array):
            return None
        if self.orientation == "upright":
            return Views((normalize_array(array, self.spec),))
        height, width = array.shape[:2]
        tall = height >= TALL_RATIO * width
        turns = (array, np.rot90(array, 1), np.rot90(array, -1)) if tall else (array,)   # k=1: anticlockwise
        return Views(tuple(normalize_array(turn, self.spec) for turn in turns), decoded=array,
                     stretch=width < STRETCH_BELOW * height, flip=not tall)

    def read_prepared(self, images: list[ImageInput], prepared: list[Prepared]) -> Iterator[Read]:
        views = [p for p in prepared if isinstance(p, Views)]
        reads = iter(self.read_views(views))
        for image, item in zip(images, prepared, strict=True):
            if isinstance(item, ValueError):
                yield Read(image, error=str(item))
            elif item is None:
                yield Read(image)                   # blank crop: nothing to read
            else:
                text, confidence = next(reads)
                yield Read(image, text, confidence)

    def read_views(self, views: list[Views]) -> list[tuple[str, float]]:
        """The most confident read of each crop's views: its turns first, then the second looks
        its read as it is asks for (one model pass for all of them)."""
        turns = iter(read_by_width([turn for view in views for turn in view.turns], self.read_scored))
        reads = [[next(turns) for _ in view.turns] for view in views]
        best = [max(crop_reads, key=lambda read: read[1]) for crop_reads in reads]
        # Judged as it is: a stretched or turned read of an upside-down crop can be confidently wrong.
        looks = [(i, look) for i, view in enumerate(views) for look in view.second_looks(reads[i][0][1])]
        again = read_by_width([normalize_array(look, self.spec) for _, look in looks], self.read_scored)
        for (i, _), read in zip(looks, again, strict=True):
            if read[1] > best[i][1]:
                best[i] = read
        return [self.decoder.refine((text, confidence), frames) for text, confidence, frames in best]


def check_orientation(orientation: str) -> str:
    if orientation not in ORIENTATIONS:
        raise ConfigError(f"orientation={orientation!r}: choose from {list(ORIENTATIONS)}")
    return orientation


def check_at_least(name: str, value: int, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"{name}={value!r}: must be a whole number, at least {low}")
    return value


# One image where a list is expected: iterating it would read characters, rows or bytes as images.
SINGLE_IMAGES = (str, Path, bytes, Image.Image, np.ndarray)


def check_many(images: Iterable[ImageInput]) -> None:
    if isinstance(images, SINGLE_IMAGES):
        raise TypeError(f"read() takes a list of images, got one {type(images).__name__}: pass [image]"
                        + (" (or list(array) for a stack of images)" if isinstance(images, np.ndarray) else ""))


class Batches:
    """`images` in lists of `size`. An error raised by `images` ends the batches after the images it
    gave before it; it is kept in `failure` for the reader to raise once those are read."""

    def __init__(self, images: Iterable[ImageInput], size: int) -> None:
        self.remaining, self.size = iter(images), size
        self.failure: Exception | None = None

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> list[ImageInput]:
        batch: list[ImageInput] = []
        if self.failure is None:
            try:
                batch.extend(islice(self.remaining, self.size))
            except Exception as error:
                self.failure = error
        if not batch:
            raise StopIteration
        return batch


def check_model_fits_card(run: Runner, card: ModelCard, path: Path) -> None:
    """One blank image of the card's shape through the model: it must run and give (1, frames,
    classes) with one class per charset character and the blank."""
    spec, classes = card.spec, card.make_charset().num_classes
    try:
        logits = np.asarray(run(np.zeros((1, spec.channels, spec.height, spec.width), np.float32)))
    except Exception as error:      # each runtime raises its own kind for a wrong input shape
        raise ModelLoadError(f"{path}: the model does not read the input its card describes ({spec.channels} x "
                             f"{spec.height} x {spec.width}): {first_line(error)}") from None
    if logits.ndim != 3 or logits.shape[0] != 1 or logits.shape[1] < 1 or logits.shape[2] != classes:
        raise ModelLoadError(f"{path}: the model gives scores of shape {logits.shape}, but its card's charset "
                             f"needs (1, frames, {classes}): {classes - 1} characters and the blank")
