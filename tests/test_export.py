"""Export to every backend through `crnn-export`, then predict and evaluate with each of them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from crnn_pl.data.ground_truth import format_icdar15_line
from crnn_pl.export import BACKENDS, ExportError
from crnn_pl.export.exporter import export_checkpoint
from crnn_pl.recognizer import Recognizer

BIN = Path(sys.executable).parent
EXPORTED = {"torchscript": "model.pt", "onnx": "model.onnx", "paddle": "paddle"}


def run(command: list[str], expect: int = 0, cwd: Path = REPO) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == expect, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="session")
def exported(overfit_checkpoint, word_files, tmp_path_factory) -> tuple[Path, str]:
    """Every format, written and verified by the real `crnn-export` entry point."""
    out_dir = tmp_path_factory.mktemp("export")
    paths, _ = word_files
    result = run([str(BIN / "crnn-export"), f"checkpoint={overfit_checkpoint}", f"export.output_dir={out_dir}",
                  f"export.images={paths[0].parent}/*.png"])
    return out_dir, result.stdout


def test_every_backend_matches_pytorch(exported):
    out_dir, stdout = exported
    manifest = json.loads((out_dir / "manifest.json").read_text())
    for name, file_name in EXPORTED.items():
        entry = manifest["formats"][name]
        assert (out_dir / file_name).exists()
        assert entry["max_abs_diff"] < 1e-3, entry
        assert entry["words_agree"] == entry["words"] == 2 * (1 + 8)      # 2 widths x batches 1 and 8
        assert {tuple(shape) for shape in entry["shapes"]} >= {(1, 1, 32, 100), (8, 1, 32, 160)}
        assert any(line.startswith(name) for line in stdout.splitlines())
    assert manifest["formats"]["tensorrt"] == {"skipped": "needs the tensorrt package and a CUDA GPU"}
    assert "skipped tensorrt: needs the tensorrt package and a CUDA GPU" in stdout


def test_onnx_is_self_describing_with_dynamic_batch_and_width(exported):
    import onnx
    import onnxruntime as ort

    out_dir, _ = exported
    graph = onnx.load(str(out_dir / "model.onnx"))
    onnx.checker.check_model(graph)
    card = json.loads({p.key: p.value for p in graph.metadata_props}["crnn_pl"])
    assert card["charset"] == "0123456789abcdefghijklmnopqrstuvwxyz" and card["blank"] == 0
    assert (card["height"], card["channels"], card["mean"], card["std"]) == (32, 1, 0.5, 0.5)
    session = ort.InferenceSession(str(out_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(None, {"images": np.zeros((3, 1, 32, 140), np.float32)})[0]
    assert logits.shape == (3, 140 // 4 + 1, 37)


@pytest.mark.parametrize("name", ["ckpt", *EXPORTED])
def test_predict_reads_tuongan_with_every_backend(name, exported, overfit_checkpoint, word_files, tmp_path):
    out_dir, _ = exported
    model = overfit_checkpoint if name == "ckpt" else out_dir / EXPORTED[name]
    paths, _ = word_files
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    result = run([str(BIN / "crnn-predict"), str(paths[0]), str(broken), str(paths[1]), "--model", str(model)],
                 expect=1)
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:2] == [str(paths[0]), "tuongan"]
    assert len(lines) == 2 and lines[1].startswith(str(paths[1]))
    assert f"error: {broken}: cannot read image" in result.stderr


def test_predict_module_folder_and_jsonl(exported, word_files):
    out_dir, _ = exported
    paths, labels = word_files
    result = run([sys.executable, "-m", "crnn_pl.predict", str(paths[0].parent), "--model",
                  str(out_dir / "model.onnx"), "--jsonl"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["text"] for row in rows} == set(labels)
    assert all(0.0 < row["confidence"] <= 1.0 for row in rows)


def test_recognizer_needs_only_the_exported_file(exported, word_files):
    out_dir, _ = exported
    paths, labels = word_files
    for file_name in EXPORTED.values():
        texts = [text for text, _ in Recognizer(out_dir / file_name).read(paths)]
        assert texts == labels


@pytest.mark.parametrize("name", ["ckpt", "onnx", "paddle"])
def test_eval_scores_a_folder_and_writes_predictions(name, exported, overfit_checkpoint, word_files, tmp_path):
    out_dir, _ = exported
    paths, labels = word_files
    (tmp_path / "gt.txt").write_text(
        "\n".join(format_icdar15_line(p.name, label) for p, label in zip(paths, labels, strict=True)), "utf-8")
    for path in paths:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    model = overfit_checkpoint if name == "ckpt" else out_dir / EXPORTED[name]
    result = run([str(BIN / "crnn-eval"), f"model_path={model}", "dataset=icdar15",
                  f"dataset.test_dir={tmp_path}", "dataset.test_gt_name=gt.txt", "num_workers=0",
                  f"hydra.run.dir={tmp_path / 'run'}"])
    assert "accuracy   1.0000" in result.stdout and "1-NED      1.0000" in result.stdout
    with open(tmp_path / "run" / "predictions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 16 and all(row["correct"] == "1" for row in rows)


def test_a_mismatching_backend_fails_the_export(overfit_checkpoint, word_files, tmp_path, monkeypatch):
    onnx_backend = BACKENDS["onnx"]
    load = onnx_backend.load

    def off_by_a_little(path, device="cpu"):
        run_file = load(path, device)
        return lambda images: run_file(images) + 0.01

    monkeypatch.setattr(onnx_backend, "load", off_by_a_little)
    paths, _ = word_files
    with pytest.raises(ExportError, match="onnx export does not match PyTorch"):
        export_checkpoint(overfit_checkpoint, tmp_path, ["onnx"], paths)
    assert json.loads((tmp_path / "manifest.json").read_text())["formats"]["onnx"]["max_abs_diff"] > 9e-3
