"""Orientation and shape in the one read path (crnn_pl.runtime.recognizer): tall crops are also read
turned a quarter each way, narrow crops also read stretched, unsure ones upside down, and
`crnn-predict --orientation upright` turns all of it off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from crnn_pl.core.charset import Charset
from crnn_pl.core.errors import ConfigError
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.runtime.recognizer import Recognizer

BIN = Path(sys.executable).parent
WORDS = ["coffee", "street", "hotel", "station", "market", "garden"]
# Plain, level, sharp words on plain surfaces: what any reader reads when upright.
CLEAN_VALUES = {"variety": 0.0, "rotation_degrees": 0.0, "shear": 0.0, "perspective": 0.0, "blur_prob": 0.0,
                "noise_prob": 0.0, "jpeg_prob": 0.0, "downscale_prob": 0.0, "stacked_prob": 0.0,
                "font_size": [36, 40]}
CLEAN = RenderSettings.from_config(CLEAN_VALUES)


@pytest.fixture(scope="module")
def turned_words(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Clean rendered words that `en` reads upright, saved turned a quarter clockwise and
    anticlockwise (text running down and up a vertical sign): crops taller than wide."""
    folder = tmp_path_factory.mktemp("turned")
    renderer = WordRenderer(Charset.preset("alnum36"), CLEAN)
    upright = [renderer.render(word, np.random.default_rng(i)) for i, word in enumerate(WORDS)]
    reads = Recognizer("en", orientation="upright").read(upright)
    assert [text for text, _ in reads] == WORDS, "en must read the upright words for this test to mean anything"
    paths, labels = [], []
    for word, image in zip(WORDS, upright, strict=True):
        for name, turn in (("down", -1), ("up", 1)):
            path = folder / f"{word}_{name}.png"
            Image.fromarray(np.rot90(image, turn)).save(path)
            paths.append(path)
            labels.append(word)
    return paths, labels


def predict(*arguments: str) -> list[str]:
    result = subprocess.run([str(BIN / "crnn-predict"), *arguments], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return [line.split("\t")[1] for line in result.stdout.splitlines()]


def test_crnn_predict_reads_vertical_crops_and_can_be_told_not_to(turned_words):
    paths, labels = turned_words
    assert all(Image.open(p).height > 2 * Image.open(p).width for p in paths)
    assert predict(*map(str, paths)) == labels
    upright = predict(*map(str, paths), "--orientation", "upright")
    assert sum(a == b for a, b in zip(upright, labels, strict=True)) <= len(labels) // 4


@pytest.fixture(scope="module")
def condensed_words(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """The same clean words squeezed into square boxes: condensed letters in a tight crop, which a
    model reading 32 x 32 px (9 frames) cannot fit "station" into."""
    folder = tmp_path_factory.mktemp("condensed")
    renderer = WordRenderer(Charset.preset("alnum36"), CLEAN)
    paths = []
    for index, word in enumerate(WORDS):
        image = renderer.render(word, np.random.default_rng(index))
        square = Image.fromarray(image).resize((image.shape[0], image.shape[0]), Image.Resampling.BOX)
        paths.append(folder / f"{word}.png")
        square.save(paths[-1])
    return paths, list(WORDS)


def test_crnn_predict_reads_condensed_crops_stretched(condensed_words):
    paths, labels = condensed_words
    assert predict(*map(str, paths)) == labels
    upright = predict(*map(str, paths), "--orientation", "upright")
    assert sum(a == b for a, b in zip(upright, labels, strict=True)) <= 2


def test_views_follow_the_crop_shape_and_second_looks_the_confidence():
    """Read at once: as it is, plus two quarter turns for a tall crop. Judged on the read as it is:
    a narrow crop read below 0.99 is read stretched to 2:1, one not tall below 0.5 upside down."""
    recognizer = Recognizer("en")
    arrays = [np.full((32, w), 200, np.uint8) for w in (100, 40, 16)]
    for array in arrays:
        array[8:24, 4:-4] = 30
    wide, narrow, tall = (recognizer.prepare(a) for a in arrays)
    assert (len(wide.turns), len(narrow.turns), len(tall.turns)) == (1, 1, 3)
    assert [look.shape for look in narrow.second_looks(0.3)] == [(32, 64), (32, 40)]    # stretched, upside down
    assert [look.shape for look in narrow.second_looks(0.98)] == [(32, 64)]
    assert narrow.second_looks(0.995) == [] and wide.second_looks(0.6) == []
    assert [look.shape for look in wide.second_looks(0.3)] == [(32, 100)]
    assert [look.shape for look in tall.second_looks(0.3)] == [(32, 64)]                  # never upside down
    upright = Recognizer("en", orientation="upright").prepare(arrays[2])
    assert len(upright.turns) == 1 and upright.second_looks(0.0) == []


def test_every_entry_point_turns_alike(turned_words):
    paths, labels = turned_words
    assert [t for t, _ in Recognizer("en").read(paths)] == labels
    assert Recognizer("en").read(paths, workers=0) == Recognizer("en").read(paths, batch_size=3)


def test_an_unknown_orientation_is_named():
    with pytest.raises(ConfigError, match="orientation='sideways'"):
        Recognizer("en", orientation="sideways")


@pytest.fixture(scope="module")
def upside_down_words(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Clean rendered words, as written, that `en` reads upright, saved upside down."""
    folder = tmp_path_factory.mktemp("upside_down")
    renderer = WordRenderer(Charset.preset("printable94"), CLEAN)
    words = ["Coffee", "STREET", "hotel", "Station", "MARKET", "garden"]
    upright = [renderer.render(word, np.random.default_rng(i)) for i, word in enumerate(words)]
    assert [t for t, _ in Recognizer("en", orientation="upright").read(upright)] == words
    paths = []
    for word, image in zip(words, upright, strict=True):
        paths.append(folder / f"{word}.png")
        Image.fromarray(np.rot90(image, 2)).save(paths[-1])
    return paths, words


def test_crnn_predict_reads_upside_down_crops_and_can_be_told_not_to(upside_down_words):
    """`en` was trained to read nothing in turned crops (the renderer's turned_prob), so upside
    down it is unsure and the reader turns the crop."""
    paths, words = upside_down_words
    assert predict(*map(str, paths)) == words
    upright = predict(*map(str, paths), "--orientation", "upright")
    assert sum(a == b for a, b in zip(upright, words, strict=True)) <= 1


def test_crnn_predict_reads_letters_stacked_upright(tmp_path):
    """A vertical sign's letters stacked upright (`en` learnt them from the renderer's stacked_prob)."""
    settings = RenderSettings.from_config(CLEAN_VALUES | {"stacked_prob": 1.0})
    stacked = WordRenderer(Charset.preset("printable94"), settings)
    words = ["EXIT", "HOTEL", "BAR", "OPEN", "SALE", "TAXI"]
    paths = []
    for index, word in enumerate(words):
        column = np.rot90(stacked.render(word, np.random.default_rng(index)), -1)   # back upright: a tall crop
        assert column.shape[0] > 2 * column.shape[1]
        paths.append(tmp_path / f"{word}.png")
        Image.fromarray(np.ascontiguousarray(column)).save(paths[-1])
    reads = predict(*map(str, paths))
    assert sum(a == b for a, b in zip(reads, words, strict=True)) >= 5, reads
    assert sum(a == b for a, b in zip(predict(*map(str, paths), "--orientation", "upright"), words, strict=True)) == 0
