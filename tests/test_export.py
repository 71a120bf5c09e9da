"""Export to every backend through `crnn-export`, then predict and evaluate with each of them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, verification_widths
from crnn_pl.core.preprocess import prepare
from crnn_pl.data.ground_truth import format_icdar15_line
from crnn_pl.export import ExportError, Trained, writer
from crnn_pl.export.exporter import Verification, export_checkpoint
from crnn_pl.export.onnx_int8 import OnnxInt8Writer, calibration_images
from crnn_pl.model.weights import load_crnn
from crnn_pl.runtime.formats import EXPORT_FORMATS, engine, format_of
from crnn_pl.runtime.recognizer import Recognizer

BIN = Path(sys.executable).parent
EXPORTED = {"safetensors": "model.safetensors", "torchscript": "model.pt", "onnx": "model.onnx", "paddle": "paddle"}
QUANTIZED = {"onnx_int8": "model.int8.onnx"}      # verified within its own, wider tolerance


def run(command: list[str], expect: int = 0, cwd: Path = REPO) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == expect, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="session")
def exported(overfit_checkpoint, trained_crops, tmp_path_factory) -> tuple[Path, str]:
    """Every format, written and verified by the real `crnn-export` entry point, on the words as
    the overfit model learnt them: it reads them at both of the exporter's verification widths, so
    every verification read, int8's too, is a word it knows rather than garbage (conftest)."""
    out_dir = tmp_path_factory.mktemp("export")
    result = run([str(BIN / "crnn-export"), f"model_path={overfit_checkpoint}", f"export.output_dir={out_dir}",
                  f"export.images={trained_crops[0].parent}/*.png",
                  "export.formats=[safetensors,torchscript,onnx,onnx_int8,paddle,tensorrt]"])
    return out_dir, result.stdout


@pytest.mark.slow
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


@pytest.mark.slow
def test_int8_export_is_verified_quantized_and_smaller(exported):
    import onnx

    out_dir, stdout = exported
    entry = json.loads((out_dir / "manifest.json").read_text())["formats"]["onnx_int8"]
    int8, fp32 = out_dir / "model.int8.onnx", out_dir / "model.onnx"
    assert entry["file"] == int8.name and entry["tolerance"] == writer("onnx_int8").tolerance
    assert entry["max_abs_diff"] > 1e-3, entry                         # really quantized
    # Every verification read is of a word the model knows, at both widths: int8 reads all 18 as
    # PyTorch does, where its word tolerance would let 2 differ (the next test reads them itself).
    assert entry["words_agree"] == entry["words"] == 2 * (1 + 8), entry
    assert entry["word_tolerance"] == writer("onnx_int8").word_tolerance > 0
    assert int8.stat().st_size < 0.75 * fp32.stat().st_size       # int8 convolutions; the LSTMs stay float
    graph = onnx.load(str(int8)).graph
    int8_weights = {tensor.name for tensor in graph.initializer if tensor.data_type == onnx.TensorProto.INT8}
    convolution_weights = [node.input[0] for node in graph.node
                           if node.op_type == "DequantizeLinear" and node.input[0] in int8_weights]
    assert len(convolution_weights) == 7 + 1                           # every convolution and the classifier
    assert any(line.startswith("onnx_int8") for line in stdout.splitlines())


@pytest.mark.slow
def test_int8_reads_the_verification_words_as_fp32_does(exported, word_files):
    out_dir, _ = exported
    paths, labels = word_files
    int8, fp32 = Recognizer(out_dir / "model.int8.onnx"), Recognizer(out_dir / "model.onnx")
    assert (int8.format, fp32.format) == ("onnx_int8", "onnx") and int8.card == fp32.card
    assert [text for text, _ in int8.read(paths)] == [text for text, _ in fp32.read(paths)] == labels


@pytest.mark.slow
def test_exports_read_the_verification_words_at_both_widths(exported, trained_crops, overfit_checkpoint, word_files):
    """What the export's own check compares (each file against PyTorch, with int8 allowed 2 of 18
    differing words) read independently, through crnn_pl's Recognizer: each file reads every
    verification crop as labelled, at the training width and at the exporter's wider one."""
    out_dir, _ = exported
    _, labels = word_files
    widths = verification_widths(load_crnn(overfit_checkpoint)[1], trained_crops[0])
    assert len(widths) == 2
    for file_name in ("model.int8.onnx", "model.onnx"):
        recognizer = Recognizer(out_dir / file_name)
        for width in widths:
            spec = replace(recognizer.card.spec, width=width)
            images = np.stack([prepare(crop, spec) for crop in trained_crops])
            assert [text for text, _ in recognizer.read_arrays(images)] == labels, (file_name, width)


@pytest.mark.slow
def test_int8_reading_imports_no_torch(exported, word_files):
    out_dir, _ = exported
    paths, labels = word_files
    code = ("import sys; from crnn_pl.runtime.recognizer import Recognizer; "
            f"print(Recognizer({str(out_dir / 'model.int8.onnx')!r}).read([{str(paths[0])!r}])[0][0]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning', 'hydra')))")
    assert run([sys.executable, "-c", code]).stdout.splitlines() == [labels[0], "[]"]


@pytest.mark.slow
def test_int8_calibrates_on_a_folder_of_crops(exported, overfit_checkpoint, word_files, tmp_path):
    out_dir, _ = exported
    paths, _ = word_files
    crops = tmp_path / "crops"
    crops.mkdir()
    for path in paths:
        (crops / path.name).write_bytes(path.read_bytes())
    (crops / "gt.txt").write_text("not an image")
    card = engine("onnx").read_card(out_dir / "model.onnx")
    assert calibration_images(card, crops, count=10).shape == (10, 1, 32, 100)
    assert calibration_images(card, f"{crops}/*.png").shape == (16, 1, 32, 100)
    with pytest.raises(ExportError, match="no word images"):
        calibration_images(card, tmp_path / "nothing_*.png")
    backend, (model, hparams) = OnnxInt8Writer(calibration=crops), load_crnn(overfit_checkpoint)
    backend.export(Trained(model.float(), hparams), tmp_path / backend.file_name, out_dir / "model.onnx")
    _, labels = word_files
    assert [text for text, _ in Recognizer(tmp_path / backend.file_name).read(paths)] == labels
    on_crops = activation_scales(tmp_path / backend.file_name)
    on_rendered = activation_scales(out_dir / backend.file_name)     # calibrated on rendered words
    assert on_crops.keys() == on_rendered.keys() and len(on_crops) >= 8 and on_crops != on_rendered


def activation_scales(path: Path) -> dict[str, float]:
    """The calibrated quantization scale of each activation in an int8 ONNX file."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    return {tensor.name: float(numpy_helper.to_array(tensor)) for tensor in graph.initializer
            if tensor.name.endswith("_output_0_scale")}


def test_format_of_tells_int8_from_fp32_onnx():
    assert format_of("exports/model.int8.onnx") == "onnx_int8"
    assert format_of("exports.int8.onnx/model.onnx") == "onnx"
    assert format_of("model.onnx") == "onnx" and format_of("run/last.ckpt") == "ckpt"


def test_word_tolerance_is_a_share_of_the_verification_words():
    assert Verification(0.5, 16, 18, []).words_ok(0.12)
    assert not Verification(0.5, 15, 18, []).words_ok(0.12)
    assert not Verification(0.0, 17, 18, []).words_ok(writer("onnx").word_tolerance)
    assert all(writer(name).word_tolerance == 0 for name in EXPORT_FORMATS if name != "onnx_int8")


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ckpt", *EXPORTED, *QUANTIZED])
def test_predict_reads_tuongan_with_every_backend(name, exported, overfit_checkpoint, word_files, tmp_path):
    out_dir, _ = exported
    model = overfit_checkpoint if name == "ckpt" else out_dir / {**EXPORTED, **QUANTIZED}[name]
    paths, _ = word_files
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    result = run([str(BIN / "crnn-predict"), str(paths[0]), str(broken), str(paths[1]), "--model-path", str(model)],
                 expect=1)
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:2] == [str(paths[0]), "tuongan"]
    assert len(lines) == 2 and lines[1].startswith(str(paths[1]))
    assert f"error: {broken}: cannot read image" in result.stderr


@pytest.mark.slow
def test_predict_module_folder_and_jsonl(exported, word_files):
    out_dir, _ = exported
    paths, labels = word_files
    result = run([sys.executable, "-m", "crnn_pl.predict", str(paths[0].parent), "--model-path",
                  str(out_dir / "model.onnx"), "--jsonl"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["text"] for row in rows} == set(labels)
    assert all(0.0 < row["confidence"] <= 1.0 for row in rows)


@pytest.mark.slow
def test_recognizer_needs_only_the_exported_file(exported, word_files):
    out_dir, _ = exported
    paths, labels = word_files
    for file_name in EXPORTED.values():
        texts = [text for text, _ in Recognizer(out_dir / file_name).read(paths)]
        assert texts == labels


@pytest.mark.slow
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
                  f"dataset.test_dir={tmp_path}", "dataset.test_gt_name=gt.txt",
                  f"hydra.run.dir={tmp_path / 'run'}"])
    assert "exact      1.0000" in result.stdout and "1-NED      1.0000" in result.stdout
    with open(tmp_path / "run" / "predictions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 16 and all(row["exact"] == "1" for row in rows)


@pytest.mark.slow
def test_a_mismatching_backend_fails_the_export(overfit_checkpoint, word_files, tmp_path, monkeypatch):
    onnx_engine = engine("onnx")
    load = onnx_engine.load

    def off_by_a_little(path, device="cpu"):
        run_file = load(path, device)
        return lambda images: run_file(images) + 0.01

    monkeypatch.setattr(onnx_engine, "load", off_by_a_little)
    paths, _ = word_files
    with pytest.raises(ExportError, match="onnx export does not match PyTorch"):
        export_checkpoint(overfit_checkpoint, tmp_path, ["onnx"], paths)
    assert json.loads((tmp_path / "manifest.json").read_text())["formats"]["onnx"]["max_abs_diff"] > 9e-3


def test_a_48_px_model_exports_verified_and_reads_at_its_height(tmp_path):
    """image.height=48: the safetensors file rebuilds the taller network, every fp32 format is
    verified against it, and the ONNX file reads crops resized to 48 px from its card alone."""
    import torch

    from crnn_pl import CRNNModule
    from crnn_pl.model.weights import write_safetensors

    torch.manual_seed(0)
    module = CRNNModule(conv_channels=[8, 16, 16, 16, 32, 32, 32], hidden_size=16, height=48, width=150)
    source = tmp_path / "tall.safetensors"
    write_safetensors(source, module.model.state_dict(), dict(module.hparams))
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (30 + 4 * i, 90 + 10 * i), dtype=np.uint8) for i in range(8)]
    manifest = export_checkpoint(source, tmp_path / "out", ["safetensors", "onnx", "torchscript"], crops)
    for name in ("safetensors", "onnx", "torchscript"):
        entry = manifest["formats"][name]
        assert entry["max_abs_diff"] < 1e-3 and entry["words_agree"] == entry["words"], entry
        assert {tuple(shape) for shape in entry["shapes"]} >= {(1, 1, 48, 150), (8, 1, 48, 240)}
    recognizer = Recognizer(tmp_path / "out" / EXPORTED["onnx"])
    assert recognizer.card.height == 48
    assert len(recognizer.read(crops[:2])) == 2
