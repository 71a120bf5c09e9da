"""Orientation in the one read path (crnn_pl.runtime.recognizer): tall crops are also read turned
a quarter each way, and `crnn-predict --orientation upright` turns that off."""

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


@pytest.fixture(scope="module")
def turned_words(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Clean rendered words that `en` reads upright, saved turned a quarter clockwise and
    anticlockwise (text running down and up a vertical sign): crops taller than wide."""
    folder = tmp_path_factory.mktemp("turned")
    settings = RenderSettings.from_config({"variety": 0.0, "rotation_degrees": 0.0, "shear": 0.0, "perspective": 0.0,
                                           "blur_prob": 0.0, "noise_prob": 0.0, "jpeg_prob": 0.0,
                                           "downscale_prob": 0.0, "font_size": [36, 40]})
    renderer = WordRenderer(Charset.preset("alnum36"), settings)
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


def test_every_entry_point_turns_alike(turned_words):
    paths, labels = turned_words
    assert [t for t, _ in Recognizer("en").read(paths)] == labels
    assert Recognizer("en").read(paths, workers=0) == Recognizer("en").read(paths, batch_size=3)


def test_an_unknown_orientation_is_named():
    with pytest.raises(ConfigError, match="orientation='sideways'"):
        Recognizer("en", orientation="sideways")
