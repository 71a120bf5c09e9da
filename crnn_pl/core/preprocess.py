"""The one preprocessing path: training, evaluation, prediction and export checks all call it.

Keep-aspect resize to the model height, squeeze to the width only when the word is wider than
it, pad on the right, normalise. A fixed width keeps batches rectangular and exported graphs
simple; right padding with zeros (the normalised mean) is what the model sees in training too.

Numpy, OpenCV and Pillow only, so reading with an exported model needs no torch; training wraps
`prepare`'s arrays as tensors (crnn_pl.data.words.preprocess).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from crnn_pl.core.decode import MAX_PIXELS, ImageInput, to_array

# A train-time augmentation: uint8 image in, uint8 image out (crnn_pl.data.augment builds them).
Augment = Callable[[np.ndarray], np.ndarray]

# Reading never pads a crop wider than this, whatever a model card's read_max_width says, so one
# crop's memory stays bounded (32 px x 1024 at most; the shipped `en` reads up to 160).
MAX_READ_WIDTH = 1024


@dataclass(frozen=True)
class ImageSpec:
    """What the model expects; saved with every checkpoint and export."""

    height: int = 32
    width: int = 100
    channels: int = 1
    mean: float = 0.5
    std: float = 0.5
    # Reading only (`reading`, set by `for_reading`): a crop wider than `width` once resized to
    # `height` keeps its natural width, up to read_max_width in steps of WIDTH_STEP, instead of
    # being squeezed. None squeezes, as training always does (its batches stay rectangular). It is
    # the model's own setting (`model.read_max_width`, kept in checkpoints and export cards): a
    # model trained on squeezed words may read them better squeezed.
    read_max_width: int | None = None
    reading: bool = False

    def for_reading(self) -> ImageSpec:
        """This spec as every reader uses it (the model's read_max_width applies)."""
        return replace(self, reading=True)

    def canvas_width(self, natural_width: int) -> int:
        if not self.reading or self.read_max_width is None or natural_width <= self.width:
            return self.width
        steps = -(-(natural_width - self.width) // WIDTH_STEP)
        widest = max(min(self.read_max_width, MAX_READ_WIDTH), self.width)
        return min(widest, self.width + steps * WIDTH_STEP)


# Canvas widths come in steps of 16 px, so wide crops of similar width share a model call.
WIDTH_STEP = 16


def resize_and_pad(image: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """Keep-aspect resize to spec.height, squeeze if wider than the canvas, pad right with 0. The
    canvas is spec.width wide (or, reading, up to spec.read_max_width for a wide crop)."""
    height, width = image.shape[:2]
    natural_width = max(1, round(width * spec.height / height))
    canvas_width = spec.canvas_width(natural_width)
    scaled_width = min(canvas_width, natural_width)
    interpolation = cv2.INTER_AREA if height > spec.height else cv2.INTER_LINEAR
    resized = cv2.resize(image, (scaled_width, spec.height), interpolation=interpolation)
    canvas = np.zeros((spec.height, canvas_width) + resized.shape[2:], np.float32)
    canvas[:, :scaled_width] = (resized.astype(np.float32) / 255.0 - spec.mean) / spec.std
    return canvas


# A crop whose brightness spans fewer levels than this (between its 1st and 99th percentiles,
# so a few noisy pixels do not count) holds no text: a blank or flat crop reads as nothing.
# Well below the lowest contrast of any real crop at hand (docs/decisions.md).
BLANK_RANGE = 12


def stretch_to_aspect(array: np.ndarray, aspect: float, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The crop widened to `aspect` x its height (condensed letters drawn at a usual width); a crop
    so tall that this would exceed `max_pixels` is made shorter too (a hair-thin crop is not
    stretched to gigapixels)."""
    height = max(1, min(array.shape[0], int((max_pixels / aspect) ** 0.5)))
    return cv2.resize(array, (max(1, round(aspect * height)), height), interpolation=cv2.INTER_LINEAR)


def is_blank(array: np.ndarray) -> bool:
    """Whether a decoded uint8 crop is flat (no ink to read)."""
    low, high = np.percentile(array, (1, 99))
    return bool(high - low < BLANK_RANGE)


def normalize_array(array: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """A decoded uint8 crop -> float32 (channels, height, width), ready for the model."""
    normalized = resize_and_pad(array, spec)
    normalized = normalized[None] if normalized.ndim == 2 else normalized.transpose(2, 0, 1)
    return np.ascontiguousarray(normalized)


def prepare(image: ImageInput, spec: ImageSpec, augment: Augment | None = None) -> np.ndarray:
    """One image -> float32 array (channels, height, width): decode, (augment,) resize, pad, normalise.

    `augment` (training only) changes the decoded uint8 image before the resize, so augmented
    and clean images go through the same resize, padding and normalisation.
    """
    array = to_array(image, spec.channels)
    if augment is not None:
        array = augment(array)
    return normalize_array(array, spec)


def read_by_width(arrays: Sequence[np.ndarray], read_batch: Callable[[np.ndarray], list]) -> list:
    """`read_batch` over prepared crops grouped by canvas width, results back in input order:
    each crop is read at its own width, never padded to a batch-mate's."""
    by_width: dict[int, list[int]] = {}
    for index, array in enumerate(arrays):
        by_width.setdefault(array.shape[-1], []).append(index)
    results: list = [None] * len(arrays)
    for indices in by_width.values():
        for index, result in zip(indices, read_batch(np.stack([arrays[i] for i in indices])), strict=True):
            results[index] = result
    return results
