"""Decoding a word image the user hands over, which may come from anyone: a path, encoded bytes, a
PIL image or an array, to uint8 grey or RGB, or one ValueError naming it.

A path must be a regular file (opened without blocking, so a FIFO or a device is refused, never
waited on); encoded bytes must be a raster format (told by their bytes, never the name), so a
PostScript file never reaches Ghostscript; the pixel count is checked on the header before
anything is decoded; a damaged file that trips a decoder anywhere is one error. Transparency is
composited onto white for files and arrays alike. Numpy, OpenCV and Pillow only.
"""

from __future__ import annotations

import ctypes
import os
import stat
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

ImageInput = str | Path | Image.Image | np.ndarray | bytes

# What a word crop may be, told by its bytes (never its name): Pillow tries these plugins only, so a
# PostScript, PDF or any other document never reaches Ghostscript or another outside program.
RASTER_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF", "PPM")    # PPM: Pillow's PBM/PGM/PPM/PNM
RASTER_NAMES = "PNG, JPEG, BMP, TIFF, WebP, GIF or PNM"
# The most pixels a word crop may have, checked on the header before anything is decoded: a 4K
# frame is 8.3 million, so no crop of one comes near it, while a small file declaring 12,000 x 12,000
# (144 million, gigabytes once decoded) is refused at once. Recognizer(max_pixels=), --max-pixels.
MAX_PIXELS = 10_000_000

def to_array(image: ImageInput, channels: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Any supported image as uint8 (H, W) for channels=1 or (H, W, 3) for channels=3.

    Handles paths (regular files only), encoded bytes (as stored in an LMDB) in the raster formats,
    PIL images in any mode (palette, RGBA, 16-bit, grayscale) and arrays of 1 (grey), 2 (grey and
    alpha), 3 (RGB) or 4 (RGBA) channels; transparency is composited onto white, for arrays as for
    files. Raises ValueError naming the file when it cannot be read, is empty, holds NaN, or has
    more than `max_pixels` pixels (checked before decoding).
    """
    if isinstance(image, (str, Path)):
        with open_regular_file(Path(image)) as handle:
            return decode_image(handle, channels, str(image), max_pixels)
    if isinstance(image, bytes):
        return decode_image(BytesIO(image), channels, f"<{len(image)} bytes>", max_pixels)
    if isinstance(image, Image.Image):
        check_pixels(image.width, image.height, "image", max_pixels)
        image = pil_to_uint8(image)
    return array_to_uint8(np.asarray(image), channels, max_pixels)


def array_to_uint8(array: np.ndarray, channels: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An in-memory image as to_array gives it, or ValueError saying what is wrong with it."""
    if array.size == 0 or array.ndim not in (2, 3):
        raise ValueError(f"expected a non-empty 2-D or 3-D image, got shape {array.shape}")
    if array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) channels, got shape {array.shape}")
    check_pixels(array.shape[1], array.shape[0], "image", max_pixels)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"expected an array of numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError("the image holds NaN or infinite values")
    if array.dtype != np.uint8:
        array = rescale_to_uint8(array)
    if array.ndim == 3 and array.shape[2] in (2, 4):
        array = onto_white(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if channels == 1 and array.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2GRAY)
    if channels == 3 and array.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(array)


def onto_white(array: np.ndarray) -> np.ndarray:
    """Grey-alpha or RGBA uint8 composited onto white, as Pillow composites an image file."""
    colour, alpha = array[:, :, :-1].astype(np.float32), array[:, :, -1:].astype(np.float32) / 255.0
    composited = (colour * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return composited[:, :, 0] if composited.shape[2] == 1 else composited


def check_pixels(width: int, height: int, name: str, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ValueError(f"{name}: {width} x {height} pixels, more than a word crop's {max_pixels:,} "
                         "(max_pixels); crop the word first")


def open_regular_file(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file; ValueError naming it otherwise. Opened
    without blocking, so a FIFO (which would wait forever for a writer) or a device is refused."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise ValueError(f"{path}: cannot read image: {error.strerror}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise ValueError(f"{path}: not a regular file ({file_kind(mode)}); only image files are read")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def file_kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket",
             stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}
    return next((kind for test, kind in kinds.items() if test(mode)), "not a plain file")


def decode_image(source: BinaryIO, channels: int, name: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode a raster image completely (truncated files fail here, not later), once its header has
    shown it is a raster format and no bigger than `max_pixels`."""
    quiet_libtiff()
    try:
        with Image.open(source, formats=RASTER_FORMATS) as opened:
            check_pixels(opened.width, opened.height, name, max_pixels)
            opened.load()
            return to_array(opened, channels, max_pixels)
    except Image.UnidentifiedImageError:
        raise ValueError(f"{name}: cannot read image: not a {RASTER_NAMES} image") from None
    except ValueError as error:
        if str(error).startswith(f"{name}:"):
            raise
        raise ValueError(f"{name}: cannot read image: {error}") from None
    except (OSError, SyntaxError, EOFError) as error:      # what Pillow raises for a damaged file
        raise ValueError(f"{name}: cannot read image: {error}") from None
    except Exception as error:      # a damaged file may trip a decoder anywhere (struct, index, zlib errors)
        raise ValueError(f"{name}: cannot read image: {type(error).__name__}: {error}") from None


def pil_to_uint8(image: Image.Image) -> np.ndarray:
    """PIL image in any mode as uint8 RGB or L, compositing transparency onto white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return np.asarray(image)        # stretched to 0..255 (and checked for NaN) as an array
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
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


@cache
def quiet_libtiff() -> None:
    """Stop libtiff printing its own error messages on stderr (a damaged TIFF gets Pillow's error,
    and so one error line, without libtiff's lines around it). Linux: the libtiff Pillow loaded is
    found in this process's memory map; elsewhere libtiff keeps talking."""
    import PIL._imaging  # noqa: F401 (loads the libtiff Pillow was built with)

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            found = sorted({line.split()[-1] for line in maps if "libtiff" in line.rsplit("/", 1)[-1]})
        for library in found:
            ctypes.CDLL(library).TIFFSetErrorHandler(None)
    except (OSError, AttributeError):
        pass
