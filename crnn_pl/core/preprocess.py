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
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ImageInput = str | Path | Image.Image | np.ndarray | bytes
# A train-time augmentation: uint8 image in, uint8 image out (crnn_pl.data.augment builds them).
Augment = Callable[[np.ndarray], np.ndarray]


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
        return min(max(self.read_max_width, self.width), self.width + steps * WIDTH_STEP)


# Canvas widths come in steps of 16 px, so wide crops of similar width share a model call.
WIDTH_STEP = 16


def to_array(image: ImageInput, channels: int) -> np.ndarray:
    """Any supported image as uint8 (H, W) for channels=1 or (H, W, 3) for channels=3.

    Handles paths, encoded bytes (PNG, JPEG, ... as stored in an LMDB), PIL images in any mode
    (palette, RGBA, 16-bit, grayscale) and arrays.
    Raises ValueError naming the file when it cannot be decoded or is empty.
    """
    if isinstance(image, (str, Path)):
        return decode_image(Path(image), channels, name=str(image))
    if isinstance(image, bytes):
        return decode_image(BytesIO(image), channels, name=f"<{len(image)} bytes>")
    if isinstance(image, Image.Image):
        image = pil_to_uint8(image)
    array = np.asarray(image)
    if array.size == 0 or array.ndim not in (2, 3):
        raise ValueError(f"expected a non-empty 2-D or 3-D image, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = rescale_to_uint8(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    if channels == 1 and array.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2GRAY)
    if channels == 3 and array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(array)


def decode_image(source: Path | BytesIO, channels: int, name: str) -> np.ndarray:
    """Decode a file or encoded bytes completely (truncated files fail here, not later)."""
    try:
        with Image.open(source) as opened:
            opened.load()
            return to_array(opened, channels)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"{name}: cannot read image: {error}") from error


def pil_to_uint8(image: Image.Image) -> np.ndarray:
    """PIL image in any mode as uint8 RGB or L, compositing transparency onto white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return rescale_to_uint8(np.asarray(image))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    if image.mode == "L":
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))


def rescale_to_uint8(array: np.ndarray) -> np.ndarray:
    """16-bit, integer or float images stretched to 0..255 by their own range."""
    array = array.astype(np.float32)
    low, high = float(array.min()), float(array.max())
    if high <= low:
        return np.zeros(array.shape, np.uint8)
    return ((array - low) * (255.0 / (high - low))).round().astype(np.uint8)


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


def stretch_to_aspect(array: np.ndarray, aspect: float) -> np.ndarray:
    """The crop widened to `aspect` x its height (condensed letters drawn at a usual width)."""
    height = array.shape[0]
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
