"""Model files never run code: a checkpoint whose unpickling would write a file is refused, with one
clear line, by every entry point that takes a model, and nothing is written."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO
from crnn_pl import CRNNModule
from crnn_pl.model.weights import ModelFileError, UnsafeModelError

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


class WritesAFile:
    """Unpickling this calls Path.touch: what a stranger's checkpoint could do with os.system."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


@pytest.fixture(scope="module")
def evil_checkpoint(overfit_checkpoint, tmp_path_factory) -> tuple[Path, Path]:
    """A real checkpoint of the test model with a payload beside its weights; and the file the payload
    writes. The payload is shown to work: unpickled without weights_only, it writes the file."""
    folder = tmp_path_factory.mktemp("evil")
    marker = folder / "payload_ran"
    checkpoint = torch.load(overfit_checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["note"] = WritesAFile(marker)
    path = folder / "shared_on_the_internet.ckpt"
    torch.save(checkpoint, path)
    subprocess.run([sys.executable, "-c", f"import torch; torch.load({str(path)!r}, weights_only=False)"],
                   check=True, cwd=folder, capture_output=True, timeout=120)
    assert marker.exists(), "the payload must really run when unpickled naively"
    marker.unlink()
    return path, marker


def refused(result: subprocess.CompletedProcess, path: Path, status: int = 1) -> None:
    assert result.returncode == status, result.stdout[-2000:] + result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and errors[0].startswith(f"error: {path}: refused: this file holds Python objects"), result.stderr
    assert "Traceback" not in result.stderr


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_crnn_predict_refuses_it(evil_checkpoint, word_files, tmp_path):
    path, marker = evil_checkpoint
    result = run([str(BIN / "crnn-predict"), str(word_files[0][0]), "--model-path", str(path)], tmp_path)
    refused(result, path)
    assert not marker.exists()


def test_crnn_eval_and_crnn_export_refuse_it(evil_checkpoint, tmp_path):
    path, marker = evil_checkpoint
    refused(run([str(BIN / "crnn-eval"), f"model_path={path}", "dataset.val_size=8"], tmp_path), path)
    refused(run([str(BIN / "crnn-export"), f"model_path={path}", f"export.output_dir={tmp_path / 'export'}"],
                tmp_path), path)
    assert not marker.exists() and not (tmp_path / "export").exists()


def test_training_refuses_it_as_pretrained_and_as_a_run_to_resume(evil_checkpoint, tmp_path):
    path, marker = evil_checkpoint
    small = ["model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64", "trainer.max_steps=2",
             "dataset.train_size=64", "dataset.val_size=8", "logger=none", "export=none"]
    refused(run([sys.executable, str(REPO / "train.py"), f"pretrained={path}", *small], tmp_path), path)
    run_folder = tmp_path / "someone_elses_run"
    (run_folder / "checkpoints").mkdir(parents=True)
    resumed = run_folder / "checkpoints" / "last.ckpt"
    resumed.write_bytes(path.read_bytes())
    refused(run([sys.executable, str(REPO / "train.py"), f"resume={run_folder}", *small], tmp_path), resumed)
    assert not marker.exists()


def test_load_from_checkpoint_as_the_readme_shows_refuses_it(evil_checkpoint):
    path, marker = evil_checkpoint
    with pytest.raises(UnsafeModelError, match="refused: this file holds Python objects"):
        CRNNModule.load_from_checkpoint(str(path))
    with pytest.raises(UnsafeModelError):
        CRNNModule.from_pretrained(path)
    assert not marker.exists()


def test_a_damaged_file_is_not_called_unsafe(tmp_path):
    damaged = tmp_path / "damaged.ckpt"
    damaged.write_bytes(b"not a checkpoint at all " * 8)
    with pytest.raises(ModelFileError, match=f"{damaged}: not a PyTorch checkpoint"):
        CRNNModule.load_from_checkpoint(str(damaged))
    result = run([str(BIN / "crnn-predict"), "word.png", "--model-path", str(damaged)], tmp_path)
    assert result.returncode == 1 and f"error: {damaged}: not a PyTorch checkpoint" in result.stderr, result.stderr


def test_a_checkpoint_from_training_still_loads(overfit_checkpoint, word_files):
    paths, labels = word_files
    assert [text for text, _ in CRNNModule.load_from_checkpoint(str(overfit_checkpoint)).read(paths)] == labels
