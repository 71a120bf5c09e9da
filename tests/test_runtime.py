"""Reading with an exported model through the light runtime: no torch, Lightning or Hydra, files
decoded in parallel, blank crops read as nothing, empty inputs named."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from crnn_pl.runtime.recognizer import Recognizer

BIN = Path(sys.executable).parent
TRAINING_STACK = ("torch", "lightning", "pytorch_lightning", "hydra", "omegaconf", "torchmetrics")

# Run as `python -c`: refuse every import of the training stack, then run the real module entry.
BLOCKED_RUN = textwrap.dedent("""
    import importlib.abc, runpy, sys
    BLOCKED = {blocked!r}
    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: the light runtime must not import it")
    sys.meta_path.insert(0, Refuse())
    sys.argv = ["crnn-predict", *{arguments!r}]
    try:
        runpy.run_module("crnn_pl.predict", run_name="__main__")
    finally:
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print("loaded:", loaded, file=sys.stderr)
""")


@pytest.fixture(scope="module")
def onnx_model(overfit_checkpoint, word_files, tmp_path_factory) -> Path:
    out_dir = tmp_path_factory.mktemp("onnx")
    paths, _ = word_files
    subprocess.run([str(BIN / "crnn-export"), f"model_path={overfit_checkpoint}", f"export.output_dir={out_dir}",
                    "export.formats=[onnx]", f"export.images={paths[0].parent}/*.png"],
                   cwd=REPO, check=True, capture_output=True, timeout=600)
    return out_dir / "model.onnx"


@pytest.fixture(scope="module")
def blank_crops(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("blank")
    noise = np.random.default_rng(0).integers(120, 126, size=(32, 110), dtype=np.uint8)
    crops = {"white.png": Image.new("L", (120, 32), 255), "red.jpg": Image.new("RGB", (90, 30), (150, 30, 30)),
             "flat_noise.png": Image.fromarray(noise)}
    for name, image in crops.items():
        image.save(folder / name)
    return sorted(folder / name for name in crops)


def run_blocked(*arguments: str) -> subprocess.CompletedProcess:
    code = BLOCKED_RUN.format(blocked=TRAINING_STACK, arguments=list(arguments))
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_predict_with_onnx_imports_no_training_stack(onnx_model, word_files, blank_crops, tmp_path):
    paths, labels = word_files
    empty_folder = tmp_path / "no_images"
    empty_folder.mkdir()
    (empty_folder / "notes.txt").write_text("not an image")
    result = run_blocked(str(paths[0].parent), *map(str, blank_crops), str(empty_folder),
                         str(tmp_path / "missing_*.png"), "--model-path", str(onnx_model), "--batch-size", "5")
    assert "loaded: []" in result.stderr, result.stderr[-3000:]
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[1] for row in rows[:len(paths)]] == [labels[paths.index(Path(row[0]))] for row in rows[:len(paths)]]
    assert sorted(Path(row[0]) for row in rows[:len(paths)]) == sorted(paths)
    assert [row[1:] for row in rows[len(paths):]] == [["", "0.0000"]] * len(blank_crops)
    assert f"error: {empty_folder}: folder holds no image" in result.stderr
    assert f"error: {tmp_path / 'missing_*.png'}: no image file matches this pattern" in result.stderr
    assert f"read {len(paths) + len(blank_crops)} of {len(paths) + len(blank_crops)} images" in result.stderr
    assert "images/s" in result.stderr
    assert result.returncode == 1           # the empty folder and the pattern are errors


def test_help_loads_neither_torch_nor_onnxruntime():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "crnn_pl.predict", "--help"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--min-confidence" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "crnn_pl" in imported and "numpy" in imported
    assert not imported & {*TRAINING_STACK, "onnxruntime", "onnx"}, imported & {*TRAINING_STACK, "onnxruntime"}


@pytest.mark.slow
def test_min_confidence_marks_low_reads(onnx_model, word_files, blank_crops):
    paths, labels = word_files
    result = run_blocked(str(paths[0]), str(blank_crops[0]), "--model-path", str(onnx_model),
                         "--min-confidence", "0.5", "--jsonl")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["text"] == labels[0] and rows[0]["accepted"] is True
    assert rows[1] == {"path": str(blank_crops[0]), "text": "", "confidence": 0.0, "accepted": False}


@pytest.mark.slow
def test_read_stream_keeps_order_across_batches_and_threads(onnx_model, word_files, blank_crops, tmp_path):
    paths, labels = word_files
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    inputs = [paths[0], broken, blank_crops[0], *paths[1:], np.asarray(Image.open(paths[2]))]
    recognizer = Recognizer(onnx_model)
    reads = list(recognizer.read_stream(inputs, batch_size=3, workers=2))
    assert [r.text for r in reads] == [labels[0], "", "", *labels[1:], labels[2]]
    assert reads[1].error.startswith(f"{broken}: cannot read image") and reads[2].error is None
    serial = list(recognizer.read_stream(inputs, batch_size=64, workers=1))
    assert [(r.text, round(r.confidence, 5)) for r in serial] == [(r.text, round(r.confidence, 5)) for r in reads]
    with pytest.raises(ValueError, match=f"{broken}: cannot read image"):
        recognizer.read(inputs)


def test_the_core_and_the_runtime_import_no_training_stack():
    """The layers: crnn_pl/core and crnn_pl/runtime (engines, formats, Recognizer) stand on numpy,
    OpenCV and Pillow; torch, Lightning and Hydra sit above them."""
    modules = sorted(f"crnn_pl.{p.parent.name}.{p.stem}" for folder in ("core", "runtime")
                     for p in (REPO / "crnn_pl" / folder).glob("*.py") if p.stem != "__init__")
    engines = [f"crnn_pl.runtime.engines.{p.stem}" for p in (REPO / "crnn_pl" / "runtime" / "engines").glob("*.py")]
    code = (f"import importlib, sys; [importlib.import_module(m) for m in {modules + engines!r}]; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(TRAINING_STACK)!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(modules) >= 8 and result.stdout.strip() == "[]", result.stdout
