"""`python train.py` through Hydra, as a user runs it."""

import json
import re

import pytest
import torch
from omegaconf import OmegaConf

from conftest import REPO, run_train
from crnn_pl import CRNNModule
from crnn_pl.training.losses import FocalCTCLoss

pytestmark = pytest.mark.slow      # every test here runs train.py in a subprocess

TINY_MODEL = ("model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64")


@pytest.mark.parametrize("loss", ["ctc", "focal_ctc"])
def test_fast_dev_run_through_hydra(tmp_path, loss):
    result = run_train("debug=fast", f"loss={loss}", *TINY_MODEL, f"hydra.run.dir={tmp_path}")
    config = OmegaConf.load(tmp_path / "config.yaml")
    assert config.loss.name == loss
    assert config.image.height == 32
    assert "val/acc" in result.stdout + result.stderr


def test_multirun_sweeps_both_losses(tmp_path):
    run_train("-m", "loss=ctc,focal_ctc", "debug=fast", *TINY_MODEL, f"hydra.sweep.dir={tmp_path}")
    runs = sorted(p for p in tmp_path.iterdir() if p.is_dir() and p.name.isdigit())
    assert [p.name for p in runs] == ["0", "1"]
    losses = [OmegaConf.load(run / "config.yaml").loss.name for run in runs]
    assert losses == ["ctc", "focal_ctc"]


def test_short_training_writes_checkpoints_logs_and_summary(tmp_path):
    result = run_train(
        *TINY_MODEL, "trainer.max_epochs=2", "dataset.train_size=128", "dataset.val_size=32",
        "dataset.batch_size=16", "dataset.num_workers=1", f"hydra.run.dir={tmp_path}",
    )
    output = result.stdout + result.stderr
    checkpoints = tmp_path / "checkpoints"
    assert (checkpoints / "last.ckpt").is_file()
    best = [p for p in checkpoints.glob("epoch*.ckpt")]
    assert len(best) == 1
    assert re.search(r"best/checkpoint\s+\S*" + re.escape(best[0].name), output)
    assert re.search(r"best/val_acc\s+\d\.\d{4}", output)
    assert list((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))
    state = torch.load(checkpoints / "last.ckpt", map_location="cpu", weights_only=True)
    assert state["epoch"] == 1 and state["global_step"] == 16
    assert state["hyper_parameters"]["charset"] == "0123456789abcdefghijklmnopqrstuvwxyz"
    # ExportCallback: after fit, the best checkpoint went to every format that runs here, verified.
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["checkpoint"] == str(best[0])
    for name in ("torchscript", "onnx", "paddle"):
        assert manifest["formats"][name]["words_agree"] == manifest["formats"][name]["words"]
    assert "skipped" in manifest["formats"]["tensorrt"]


def test_focal_ctc_settings_reach_the_trained_module(tmp_path):
    defaults = OmegaConf.load(REPO / "conf" / "loss" / "focal_ctc.yaml")
    alpha, gamma = 0.3, 1.5
    assert (alpha, gamma) != (defaults.alpha, defaults.gamma)      # so the defaults cannot pass for them
    run_train(
        "loss=focal_ctc", f"loss.alpha={alpha}", f"loss.gamma={gamma}", *TINY_MODEL, "trainer.max_epochs=1",
        "dataset.train_size=16", "dataset.val_size=8", "dataset.batch_size=8", "dataset.num_workers=0",
        "export=none", "logger=none", f"hydra.run.dir={tmp_path}",
    )
    checkpoint = tmp_path / "checkpoints" / "last.ckpt"
    hparams = torch.load(checkpoint, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert (hparams["loss"], hparams["focal_alpha"], hparams["focal_gamma"]) == ("focal_ctc", alpha, gamma)
    module = CRNNModule.load_from_checkpoint(checkpoint, map_location="cpu")
    assert isinstance(module.loss_fn, FocalCTCLoss)
    assert (module.loss_fn.alpha, module.loss_fn.gamma) == (alpha, gamma)


def test_taller_input_randaugment_and_one_thread_through_hydra(tmp_path):
    """The ablation's knobs as a user types them: a 48 px input, RandAugment on the rendered words
    (they reach the dataset's training split), one torch thread beside the render worker."""
    result = run_train("debug=fast", *TINY_MODEL, "image.height=48", "image.width=150",
                       "augment=randaugment", "torch_threads=1", f"hydra.run.dir={tmp_path}")
    output = result.stdout + result.stderr
    assert "MFLOPs per 48x150 image" in output and "; torch threads: 1" in output
    config = OmegaConf.load(tmp_path / "config.yaml")
    assert config.augment.policy == "randaugment" and config.image.height == 48


def test_fast_dev_run_skips_the_export(tmp_path):
    result = run_train("debug=fast", *TINY_MODEL, f"hydra.run.dir={tmp_path}")
    assert "export skipped: no best checkpoint" in result.stdout + result.stderr
    assert not (tmp_path / "export").exists()


def train_expecting_an_error(tmp_path, *overrides: str, full_error: bool = False):
    import os
    import subprocess
    import sys

    env = dict(os.environ, HYDRA_FULL_ERROR="1") if full_error else {k: v for k, v in os.environ.items()
                                                                      if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, str(REPO / "train.py"), *TINY_MODEL, "logger=none", "export=none",
                           f"hydra.run.dir={tmp_path / 'run'}", *overrides], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("overrides", "message"), [
    (("dataset.train_size=8", "dataset.batch_size=16"),
     "error: synth: the training split holds 8 samples, fewer than one batch of dataset.batch_size=16"),
    (("charset=file", "charset.path=dict.txt"), "error: dict.txt:2: expected one character per line, got 'ab'"),
    (("dataset=icdar15", "dataset.train_dir=no_such_folder"), "error: no_such_folder: folder not found"),
])
def test_a_mistake_a_user_can_fix_is_one_line(tmp_path, overrides, message):
    """Raised inside a DataModule hook or while building the charset, not a Lightning traceback."""
    (tmp_path / "dict.txt").write_text("a\nab\nc\n", encoding="utf-8")
    result = train_expecting_an_error(tmp_path, *overrides)
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr[-3000:]
    assert "Traceback" not in result.stderr


def test_hydra_full_error_shows_the_traceback(tmp_path):
    result = train_expecting_an_error(tmp_path, "dataset.train_size=8", "dataset.batch_size=16", full_error=True)
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert "fewer than one batch of dataset.batch_size=16" in result.stderr
