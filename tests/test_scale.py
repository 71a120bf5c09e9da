"""Scale out and survive, through the real entry point: DDP, sweeps, resume after SIGKILL,
fine-tuning across charsets, non-finite losses."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from conftest import FIXTURE_RENDER, FIXTURE_RENDER_OVERRIDES, REPO, SMALL_MODEL, run_train, step_of
from crnn_pl import CRNNModule
from crnn_pl.cli.sweep import summarise
from crnn_pl.core.charset import Charset
from crnn_pl.core.metrics import one_minus_ned
from crnn_pl.data.datamodule import SynthDataModule
from crnn_pl.training.module import NonFiniteLossError

TINY_MODEL = ("model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64")
ALNUM36 = "0123456789abcdefghijklmnopqrstuvwxyz"


VAL_SEED = 7     # conftest's word_files draws its random words with this seed: rng([7, index])


def fixture_words_in_validation(word_files, size: int) -> list[int]:
    """Positions where synth validation (seed VAL_SEED, rendered as the fixture renders:
    FIXTURE_RENDER, which the runs below set with FIXTURE_RENDER_OVERRIDES) holds a word the overfit
    fixture learnt: there a fine-tuned fixture model reads words, elsewhere it reads few or none."""
    validation = SynthDataModule(charset=ALNUM36, val_size=size, val_seed=VAL_SEED, num_workers=0,
                                 render=FIXTURE_RENDER)
    labels = [label for _, label in validation.renderer.samples(size, seed=VAL_SEED)]
    learnt = [i for i, label in enumerate(word_files[1][:size]) if labels[i] == label]
    assert len(learnt) >= 5, "conftest's word_files no longer shares words with synth validation seed 7"
    return learnt


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_validates_the_whole_set(overfit_checkpoint, word_files, tmp_path):
    """2-process DDP (gloo) through train.py reports what one process reports on the same
    checkpoint and validation set: the metrics cover every shard, not rank 0's.

    Four steps from scratch read nothing (val/acc 0 on every shard agrees trivially), so the run
    starts from the overfit fixture (pretrained=) and validates on words it learnt, among others."""
    fixture_words_in_validation(word_files, 32)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, str(REPO / "train.py"), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
               "trainer.precision=32-true", "trainer.max_epochs=1", "dataset.train_size=128",
               "dataset.val_size=32", f"dataset.val_seed={VAL_SEED}", "dataset.batch_size=16", "dataset.num_workers=0",
               f"pretrained={overfit_checkpoint}", "model.lr=1e-4", *TINY_MODEL, *FIXTURE_RENDER_OVERRIDES,
               "export=none", "logger=none", f"hydra.run.dir={tmp_path}"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "train_ddp_process_1.log").is_file()          # a second rank really ran
    assert len(list((tmp_path / "checkpoints").glob("epoch*.ckpt"))) == 1
    reported = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert reported["global_step"] == 128 // 2 // 16                 # each rank read its own half
    assert 0 < reported["val/acc"] < 1, reported                     # some words read, some not

    module = CRNNModule.load_from_checkpoint(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu")
    # The renderer settings train.py used: conf/dataset/synth.yaml's with the fixture's overrides.
    datamodule = SynthDataModule(charset=ALNUM36, train_size=128, val_size=32, val_seed=VAL_SEED, batch_size=16,
                                 num_workers=0, render=FIXTURE_RENDER)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False)
    single = trainer.validate(module, datamodule=datamodule, verbose=False)[0]
    for name in ("val/loss", "val/cer", "val/ned", "val/acc"):
        assert single[name] == pytest.approx(reported[name], abs=1e-5), name

    # Word by word, outside Lightning: the reported figures are the whole set's means, which
    # neither rank's shard (positions rank::2) gives alone.
    images, labels = zip(*datamodule.renderer.samples(32, seed=VAL_SEED), strict=True)
    texts = [text for text, _ in module.read(list(images))]
    exact = [float(text == label) for text, label in zip(texts, labels, strict=True)]
    ned = [one_minus_ned(text, label) for text, label in zip(texts, labels, strict=True)]
    assert sum(exact) / 32 == pytest.approx(reported["val/acc"], abs=1e-6)
    assert sum(ned) / 32 == pytest.approx(reported["val/ned"], abs=1e-5)
    for rank in (0, 1):
        assert sum(ned[rank::2]) / 16 != pytest.approx(reported["val/ned"], abs=1e-5), rank


def printed_table(output: str) -> list[list[str]]:
    """The cells of the summary table's rows: | run | overrides | best val/acc | val/acc | val/cer |."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in output.splitlines() if re.match(r"\| \d+ \|", line)]


@pytest.mark.slow
def test_a_sweep_ends_with_a_summary_table(overfit_checkpoint, word_files, tmp_path):
    # Each run fine-tunes the overfit fixture for 4 steps and validates on words it learnt (see
    # the DDP test): a small learning rate keeps most of them read, a large one loses them, so
    # the runs' accuracies differ and "best first" is not the order the runs ran in.
    fixture_words_in_validation(word_files, 16)
    result = run_train("-m", "loss=ctc,focal_ctc", "model.lr=0.0001,0.01", "trainer.max_epochs=1",
                       "dataset.train_size=32", "dataset.val_size=16", f"dataset.val_seed={VAL_SEED}",
                       "dataset.batch_size=8", "dataset.num_workers=0", f"pretrained={overfit_checkpoint}",
                       *TINY_MODEL, *FIXTURE_RENDER_OVERRIDES, "export=none", "logger=none",
                       f"hydra.sweep.dir={tmp_path}")
    with open(tmp_path / "summary.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    combos = {tuple(o for o in row["overrides"].split() if o.startswith(("loss=", "model.lr="))) for row in rows}
    assert combos == {(f"loss={loss}", f"model.lr={lr}") for loss in ("ctc", "focal_ctc") for lr in ("0.0001", "0.01")}
    assert len(rows) == 4
    assert "sweep summary (4 runs, best first)" in result.stdout

    best = [float(row["best/val_acc"]) for row in rows]
    last = [float(row["val/acc"]) for row in rows]
    assert all(0.0 <= value <= 1.0 for value in best + last)
    assert best == sorted(best, reverse=True), "summary.csv is not best first"
    assert best[0] > best[-1]                                   # the runs really differ
    assert [row["run"] for row in rows] != sorted(row["run"] for row in rows)   # so sorting moved them

    table = printed_table(result.stdout)
    assert [cells[0] for cells in table] == [row["run"] for row in rows]       # the same order
    for cells, row in zip(table, rows, strict=True):
        assert cells[1] == row["overrides"]
        printed = [float(cell) for cell in cells[2:]]
        assert printed == pytest.approx([float(row[c]) for c in ("best/val_acc", "val/acc", "val/cer")], abs=5e-5)
        assert all(0.0 <= value <= 1.0 for value in printed[:2])


def test_sweep_summary_sorts_best_first_and_falls_back_to_the_last_accuracy(tmp_path, capsys):
    """Runs without a best checkpoint (fast_dev_run) rank by their last val/acc."""
    results = {0: (0.2, 0.1), 1: (0.9, 0.8), 2: (None, 0.5), 3: (0.7, 0.7)}
    for run, (best, last) in results.items():
        (tmp_path / str(run)).mkdir()
        metrics = {"val/acc": last, "val/cer": 0.25, "val/loss": 1.5}
        if best is not None:
            metrics["best/val_acc"] = best
        (tmp_path / str(run) / "metrics.json").write_text(json.dumps({"overrides": [f"model.lr={run}"],
                                                                      "metrics": metrics}))
    summarise(tmp_path)
    with open(tmp_path / "summary.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["run"] for row in rows] == ["1", "3", "2", "0"]
    assert [row["best/val_acc"] for row in rows] == ["0.9", "0.7", "", "0.2"]
    table = printed_table(capsys.readouterr().out)
    assert [cells[:3] for cells in table] == [["1", "model.lr=1", "0.9000"], ["3", "model.lr=3", "0.7000"],
                                              ["2", "model.lr=2", "-"], ["0", "model.lr=0", "0.2000"]]


@pytest.mark.slow
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
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.slow
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


@pytest.mark.slow
def test_pretrained_starts_a_new_run_with_another_charset(overfit_checkpoint, tmp_path):
    module = CRNNModule(charset=Charset.preset("printable94").characters, case_sensitive=True, **SMALL_MODEL)
    rows = module.load_pretrained(str(overfit_checkpoint))
    assert rows == {"copied_rows": 37, "new_rows": 95 - 37, "grown": False}   # blank + 0-9 + a-z are shared
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


@pytest.mark.slow
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


class ParameterSnapshots(L.Callback):
    """The trainable parameters before training and after every training batch."""

    def __init__(self) -> None:
        self.snapshots: list[dict[str, torch.Tensor]] = []

    @staticmethod
    def take(module: CRNNModule) -> dict[str, torch.Tensor]:
        return {name: p.detach().clone() for name, p in module.named_parameters() if p.requires_grad}

    def on_train_start(self, trainer, module) -> None:
        self.snapshots.append(self.take(module))

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index) -> None:
        self.snapshots.append(self.take(module))

    def changed(self, step: int) -> bool:
        """Whether batch `step` changed any trainable parameter."""
        before, after = self.snapshots[step], self.snapshots[step + 1]
        return any(not torch.equal(before[name], after[name]) for name in before)


def fit(module: CRNNModule, steps: int, *callbacks: L.Callback) -> L.Trainer:
    datamodule = SynthDataModule(charset=ALNUM36, train_size=64, val_size=16, batch_size=8, num_workers=0)
    trainer = L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=0, callbacks=list(callbacks))
    trainer.fit(module, datamodule=datamodule)
    return trainer


def test_nonfinite_losses_are_skipped_counted_and_stop_a_diverged_run():
    module = CRNNModule(**SMALL_MODEL)
    snapshots = ParameterSnapshots()
    trainer = fit(module, 4, NaNLosses({1, 2}), snapshots)
    assert module.nonfinite_total == 2
    assert trainer.callback_metrics["train/nonfinite_losses"] == 2
    assert len(snapshots.snapshots) == 5                        # four batches ran
    assert all(torch.isfinite(p).all() for p in snapshots.snapshots[-1].values())
    # Batches 0 and 3 stepped; the NaN batches 1 and 2 left every trainable parameter as it was
    # (BatchNorm's running statistics are buffers, not parameters: any forward pass moves them).
    assert [snapshots.changed(step) for step in range(4)] == [True, False, False, True]

    diverged = CRNNModule(max_nonfinite_in_a_row=3, **SMALL_MODEL)
    with pytest.raises(NonFiniteLossError, match="3 training batches in a row gave a non-finite loss"):
        fit(diverged, 10, NaNLosses(set(range(100))))


@pytest.mark.slow
def test_optuna_search_runs_trials_and_reports_the_best(tmp_path):
    result = run_train("-m", "hparams_search=optuna", "hydra.sweeper.n_trials=2", "debug=fast", *TINY_MODEL,
                       "export=none", f"hydra.sweep.dir={tmp_path}")
    assert (tmp_path / "optimization_results.yaml").is_file()
    with open(tmp_path / "summary.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all("model.lr=" in row["overrides"] for row in rows)
    assert "Best parameters" in result.stdout + result.stderr
