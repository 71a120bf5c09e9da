"""The English model shipped inside the package: small, in files that cannot run code (ONNX for
reading, safetensors for PyTorch), and read by name everywhere a model is taken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from crnn_pl import CRNNModule
from crnn_pl.core.card import ModelCard
from crnn_pl.core.charset import Charset
from crnn_pl.core.metrics import matches36
from crnn_pl.core.preprocess import prepare
from crnn_pl.pretrained import PRETRAINED_DIR, UnknownModelError, resolve_model, shipped_model
from crnn_pl.runtime.recognizer import Recognizer

BIN = Path(sys.executable).parent


def test_shipped_model_is_onnx_and_safetensors_under_10_mb_each():
    from safetensors import safe_open

    onnx, weights = shipped_model("en"), shipped_model("en", weights=True)
    assert (onnx.name, weights.name) == ("en.onnx", "en.safetensors")
    assert sorted(p.name for p in PRETRAINED_DIR.iterdir() if p.suffix in (".ckpt", ".pt", ".pth", ".pkl")) == []
    for path in (onnx, weights):
        assert path.parent == PRETRAINED_DIR and path.stat().st_size <= 10 * 2**20
    with safe_open(str(weights), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
        hparams = json.loads(handle.metadata()["hyper_parameters"])
    # en reads text as written: case, digits and ASCII punctuation (printable94)
    assert hparams["charset"] == Charset.preset("printable94").characters and hparams["case_sensitive"]
    assert all(v.dtype == torch.float32 for v in tensors.values() if v.is_floating_point())
    assert Recognizer("en").card == ModelCard.from_hparams(hparams)      # one model in two files
    card = (PRETRAINED_DIR / "en.md").read_text(encoding="utf-8")
    assert "experiment=en_v3" in card and "IIIT5K" in card


def test_the_two_shipped_files_read_alike(word_files):
    paths, _ = word_files
    onnx = Recognizer("en").read(paths)
    pytorch = CRNNModule.from_pretrained("en").read(paths)
    assert [text for text, _ in onnx] == [text for text, _ in pytorch]
    np.testing.assert_allclose([c for _, c in onnx], [c for _, c in pytorch], atol=1e-3)


def test_from_pretrained_reads_rendered_words(word_files):
    paths, labels = word_files
    model = CRNNModule.from_pretrained("en")
    assert not model.training
    reads = [text for text, _ in model.read(paths)]
    # the fixture's labels are alnum36 (case folded, no punctuation); en reads as written: acc36
    assert sum(matches36(r, label) for r, label in zip(reads, labels, strict=True)) >= len(labels) - 2, (reads, labels)


def test_crnn_predict_without_a_model_uses_the_shipped_one(word_files, tmp_path):
    paths, labels = word_files
    result = subprocess.run([str(BIN / "crnn-predict"), *map(str, paths[:6])], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    reads = [line.split("\t")[1] for line in result.stdout.splitlines()]
    # The very reads of the shipped model through the Python API: it is the model used.
    assert reads == [text for text, _ in CRNNModule.from_pretrained("en").read(paths[:6])]
    assert sum(r == label for r, label in zip(reads, labels[:6], strict=True)) >= 5, (reads, labels[:6])


def test_an_unknown_name_is_a_path_and_a_missing_file_a_clear_error(tmp_path):
    assert resolve_model("en") == PRETRAINED_DIR / "en.onnx"
    assert resolve_model("en", weights=True) == PRETRAINED_DIR / "en.safetensors"
    assert resolve_model("runs/x.ckpt") == Path("runs/x.ckpt")
    with pytest.raises(UnknownModelError, match="no pretrained model named 'fr'; shipped: en"):
        shipped_model("fr")
    result = subprocess.run([str(BIN / "crnn-predict"), "word.png", "--model-path", "fr"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "error: fr: no such model file" in result.stderr


def test_wide_words_are_read_at_their_own_width_whatever_their_batch_mates(word_files):
    """A batch mixing narrow and wide crops reads each exactly as it reads alone, through the
    checkpoint and through the Recognizer: wide crops are never padded to a batch-mate's width."""
    from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer

    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config({"max_length": 16}))
    wide = [renderer.render(word, np.random.default_rng(i)) for i, word in
            enumerate(["Internationalisation", "Photosynthesis", "understandings"])]
    paths = word_files[0]
    images = [wide[0], str(paths[0]), wide[1], str(paths[1]), wide[2]]
    model = CRNNModule.from_pretrained("en")
    together = model.read(images)
    alone = [model.read(image)[0] for image in images]
    through_recognizer = Recognizer("en").read(images, workers=0)
    for reads in (alone, through_recognizer):      # same words; confidences up to float rounding
        assert [text for text, _ in reads] == [text for text, _ in together]
        np.testing.assert_allclose([c for _, c in reads], [c for _, c in together], atol=1e-5)
    widths = {prepare(image, model.image_spec.for_reading()).shape[-1] for image in images}
    assert len(widths) >= 3 and max(widths) > 100          # really mixed widths, not all squeezed
