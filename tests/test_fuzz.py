"""Fuzz: a few thousand mutated images of every raster format through `Recognizer.read_stream` and
`crnn-predict`: each gives a read or one error line naming it, never an exception, a hang or a
traceback, and the run goes on to the next."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from crnn_pl.pretrained import PRETRAINED_DIR
from crnn_pl.runtime.recognizer import Recognizer

pytestmark = pytest.mark.slow
MUTANTS_PER_SEED = 200


def seed_images(word: Path) -> dict[str, bytes]:
    """The word crop encoded in every raster format the reader takes, in the modes each stores."""
    image = Image.open(word).convert("RGB")
    grey = image.convert("L")
    rgba = image.convert("RGBA")
    rgba.putalpha(grey)
    encodings = {
        "png-rgb.png": (image, "PNG", {}), "png-rgba.png": (rgba, "PNG", {}),
        "png-16bit.png": (grey.convert("I;16"), "PNG", {}), "png-palette.png": (image.quantize(16), "PNG", {}),
        "jpeg.jpg": (image, "JPEG", {"quality": 80}), "jpeg-progressive.jpg": (grey, "JPEG", {"progressive": True}),
        "bmp.bmp": (image, "BMP", {}), "tiff-lzw.tif": (rgba, "TIFF", {"compression": "tiff_lzw"}),
        "tiff-1bit.tif": (grey.convert("1"), "TIFF", {"compression": "group4"}),
        "webp.webp": (rgba, "WEBP", {"quality": 70}), "gif.gif": (image.quantize(32), "GIF", {}),
        "ppm.ppm": (image, "PPM", {}), "pgm.pgm": (grey, "PPM", {}), "pbm.pbm": (grey.convert("1"), "PPM", {}),
    }
    encoded = {}
    for name, (picture, fmt, options) in encodings.items():
        buffer = io.BytesIO()
        picture.save(buffer, format=fmt, **options)
        encoded[name] = buffer.getvalue()
    return encoded


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One of the ways a file gets damaged or crafted: flipped bytes, a cut, an insertion, a
    repeated run, a header field overwritten with a large number, a zeroed run."""
    data = bytearray(data)
    kind = rng.integers(6)
    at = int(rng.integers(len(data)))
    if kind == 0:
        for position in rng.integers(len(data), size=int(rng.integers(1, 9))):
            data[position] ^= 1 << int(rng.integers(8))
    elif kind == 1:
        del data[at:]
    elif kind == 2:
        data[at:at] = rng.integers(256, size=int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    elif kind == 3:
        data[at:at] = data[at:at + int(rng.integers(1, 256))] * int(rng.integers(2, 8))
    elif kind == 4:
        header = int(rng.integers(min(len(data), 64)))
        data[header:header + 4] = int(rng.integers(1, 2**32)).to_bytes(4, "big" if rng.random() < 0.5 else "little")
    else:
        data[at:at + int(rng.integers(1, 128))] = bytes(min(len(data) - at, int(rng.integers(1, 128))))
    return bytes(data)


@pytest.fixture(scope="module")
def mutants(word_files) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(26)
    return [(f"{index:03d}-{name}", mutate(data, rng))
            for name, data in seed_images(word_files[0][1]).items() for index in range(MUTANTS_PER_SEED)]


def test_mutated_images_through_read_stream_give_a_read_or_one_error_line(mutants):
    recognizer = Recognizer(PRETRAINED_DIR / "en.onnx")
    images = [data for _, data in mutants]
    reads = list(recognizer.read_stream(images, batch_size=64, workers=2))
    assert len(reads) == len(mutants) >= 2800
    errors = [read.error for read in reads if read.error]
    assert all(error.startswith(f"<{len(read.source)} bytes>: ") and "\n" not in error
               for read in reads if (error := read.error))
    unreadable = sum(error.split(": ", 1)[1].startswith("cannot read image") for error in errors)
    print(f"{len(reads) - len(errors)} read, {len(errors)} errors ({unreadable} undecodable)")
    assert 0 < len(errors) < len(reads)     # the mutations break some files and leave others readable


def test_mutated_image_files_through_crnn_predict_give_reads_and_error_lines_only(mutants, tmp_path):
    for name, data in mutants:
        (tmp_path / name).write_bytes(data)
    result = subprocess.run([str(Path(sys.executable).parent / "crnn-predict"), str(tmp_path)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr[-3000:]
    reads = result.stdout.splitlines()
    *errors, summary = result.stderr.splitlines()
    assert all(line.startswith(f"error: {tmp_path}/") for line in errors), [e for e in errors if "error" not in e][:5]
    assert all(len(line.split("\t")) == 3 for line in reads)
    assert len(reads) + len(errors) == len(mutants)
    assert summary.startswith(f"read {len(reads)} of {len(mutants)} images")
