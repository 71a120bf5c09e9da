"""Scale out and survive, through the real entry point: DDP, sweeps, resume after SIGKILL,
fine-tuning across charsets, non-finite losses."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from conftest import REPO, SMALL_MODEL, run_train
from crnn_pl import CRNNModule
from crnn_pl.charset import Charset
from crnn_pl.data.datamodule import SynthDataModule
from crnn_pl.module import NonFiniteLossError

TINY_MODEL = ("model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64")
ALNUM36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def test_ddp_on_two_cpu_processes_validates_the_whole_set(tmp_path):
    """2-process DDP (gloo) through train.py reports what one process reports on the same
    checkpoint and validation set: the metrics cover every shard, not rank 0's."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, str(REPO / "train.py"), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
               "trainer.precision=32-true", "trainer.max_epochs=1", "dataset.train_size=128",
               "dataset.val_size=64", "dataset.batch_size=16", "dataset.num_workers=0", *TINY_MODEL,
               "export=none", "logger=none", f"hydra.run.dir={tmp_path}"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "train_ddp_process_1.log").is_file()          # a second rank really ran
    assert len(list((tmp_path / "checkpoints").glob("epoch*.ckpt"))) == 1
    reported = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert reported["global_step"] == 128 // 2 // 16                 # each rank read its own half

    module = CRNNModule.load_from_checkpoint(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu")
    datamodule = SynthDataModule(charset=ALNUM36, train_size=128, val_size=64, batch_size=16, num_workers=0)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False)
    single = trainer.validate(module, datamodule=datamodule, verbose=False)[0]
    for name in ("val/loss", "val/cer", "val/ned", "val/acc"):
        assert single[name] == pytest.approx(reported[name], abs=1e-5), name


def test_a_sweep_ends_with_a_summary_table(tmp_path):
    result = run_train("-m", "loss=ctc,focal_ctc", "model.lr=0.001,0.002", "debug=fast", *TINY_MODEL,
                       f"hydra.sweep.dir={tmp_path}")
    with open(tmp_path / "summary.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    combos = {tuple(o for o in row["overrides"].split() if o.startswith(("loss=", "model.lr="))) for row in rows}
    assert combos == {(f"loss={loss}", f"model.lr={lr}") for loss in ("ctc", "focal_ctc") for lr in ("0.001", "0.002")}
    assert len(rows) == 4 and all(row["val/acc"] for row in rows)
    assert "sweep summary (4 runs, best first)" in result.stdout


def test_ddp_inside_a_sweep_is_refused_clearly(tmp_path):
    command = [sys.executable, str(REPO / "train.py"), "-m", "loss=ctc,focal_ctc", "trainer=ddp",
               "trainer.accelerator=cpu", "trainer.devices=2", "debug=fast", *TINY_MODEL,
               f"hydra.sweep.dir={tmp_path}"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "cannot run inside a sweep (-m)" in result.stderr and "ddp_spawn" in result.stderr


RESUME_RUN = ("trainer.deterministic=true", "trainer.precision=32-true", "trainer.max_epochs=3",
              "dataset.train_size=160", "dataset.val_size=16", "dataset.batch_size=16", "dataset.num_workers=1",
              "callbacks.step_checkpoint.every_n_train_steps=3", "export=none", *TINY_MODEL)


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]


def step_of(checkpoint: Path) -> int | None:
    try:
        return torch.load(checkpoint, map_location="cpu", weights_only=False)["global_step"]
    except Exception:       # being written right now
        return None


def test_resume_after_sigkill_continues_and_matches_an_uninterrupted_run(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run_train(*RESUME_RUN, f"hydra.run.dir={straight}")

    process = subprocess.Popen([sys.executable, str(REPO / "train.py"), *RESUME_RUN, f"hydra.run.dir={killed}"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last, step, deadline = killed / "checkpoints" / "last.ckpt", None, time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if last.is_file() and (step := step_of(last)):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "training finished before it could be killed"
    step = step_of(last)
    assert step is not None and 0 < step < 30

    result = run_train(*RESUME_RUN, f"resume={killed}")
    output = result.stdout + result.stderr
    assert f"resuming from {last}" in output and "Restoring states from the checkpoint" in output
    assert json.loads((killed / "metrics.json").read_text())["metrics"]["global_step"] == 30
    resumed, uninterrupted = weights(last), weights(straight / "checkpoints" / "last.ckpt")
    for name, value in uninterrupted.items():
        assert torch.allclose(resumed[name].float(), value.float(), atol=1e-5), name


def test_pretrained_starts_a_new_run_with_another_charset(overfit_checkpoint, tmp_path):
    module = CRNNModule(charset=Charset.preset("printable94").characters, case_sensitive=True, **SMALL_MODEL)
    rows = module.load_pretrained(str(overfit_checkpoint))
    assert rows == {"copied_rows": 37, "new_rows": 95 - 37}      # blank + 0-9 + a-z are shared
    source = CRNNModule.load_from_checkpoint(overfit_checkpoint, map_location="cpu").model
    a_new, a_old = module.charset.encode("a")[0], source_index("a")
    assert torch.equal(module.model.classifier.weight[a_new], source.classifier.weight[a_old])
    assert torch.equal(module.model.classifier.weight[0], source.classifier.weight[0])
    assert torch.equal(module.model.features[0][0].weight, source.features[0][0].weight)

    result = run_train("debug=fast", f"pretrained={overfit_checkpoint}", "charset=printable94",
                       "model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64", "export=none",
                       f"hydra.run.dir={tmp_path}")
    assert "classifier rows copied 37, new 58" in result.stdout + result.stderr


def source_index(character: str) -> int:
    return Charset.preset("alnum36").encode(character)[0]


def test_pretrained_and_resume_together_are_refused(overfit_checkpoint, tmp_path):
    command = [sys.executable, str(REPO / "train.py"), "debug=fast", f"pretrained={overfit_checkpoint}",
               f"ckpt_path={overfit_checkpoint}", *TINY_MODEL, f"hydra.run.dir={tmp_path}"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "use one of them" in result.stderr


class NaNLosses(L.Callback):
    """Makes the losses of the listed batches NaN, as a diverging run does."""

    def __init__(self, batches: set[int]) -> None:
        self.steps = batches

    def on_train_batch_start(self, trainer, module, batch, batch_index) -> None:
        compute = type(module).compute_loss
        nan = batch_index in self.steps

        def compute_loss(images, labels):
            loss, logits = compute(module, images, labels)
            return (loss * float("nan"), logits) if nan else (loss, logits)

        module.compute_loss = compute_loss


def fit(module: CRNNModule, callback: L.Callback, steps: int) -> L.Trainer:
    datamodule = SynthDataModule(charset=ALNUM36, train_size=64, val_size=16, batch_size=8, num_workers=0)
    trainer = L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=0, callbacks=[callback])
    trainer.fit(module, datamodule=datamodule)
    return trainer


def test_nonfinite_losses_are_skipped_counted_and_stop_a_diverged_run():
    module = CRNNModule(**SMALL_MODEL)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    trainer = fit(module, NaNLosses({1, 2}), steps=4)
    assert module.nonfinite_total == 2
    assert trainer.callback_metrics["train/nonfinite_losses"] == 2
    assert all(torch.isfinite(v).all() for v in module.state_dict().values() if v.is_floating_point())
    assert any(not torch.equal(before[k], v) for k, v in module.state_dict().items())

    diverged = CRNNModule(max_nonfinite_in_a_row=3, **SMALL_MODEL)
    with pytest.raises(NonFiniteLossError, match="3 training batches in a row gave a non-finite loss"):
        fit(diverged, NaNLosses(set(range(100))), steps=10)


def test_optuna_search_runs_trials_and_reports_the_best(tmp_path):
    result = run_train("-m", "hparams_search=optuna", "hydra.sweeper.n_trials=2", "debug=fast", *TINY_MODEL,
                       "export=none", f"hydra.sweep.dir={tmp_path}")
    assert (tmp_path / "optimization_results.yaml").is_file()
    with open(tmp_path / "summary.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all("model.lr=" in row["overrides"] for row in rows)
    assert "Best parameters" in result.stdout + result.stderr
