"""Every command README.md and data/README.md show a user, run as written in a fresh clone.

Each command string below is checked to appear verbatim in the READMEs (`as_written`), its
placeholders (`<run>`, `OUT`, `DIR`...) are filled with real paths, and only size-shrinking
overrides are appended (tiny widths, few steps, small datasets). None sets the run folder: the
runs land where a user's land, in the clone's `outputs/`, and each test finds them there.
Commands that need a CUDA GPU (trainer=gpu, trainer=ddp on GPUs, torchrun, srun) are run only
where one exists.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image

from conftest import (
    NOTEBOOK_WORDS,
    REPO,
    as_written,
    clone_venv,
    make_checkout,
    run_as_user,
    run_folders,
    step_of,
    user_environment,
)
from crnn_pl import CRNNModule, DecoderSettings, Recognizer
from crnn_pl.cli.train import cpu_bf16_flags
from crnn_pl.core.metrics import matches36
from crnn_pl.pretrained import resolve_model

pytestmark = pytest.mark.slow      # every test here works in a clone of the repository

# Size-shrinking overrides, the only thing appended to the README's commands.
TINY = "'model.conv_channels=[16,32,48,48,96,96,96]' model.hidden_size=64"
FEW = "trainer.max_epochs=1 dataset.train_size=64 dataset.val_size=32"
RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}$")
NEEDS_GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="the README's GPU commands need a CUDA GPU")


def only_new(after: set[Path], before: set[Path]) -> Path:
    new = after - before
    assert len(new) == 1, f"expected one new run folder, got {sorted(map(str, new))}"
    return new.pop()


# Not the checkout's own files: its environment, and the bytecode python caches beside what it imports.
NOT_THE_CHECKOUT = {".venv", "__pycache__"}


def snapshot(checkout: Path, leave_out: tuple[str, ...] = ()) -> dict[str, tuple[int, int] | None]:
    """Every folder (None) and file (size, mtime) under `checkout`, recursively and not following
    symlinks, but for its top-level entries `leave_out` and NOT_THE_CHECKOUT anywhere."""
    entries: dict[str, tuple[int, int] | None] = {}
    for directory, folders, files in os.walk(checkout):
        here = Path(directory)
        skip = NOT_THE_CHECKOUT | (set(leave_out) if here == checkout else set())
        folders[:] = [name for name in folders if name not in skip]
        for name in folders:
            entries[f"{(here / name).relative_to(checkout)}/"] = None
        for name in files:
            if name not in skip:
                info = (here / name).lstat()
                entries[str((here / name).relative_to(checkout))] = (info.st_size, info.st_mtime_ns)
    return entries


def changed(before: dict, after: dict) -> list[str]:
    """The paths written, removed or created between two snapshots."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path, 0) != after.get(path, 0))


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone where the README's training commands run, one after another."""
    return make_checkout(tmp_path_factory.mktemp("user") / "crnn_pl")


@pytest.fixture(scope="module")
def first_run(clone) -> tuple[Path, dict, str]:
    """`python train.py`, the first command a user types: the run folder, a snapshot of the clone
    outside outputs/ before it, and the output."""
    before = snapshot(clone, leave_out=("outputs",))
    result = run_as_user(f"{as_written('python train.py')} {TINY} {FEW}", clone)
    return only_new(run_folders(clone), set()), before, result.stdout + result.stderr


@pytest.fixture(scope="module")
def synthetic_icdar15(clone) -> Path:
    """`crnn-make-synth` writes the ICDAR 2015-layout folder the dataset=icdar15 commands train on."""
    folder = clone / "data" / "icdar15" / "ch4_training_word_images_gt"
    run_as_user(as_written("crnn-make-synth OUT --count N", OUT="data/icdar15/ch4_training_word_images_gt",
                           N="80"), clone)
    return folder


def test_python_train_py_writes_a_new_dated_run_folder_and_nothing_else(clone, first_run):
    run, before, output = first_run
    assert run.parent == clone / "outputs" / "train" / "runs" and RUN_NAME.match(run.name), run
    assert not changed(before, snapshot(clone, leave_out=("outputs",))), "wrote outside outputs/"
    for name in ("config.yaml", ".hydra/overrides.yaml", "train.log", "metrics.json", "checkpoints/last.ckpt",
                 "export/manifest.json"):
        assert (run / name).is_file(), name
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert f"outputs in {run}" in output
    # stdout is not a terminal here: progress comes as log lines, in the output and in train.log
    log_text = (run / "train.log").read_text()
    for text in (output, log_text):
        assert "training: 2 steps (1 epochs), progress every 100 steps" in text
        assert re.search(r"validation after step 2: val/acc \d\.\d{4}", text), text[-2000:]


def test_make_in_a_clone_takes_nothing_from_the_make_running_the_tests(tmp_path, monkeypatch):
    """`make test ARGS=...` hands its variables to these tests in the environment; a `make` typed in a
    clone must not see them. And it finds `make install` done, in a .venv that installs into the
    clone only, never into the environment running the tests."""
    user = tmp_path / "crnn_pl"
    user.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO / name, user / name)
    venv = clone_venv(user)
    # what `make test ARGS="-x tests/test_export.py"` puts in the environment of these tests
    monkeypatch.setenv("MAKEFLAGS", " -- ARGS=-x\\ tests/test_export.py")
    monkeypatch.setenv("MAKELEVEL", "1")
    passed_on = subprocess.run(["make", "-n", "export"], cwd=user, capture_output=True, text=True).stdout
    assert "crnn-export -x tests/test_export.py" in passed_on        # what a clone's make did with them
    assert run_as_user("make -n export", user).stdout.split() == [".venv/bin/crnn-export"]   # no install step
    assert (venv / "bin" / "crnn-export").exists() and not (venv / "bin" / "pip").exists()
    # make's install rule runs `.venv/bin/python -m pip`: that python's prefix is the clone's .venv
    code = "import sys, sysconfig, lightning; print(sys.prefix); print(sysconfig.get_paths()['purelib'])"
    prefix, site_packages = run_as_user(f'.venv/bin/python -c "{code}"', user).stdout.split()
    assert Path(prefix).resolve() == venv.resolve() and Path(site_packages).resolve().is_relative_to(venv.resolve())


def test_make_train_runs_the_default_recipe(clone):
    before = run_folders(clone)
    command = as_written("make train")
    result = run_as_user(f'{command} ARGS="{TINY} {FEW} callbacks.progress_bar.every_n_steps=1"', clone)
    run = only_new(run_folders(clone), before)
    config = OmegaConf.load(run / "config.yaml")
    # experiment=cpu_15min; precision=auto resolved for this CPU, and the run's config says which
    assert config.model.lr == 1.5e-3 and config.trainer.precision == ("bf16-mixed" if cpu_bf16_flags() else "32-true")
    assert config.trainer.max_time == "00:02:00:00"     # a safety net, not the recipe's length
    output = result.stdout + result.stderr
    assert f"trainer.precision=auto: {config.trainer.precision} (this CPU" in output
    assert "train.py experiment=cpu_15min" in output
    assert "; torch threads: 1" in output           # one core trains, the other renders
    # progress under a pipe (nohup, SLURM, CI): a line per N steps with speed and ETA
    progress_line = r"epoch 1/1 +step 1/2 \(50%\) +\d+ images/s +loss \d+\.\d{4} +ETA \d+:\d\d"
    assert re.search(progress_line, output), output[-3000:]
    assert re.search(r"validation after step 2: val/acc \d\.\d{4}", output)
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 2


def test_crnn_train_console_script(clone):
    before = run_folders(clone)
    run_as_user(f"{as_written('crnn-train loss=focal_ctc')} {TINY} {FEW}", clone)
    run = only_new(run_folders(clone), before)
    hparams = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["hyper_parameters"]
    assert hparams["loss"] == "focal_ctc"


def test_printable94_rgb_big_batches(clone):
    before = run_folders(clone)
    run_as_user(f"{as_written('python train.py charset=printable94 image.channels=3 dataset.batch_size=128')} "
                f"{TINY} {FEW} dataset.train_size=128", clone)
    hparams = torch.load(only_new(run_folders(clone), before) / "checkpoints" / "last.ckpt",
                         weights_only=True)["hyper_parameters"]
    assert hparams["channels"] == 3 and len(hparams["charset"]) == 94


STAGE_1 = "outputs/pretrain_en/runs/<run>/checkpoints/<best>.ckpt"


def test_gpu_commands_compose(clone):
    """The GPU lines cannot run here; Hydra composes each of them as written (`--cfg job`)."""
    for command in ("python train.py loss=focal_ctc model=crnn trainer=gpu", "python train.py trainer=ddp model=crnn",
                    "python train.py trainer=ddp trainer.devices=4 trainer.sync_batchnorm=true",
                    "python train.py experiment=pretrain_en_gpu pretrained=" + STAGE_1):
        # the README's stage-1 checkpoint placeholder: the shipped model stands in for it here
        placeholders = {STAGE_1: "en"} if STAGE_1 in command else {}
        config = OmegaConf.create(run_as_user(f"{as_written(command, **placeholders)} --cfg job", clone).stdout)
        assert config.trainer.accelerator == "gpu" and config.trainer.precision == "bf16-mixed"
    gpu_recipe = OmegaConf.create(run_as_user("python train.py experiment=pretrain_en_gpu --cfg job", clone).stdout)
    assert gpu_recipe.task_name == "pretrain_en_gpu" and gpu_recipe.dataset.batch_size == 128
    # The shipped model's second stage: from stage 1 (README) or, by default, the shipped en; 12,516 steps.
    assert gpu_recipe.pretrained == "en"
    assert gpu_recipe.trainer.max_steps == 12516 and gpu_recipe.model.lr == 1e-3
    assert gpu_recipe.model.read_max_width == 160
    assert list(gpu_recipe.dataset.sources.synth.render.font_sources) == ["packages", "shipped"]


# One command over two lines (`\`): torchrun starts the second, `python train.py ...`, on each GPU of each node.
TORCHRUN = ("torchrun --nnodes=2 --nproc-per-node=8 --node-rank=$NODE_RANK --master-addr=$MASTER \\",
            "train.py trainer=ddp trainer.devices=8 trainer.num_nodes=2 hydra.run.dir=outputs/big_run")
SRUN = ("srun --nodes=2 --ntasks-per-node=8 --gpus-per-node=8 python train.py trainer=ddp trainer.devices=8 "
        "trainer.num_nodes=2 hydra.run.dir=outputs/big_run")


def test_multi_node_launch_lines_compose(clone):
    """With no cluster here, Hydra composes the training command each launcher line starts (`--cfg
    all`) as written, and its overrides ask Lightning for what the launcher starts: as many nodes,
    as many processes (GPUs) per node."""
    torchrun, script = (as_written(line) for line in TORCHRUN)
    srun, launched = as_written(SRUN).split(" python ", 1)
    configs = {}
    for launcher, command, nodes, per_node in ((torchrun, f"python {script}", "nnodes", "nproc-per-node"),
                                               (srun, f"python {launched}", "nodes", "ntasks-per-node")):
        config = configs[launcher.split()[0]] = OmegaConf.create(run_as_user(f"{command} --cfg all", clone).stdout)
        assert config.trainer.strategy == "ddp" and config.trainer.accelerator == "gpu", command
        assert config.trainer.num_nodes == int(re.search(rf"--{nodes}=(\d+)", launcher)[1]) == 2, command
        assert config.trainer.devices == int(re.search(rf"--{per_node}=(\d+)", launcher)[1]) == 8, command
    # every rank, started apart on each node, writes into the one run folder the line names
    assert configs["torchrun"].hydra.run.dir == configs["srun"].hydra.run.dir == "outputs/big_run"


@NEEDS_GPU
def test_gpu_training(clone):
    run_as_user(f"{as_written('python train.py loss=focal_ctc model=crnn trainer=gpu')} {TINY} {FEW}", clone)


def test_sweeps_write_default_multirun_folders(clone):
    for command, runs in (("python train.py -m loss=ctc,focal_ctc", 2),
                          ("python train.py -m loss=ctc,focal_ctc model.lr=0.001,0.002", 4),
                          ("python train.py -m hparams_search=optuna hydra.sweeper.n_trials=20", 2)):
        before = run_folders(clone, "multiruns")
        result = run_as_user(f"{as_written(command)} {TINY} debug=fast hydra.sweeper.n_trials=2"
                             if "optuna" in command else f"{as_written(command)} {TINY} debug=fast", clone)
        sweep = only_new(run_folders(clone, "multiruns"), before)
        assert RUN_NAME.match(sweep.name)
        assert sorted(p.name for p in sweep.iterdir() if p.is_dir() and p.name.isdigit()) == [
            str(n) for n in range(runs)]
        if "optuna" not in command:
            with open(sweep / "summary.csv", encoding="utf-8") as handle:
                assert len(list(csv.DictReader(handle))) == runs
            assert f"sweep summary ({runs} runs, best first)" in result.stdout


RESUMABLE = (f"{TINY} trainer.max_epochs=3 dataset.train_size=160 dataset.val_size=16 dataset.batch_size=16 "
             "callbacks.step_checkpoint.every_n_train_steps=3 trainer.precision=32-true")


def killed_run(user: Path) -> Path:
    """`python train.py` SIGKILLed right after its first step checkpoint: a crashed run."""
    process = subprocess.Popen(f"python train.py {RESUMABLE}", shell=True, cwd=user, env=user_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        checkpoints = list((user / "outputs" / "train" / "runs").glob("*/checkpoints/last.ckpt"))
        if checkpoints and step_of(checkpoints[0]):
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "training finished before it could be killed"
    (run,) = run_folders(user)
    assert 0 < step_of(run / "checkpoints" / "last.ckpt") < 30
    return run


@pytest.mark.parametrize("spelling", ["python train.py <same overrides> resume=outputs/train/runs/<run>",
                                      "hydra.run.dir=<run> ckpt_path=last"])
def test_resume_continues_a_killed_run_in_its_own_folder(spelling, tmp_path):
    user = make_checkout(tmp_path / "crnn_pl")
    run = killed_run(user)
    if spelling.startswith("python"):
        command = as_written(spelling, **{"<same overrides>": RESUMABLE, "<run>": run.name})
    else:
        command = f"python train.py {RESUMABLE} " + as_written(spelling, **{"<run>": f"outputs/train/runs/{run.name}"})
    output = run_as_user(command, user)
    assert re.search(rf"resuming from \S*{run.name}/checkpoints/last.ckpt", output.stdout + output.stderr)
    assert run_folders(user) == {run}, "resume must continue the run's folder, not start another"
    assert step_of(run / "checkpoints" / "last.ckpt") == 30


def test_resume_from_an_explicit_checkpoint_file(tmp_path):
    """`ckpt_path=<file>`: a new run continues from that file's state, at the step after the one it
    was saved at, and ends where the uninterrupted run would."""
    user = make_checkout(tmp_path / "crnn_pl")
    run = killed_run(user)
    kept = user / "kept.ckpt"               # a checkpoint file of the user's, outside any run folder
    shutil.copy(run / "checkpoints" / "last.ckpt", kept)
    command = f"python train.py {RESUMABLE} " + as_written("ckpt_path=<file>", **{"<file>": kept.name})
    result = run_as_user(f"{command} callbacks.progress_bar.every_n_steps=1", user)
    output = result.stdout + result.stderr
    assert "resuming from kept.ckpt" in output
    first_step = int(re.search(r"epoch \d+/3 +step (\d+)/30 ", output)[1])
    assert first_step == step_of(kept) + 1, output[-3000:]
    (new,) = run_folders(user) - {run}
    assert step_of(new / "checkpoints" / "last.ckpt") == 30


def test_resume_with_another_schedule_is_a_clear_error(clone, first_run, tmp_path):
    user = make_checkout(tmp_path / "crnn_pl")
    run = user / "outputs" / "train" / "runs" / first_run[0].name
    shutil.copytree(first_run[0], run)
    command = as_written("python train.py <same overrides> resume=outputs/train/runs/<run>",
                         **{"<same overrides>": f"{TINY} {FEW}", "<run>": run.name})
    result = run_as_user(f"{command} trainer.max_epochs=5", user, expect_ok=False)
    assert result.returncode == 1
    assert "continue a run with the overrides it was started with" in result.stderr, result.stderr[-3000:]


@pytest.mark.parametrize(("argument", "message"), [
    ("resume=", "error: resume= is empty"),
    ("resume=outputs/train/runs/2026-01-01_00-00-00",
     "error: resume=outputs/train/runs/2026-01-01_00-00-00: no such run folder"),
])
def test_a_bad_resume_is_one_clear_error_and_writes_nothing(argument, message, tmp_path):
    user = make_checkout(tmp_path / "crnn_pl")
    before = snapshot(user)
    result = run_as_user(f"python train.py {argument}", user, expect_ok=False)
    assert result.returncode == 1 and result.stderr.strip().splitlines()[-1].startswith(message), result.stderr[-2000:]
    assert not changed(before, snapshot(user))


def test_pretrained_fine_tunes_a_new_run_across_charsets(clone, first_run, synthetic_icdar15):
    checkpoint = str(first_run[0] / "checkpoints" / "last.ckpt")
    for command in ("python train.py dataset=icdar15 pretrained=<checkpoint>",
                    "python train.py dataset=icdar15 pretrained=<checkpoint> charset=printable94"):
        before = run_folders(clone)
        result = run_as_user(f"{as_written(command, **{'<checkpoint>': checkpoint})} {TINY} trainer.max_epochs=1",
                             clone)
        state = torch.load(only_new(run_folders(clone), before) / "checkpoints" / "last.ckpt", weights_only=True)
        assert state["global_step"] == 1                       # a new run: its own step count
        # the blank and the 36 alphanumerics carry over; printable94 adds 58 characters of its own
        new_rows = 58 if "printable94" in command else 0
        assert f"classifier rows copied 37, new {new_rows}" in result.stdout + result.stderr


def test_icdar15_commands_train_on_a_folder_of_crops(clone, synthetic_icdar15):
    for command in (as_written("python train.py dataset=icdar15 dataset.train_dir=/data/ch4_training_word_images_gt",
                               **{"/data/ch4_training_word_images_gt": str(synthetic_icdar15)}),
                    as_written("python train.py dataset=icdar15")):
        before = run_folders(clone)
        result = run_as_user(f"{command} {TINY} trainer.max_epochs=1", clone)
        output = result.stdout + result.stderr
        assert "gt.txt): kept 80 of 80 samples" in output
        assert "8 of the training crops held out for validation" in output
        assert (only_new(run_folders(clone), before) / "checkpoints" / "last.ckpt").is_file()


def test_mix_trains_on_rendered_and_real_words_in_one_stream(clone, synthetic_icdar15):
    before = run_folders(clone)
    result = run_as_user(f"{as_written('python train.py dataset=mix')} {TINY} trainer.max_epochs=2 "
                         "dataset.train_size=64 dataset.sources.synth.val_size=16", clone)
    output = result.stdout + result.stderr
    assert "mix: synth 80%, icdar15 20% of 64 samples per epoch" in output
    assert "8 of the training crops held out for validation" in output
    assert re.search(r"validation after step 4: val/acc \d\.\d{4}", output)    # a second epoch validates too
    run = only_new(run_folders(clone), before)
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 4


def test_pretrain_en_recipe_reads_rendered_and_real_words_in_its_own_folder(clone, synthetic_icdar15):
    before, train_before = run_folders(clone, task="pretrain_en"), run_folders(clone)
    result = run_as_user(f"{as_written('OMP_NUM_THREADS=1 python train.py experiment=pretrain_en')} {TINY} "
                         "trainer.max_epochs=1 dataset.train_size=64 dataset.sources.synth.val_size=16", clone)
    output = result.stdout + result.stderr
    assert re.search(r"synth: (\d+) fonts", output) and int(re.search(r"synth: (\d+) fonts", output)[1]) >= 400
    assert "mix: synth 85%, icdar15 15% of 64 samples per epoch" in output
    assert "training: 2 steps (1 epochs)" in output
    run = only_new(run_folders(clone, task="pretrain_en"), before)
    assert (run / "checkpoints" / "last.ckpt").is_file() and run_folders(clone) == train_before


def run_recipe(clone: Path, command: str, task: str) -> tuple[str, dict]:
    """A README recipe as written, one tiny epoch: its output and its new run's hyper-parameters."""
    before = run_folders(clone, task=task)
    result = run_as_user(f"{as_written(command)} trainer.max_epochs=1 dataset.train_size=64 "
                         "dataset.sources.synth.val_size=16", clone)
    run = only_new(run_folders(clone, task=task), before)
    hparams = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["hyper_parameters"]
    return result.stdout + result.stderr, hparams


def test_en_v3_recipe_reads_as_written_from_the_shipped_model(clone, synthetic_icdar15):
    output, hparams = run_recipe(clone, "OMP_NUM_THREADS=1 python train.py experiment=en_v3", "en_v3")
    assert "fine-tuning from en: classifier rows copied 95, new 0" in output
    assert "mix: synth 80%, icdar15 20% of 64 samples per epoch" in output
    assert len(hparams["charset"]) == 94 and hparams["case_sensitive"] and hparams["read_max_width"] == 160


@pytest.fixture(scope="module")
def synthetic_ic13(clone) -> Path:
    """The ICDAR 2013 born-digital layout the en_v4 stages train on, written by `crnn-make-synth`."""
    run_as_user(as_written("crnn-make-synth OUT --count N", OUT="data/ic13_born_digital/train", N="60"), clone)
    return clone / "data" / "ic13_born_digital" / "train"


def test_en_v4_stage1_recipe_trains_on_both_real_sets_from_the_shipped_model(clone, synthetic_icdar15,
                                                                             synthetic_ic13):
    output, hparams = run_recipe(clone, "python train.py experiment=en_v4_stage1", "en_v4_stage1")
    assert "fine-tuning from en: classifier rows copied 95, new 0" in output
    assert "mix: synth 50%, icdar15 30%, ic13_born_digital 20% of 64 samples per epoch" in output
    assert len(hparams["charset"]) == 94 and hparams["case_sensitive"] and hparams["read_max_width"] == 160
    # the model it makes reads against English words by default, as the shipped `en` does
    assert hparams["decoder"] == {"name": "lexicon", "lexicon": "en"}


def test_en_v4_stage2_recipe_grows_the_shipped_model_into_crnn_mid(clone, synthetic_icdar15, synthetic_ic13):
    output, hparams = run_recipe(clone, "python train.py experiment=en_v4_stage2", "en_v4_stage2")
    assert "fine-tuning from en: classifier rows copied 95, new 0; grown into this wider network" in output
    assert list(hparams["conv_channels"]) == [40, 80, 128, 128, 224, 224, 224] and hparams["hidden_size"] == 160


def test_finetune_icdar15_starts_from_the_shipped_model(clone, synthetic_icdar15):
    result = run_as_user(f"{as_written('python train.py experiment=finetune_icdar15')} trainer.max_epochs=1", clone)
    output = result.stdout + result.stderr
    assert "fine-tuning from en: classifier rows copied 37, new 0" in output
    assert "8 of the training crops held out for validation" in output
    run = only_new(run_folders(clone, task="finetune_icdar15"), set())
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 2           # 72 training crops in batches of 32, the partial one dropped
    # one epoch from the shipped weights already reads rendered-alike crops: not a fresh network
    assert float(re.findall(r"val/acc36 (\d\.\d{4})", output)[-1]) >= 0.5


def test_bench_precision_times_both_precisions_and_names_the_cpus_bf16(clone):
    """The README's measurement behind trainer.precision=auto, one timed step each."""
    output = run_as_user(f'{as_written("python scripts/bench_precision.py")} --seconds 0.01', clone).stdout
    assert re.search(r"float32 \d+\.\d{3} s/step, bf16 \d+\.\d{3} s/step: bf16 takes \d+\.\d{2}x", output), output
    assert ("native bf16: none;" in output) == (not cpu_bf16_flags()), output


def test_shipped_model_commands(clone, synthetic_icdar15, word_files):
    paths, labels = word_files
    shutil.copy(paths[0], clone / "word_1.png")
    shutil.copy(paths[1], clone / "word_2.png")
    read = run_as_user(as_written("crnn-predict word_1.png"), clone).stdout.split("\t")
    assert read[:2] == ["word_1.png", labels[0]]
    snippet = "\n".join(["from crnn_pl import CRNNModule", as_written('model = CRNNModule.from_pretrained("en")'),
                         "print(" + as_written('model.read(["word_1.png", "word_2.png"])') + ")"])
    result = run_as_user(f"python -c '{snippet}'", clone)
    assert [text for text, _ in eval(result.stdout.strip().splitlines()[-1])] == labels[:2]
    recognizer = "\n".join(["from crnn_pl import Recognizer",
                            "print(" + as_written('Recognizer("en").read(["word_1.png", "word_2.png"])') + ")"])
    result = run_as_user(f"python -c '{recognizer}'", clone)
    assert [text for text, _ in eval(result.stdout.strip().splitlines()[-1])] == labels[:2]
    package = sorted(resolve_model("en").parent.iterdir())
    run_as_user(as_written("crnn-export model_path=en 'export.formats=[onnx,onnx_int8]'"), clone)
    # Beyond the export's own check (int8 may differ from PyTorch on 2 of its 18 reads): every known
    # word reads through each exported file as through the PyTorch model, which knows them.
    pytorch = [text for text, _ in CRNNModule.from_pretrained("en").read(paths)]
    # the fixture's labels are alnum36; en reads as written ("FESSY" for "fessy"): compared by acc36
    assert sum(matches36(text, label) for text, label in zip(pytorch, labels, strict=True)) >= 15, pytorch
    reads = [text for text, _ in Recognizer(clone / "outputs" / "export" / "en" / "model.onnx").read(paths)]
    assert reads == pytorch
    # int8 is approximate by design (docs/decisions.md: up to 12% of words may differ): en version 3
    # reads one fixture word's comma in int8 only (`3-XWG,2FV` against `3-XWG2FV`)
    int8 = [text for text, _ in Recognizer(clone / "outputs" / "export" / "en" / "model.int8.onnx").read(paths)]
    assert sum(a != b for a, b in zip(int8, pytorch, strict=True)) <= 1, (int8, pytorch)
    assert sorted(resolve_model("en").parent.iterdir()) == package        # nothing written into the package
    output = run_as_user(as_written("crnn-eval model_path=en dataset=icdar15 split=val"), clone).stdout
    assert "dataset    icdar15 val: 8 images" in output and re.search(r"acc36 +\d\.\d{4}", output)
    assert "decoder    lexicon: lexicon en (weight 1.0" in output      # en's card names the lexicon decoder
    output = run_as_user(as_written("crnn-eval model_path=en dataset=icdar15 split=val decoder=lexicon"), clone).stdout
    assert "decoder    lexicon: lexicon en (weight 1.0" in output and "dataset    icdar15 val: 8 images" in output
    output = run_as_user("crnn-eval model_path=en dataset=icdar15 split=val decoder=greedy", clone).stdout
    assert "decoder    greedy" in output and "dataset    icdar15 val: 8 images" in output


def test_reading_against_a_word_list(clone, word_files):
    """The README's lexicon lines read as the Recognizer does with the same settings; codes and
    numbers keep their greedy reads, and the words read at least as many labels right."""
    paths, labels = word_files
    (clone / "crops").mkdir()
    for path in paths:
        shutil.copy(path, clone / "crops" / path.name)
    (clone / "my_names.txt").write_text("Tuongan\nArendelle\nRosenwald\n", encoding="utf-8")
    greedy = [text for text, _ in Recognizer("en", decoder=DecoderSettings()).read(paths)]
    for command, hot_words in (("crnn-predict crops/ --decoder lexicon", None),
                               ("crnn-predict crops/ --decoder lexicon --hot-words my_names.txt",
                                str(clone / "my_names.txt"))):
        lines = run_as_user(as_written(command), clone).stdout.splitlines()
        reads = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in lines}
        texts = [reads[path.name] for path in paths]
        settings = DecoderSettings(name="lexicon", lexicon="en", hot_words=hot_words)
        assert texts == [text for text, _ in Recognizer("en", decoder=settings).read(paths)], command
        assert all(text == read for text, read, label in zip(texts, greedy, labels, strict=True)
                   if any(c.isdigit() for c in label)), (texts, greedy)
        assert sum(map(matches36, texts, labels)) >= sum(map(matches36, greedy, labels)), (texts, greedy)


def test_lmdb_tools_and_lmdb_training(clone, synthetic_icdar15, tmp_path):
    lmdb = clone / "data"
    run_as_user(as_written("crnn-make-lmdb OUT --icdar15 DIR", OUT="data/mjsynth/MJ_train", DIR=str(synthetic_icdar15)),
                clone)
    run_as_user(as_written("crnn-make-synth OUT --count N --format lmdb", OUT="data/st", N="24"), clone)
    tsv = tmp_path / "list.txt"
    tsv.write_text("".join(f"word_{n}.png\t{label}\n" for n, label in
                           enumerate(["exit", "hotel", "street"], start=1)), encoding="utf-8")
    for n in range(1, 4):
        shutil.copy(synthetic_icdar15 / f"word_{n}.png", tmp_path / f"word_{n}.png")
    run_as_user(as_written("crnn-make-lmdb OUT --tsv FILE", OUT="data/mjsynth/MJ_valid", FILE=str(tsv)), clone)
    annotation = tmp_path / "mj" / "annotation.txt"
    (tmp_path / "mj" / "2425" / "1").mkdir(parents=True)
    shutil.copy(synthetic_icdar15 / "word_1.png", tmp_path / "mj" / "2425" / "1" / "115_Lube_45484.jpg")
    annotation.write_text("./2425/1/115_Lube_45484.jpg 45484\n", encoding="utf-8")
    result = run_as_user(as_written("crnn-make-lmdb OUT --mjsynth annotation.txt", OUT="data/mjsynth/MJ_test",
                                    **{"annotation.txt": str(annotation)}), clone)
    assert "wrote 1 samples to data/mjsynth/MJ_test" in result.stdout
    for database in ("mjsynth/MJ_train", "st", "mjsynth/MJ_valid", "mjsynth/MJ_test"):
        assert (lmdb / database / "data.mdb").is_file(), database

    command = ("python train.py dataset=lmdb 'dataset.train_roots=[data/mjsynth/MJ_train,data/st]' "
               "'dataset.val_roots=[data/mjsynth/MJ_valid]'")
    for line in (as_written(command), as_written("python train.py dataset=mjsynth")):
        before = run_folders(clone)
        result = run_as_user(f"{line} {TINY} trainer.max_epochs=1 dataset.num_workers=1", clone)
        run = only_new(run_folders(clone), before)
        steps = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
        assert steps == 1, steps      # 80 + 24 (or 80) samples, batch 64
        assert "lmdb" in result.stdout + result.stderr


def test_tb_curve_and_the_benchmarks_run(clone, first_run):
    run = first_run[0]
    result = run_as_user(as_written("python scripts/tb_curve.py <run> --plot docs/train_curve.png",
                                    **{"<run>": str(run)}), clone)
    assert "val/acc" in result.stdout and (clone / "docs" / "train_curve.png").stat().st_size > 1000
    result = run_as_user(f"{as_written('python scripts/bench_render.py')} --seconds 0.5", clone)
    assert re.search(r"ratio render / train +: +\d+\.\d\dx", result.stdout), result.stdout
    result = run_as_user(f"{as_written('python scripts/bench_data.py')} --seconds 0.5", clone)
    assert "synth" in result.stdout


# --- Deploy: a run whose model reads known words, exported, predicted, evaluated ----------------

@pytest.fixture(scope="module")
def known_run(overfit_checkpoint, word_files, tmp_path_factory) -> tuple[Path, Path, str]:
    """A clone whose newest run holds a model that reads the test words (conftest's overfit
    fixture, trained on them), exported by `make export` with no arguments."""
    user = make_checkout(tmp_path_factory.mktemp("deploy") / "crnn_pl")
    run = user / "outputs" / "train" / "runs" / "2026-11-25_12-00-00"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(overfit_checkpoint, run / "checkpoints" / "last.ckpt")
    result = run_as_user(as_written("make export"), user)
    return user, run, result.stdout + result.stderr


def place_words(word_files, folder: Path, gt_name: str | None = None) -> list[str]:
    """The known word images copied into `folder` (with an ICDAR 2015 gt file when named)."""
    paths, labels = word_files
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, folder / path.name)
    if gt_name:
        (folder / gt_name).write_text("".join(f'{p.name}, "{label}"\n' for p, label in zip(paths, labels, strict=True)))
    return labels


def test_make_export_finds_the_newest_run(known_run, word_files):
    user, run, output = known_run
    assert f"exporting {run / 'checkpoints' / 'last.ckpt'} -> {run / 'export'}" in output
    written = {name: entry["file"] for name, entry in read_manifest(run).items() if "skipped" not in entry}
    assert {"torchscript", "onnx", "paddle"} <= written.keys(), written
    reads_the_known_words(run / "export", written.values(), word_files)


def read_manifest(run: Path) -> dict[str, dict]:
    return json.loads((run / "export" / "manifest.json").read_text())["formats"]


def reads_the_known_words(folder: Path, file_names, word_files) -> None:
    """Each exported file, read through crnn_pl's Recognizer, reads the words the model was trained on
    (not the export's own comparison with PyTorch, which a model reading garbage passes too)."""
    paths, labels = word_files
    for file_name in file_names:
        assert [text for text, _ in Recognizer(folder / file_name).read(paths)] == labels, file_name


def test_make_export_prefers_the_best_checkpoint_to_a_newer_last(overfit_checkpoint, word_files, tmp_path):
    """`make export`: "newest run's best checkpoint", the epoch*.ckpt ModelCheckpoint keeps, even
    where the run's last.ckpt (here an untrained model's, reading nothing) was written after it."""
    user = make_checkout(tmp_path / "crnn_pl")
    checkpoints = user / "outputs" / "train" / "runs" / "2026-11-25_12-00-00" / "checkpoints"
    checkpoints.mkdir(parents=True)
    best = checkpoints / "epoch04-acc1.0000.ckpt"
    shutil.copy(overfit_checkpoint, best)
    state = torch.load(overfit_checkpoint, map_location="cpu", weights_only=True)
    state["state_dict"] = {name: torch.zeros_like(value) for name, value in state["state_dict"].items()}
    torch.save(state, checkpoints / "last.ckpt")
    an_hour_ago = time.time() - 3600
    os.utime(best, (an_hour_ago, an_hour_ago))
    result = run_as_user(as_written("make export") + " ARGS=\"'export.formats=[onnx]'\"", user)
    assert f"exporting {best} -> {checkpoints.parent / 'export'}" in result.stdout + result.stderr
    reads_the_known_words(checkpoints.parent / "export", ["model.onnx"], word_files)


def test_crnn_export_a_chosen_checkpoint_to_chosen_formats(known_run, word_files, tmp_path):
    user, run, _ = known_run
    copy = user / "outputs" / "train" / "runs" / "2026-11-25_11-00-00"
    (copy / "checkpoints").mkdir(parents=True)
    shutil.copy(run / "checkpoints" / "last.ckpt", copy / "checkpoints" / "epoch04-acc0.8930.ckpt")
    command = ("crnn-export model_path=outputs/train/runs/<run>/checkpoints/epoch04-acc0.8930.ckpt "
               "'export.formats=[onnx,paddle]'")
    run_as_user(as_written(command, **{"<run>": copy.name}), user)
    manifest = read_manifest(copy)
    assert sorted(manifest) == ["onnx", "paddle"]
    reads_the_known_words(copy / "export", [entry["file"] for entry in manifest.values()], word_files)


def test_readme_notebook_snippet_reads_known_words(known_run, word_files):
    user, run, _ = known_run
    paths, labels = word_files
    shutil.copy(paths[0], user / "word_1.png")
    shutil.copy(paths[1], user / "word_2.png")
    snippet = "\n".join([
        "from crnn_pl import CRNNModule",
        as_written('model = CRNNModule.load_from_checkpoint("outputs/train/runs/<run>/checkpoints/last.ckpt")',
                   **{"<run>": run.name}),
        "print(" + as_written('model.read(["word_1.png", "word_2.png"])') + ")",
    ])
    result = run_as_user(f"python -c '{snippet}'", user)
    assert [text for text, _ in eval(result.stdout.strip().splitlines()[-1])] == labels[:2]


@pytest.mark.parametrize("command", [
    "crnn-predict word_1.png crops/ 'more/*.jpg' --model-path outputs/train/runs/<run>/export/model.onnx",
    "python -m crnn_pl.predict word_1.png crops/ 'more/*.jpg' --model-path outputs/train/runs/<run>/export/model.onnx",
])
def test_predict_files_folders_and_globs(known_run, word_files, command):
    user, run, _ = known_run
    paths, labels = word_files
    folder = user / ("predict_here_" + command.split()[0])
    folder.mkdir()
    shutil.copy(paths[0], folder / "word_1.png")
    (folder / "crops").mkdir()
    for name, path in (("a.png", paths[1]), ("b.png", paths[2])):
        shutil.copy(path, folder / "crops" / name)
    (folder / "more").mkdir()
    for name, path in (("c.jpg", paths[3]), ("d.jpg", paths[4])):
        Image.open(path).save(folder / "more" / name, quality=100)
    model = str(run / "export" / "model.onnx")
    command = as_written(command, **{"outputs/train/runs/<run>/export/model.onnx": model})
    lines = run_as_user(command, folder).stdout.strip().splitlines()
    read = dict(line.split("\t")[:2] for line in lines)
    assert list(read) == ["word_1.png", "crops/a.png", "crops/b.png", "more/c.jpg", "more/d.jpg"]
    assert [read["word_1.png"], read["crops/a.png"], read["crops/b.png"]] == labels[:3]
    assert all(re.fullmatch(r"\S+\t[0-9a-z]*\t[01]\.\d{4}", line) for line in lines), lines


def test_predict_with_an_explicit_format_and_jsonl(known_run, word_files):
    user, run, _ = known_run
    labels = place_words(word_files, user / "crops")
    command = "crnn-predict crops/ --model-path outputs/train/runs/<run>/checkpoints/last.ckpt --format ckpt --jsonl"
    lines = run_as_user(as_written(command, **{"<run>": run.name}), user).stdout.strip().splitlines()
    records = {Path(r["path"]).name: r["text"] for r in map(json.loads, lines)}
    assert [records[f"word_{i}.png"] for i in range(len(labels))] == labels


def test_eval_default_val_split_and_icdar15_test_folder(known_run, word_files):
    user, run, _ = known_run
    place_words(word_files, user / "data" / "icdar15" / "ch4_test_word_images_gt", "Challenge4_Test_Task3_GT.txt")
    place_words(word_files, user / "data" / "icdar15" / "ch4_training_word_images_gt", "gt.txt")
    known = {
        "crnn-eval model_path=outputs/train/runs/<run>/export/paddle dataset=icdar15 "
        "dataset.test_dir=data/icdar15/ch4_test_word_images_gt": 16,
        "crnn-eval model_path=outputs/train/runs/<run>/export/model.onnx dataset=icdar15 split=val": 2,
    }
    for command, images in known.items():
        before = set((user / "outputs" / "eval" / "runs").glob("*"))
        output = run_as_user(as_written(command, **{"<run>": run.name}), user).stdout
        assert f"{images} images" in output and re.search(r"exact +1\.0000", output), output
        evaluation = only_new(set((user / "outputs" / "eval" / "runs").glob("*")), before)
        assert len((evaluation / "predictions.csv").read_text().splitlines()) == images + 1
    default = as_written("crnn-eval model_path=outputs/train/runs/<run>/export/model.onnx", **{"<run>": run.name})
    output = run_as_user(f"{default} dataset.val_size=24", user).stdout
    assert "24 images" in output and re.search(r"acc36 +\d\.\d{4}", output)


def test_make_bench_on_the_newest_run(known_run):
    user, run, _ = known_run
    result = run_as_user(f'{as_written("make bench")} ARGS="--words 64 --seconds 0.2"', user)
    report = (user / "docs" / "benchmarks.md").read_text()
    for backend in ("pytorch eager", "torchscript", "onnx", "paddle"):
        assert re.search(rf"^\| {backend} \| \d+\.\d\d \| \d+ \| \d+\.\d\d% \|", report, re.M), backend
    assert "outputs/train/runs/" in report and result.returncode == 0


def test_bench_with_the_shipped_model_end_to_end_beside_rapidocr(known_run, word_files, tmp_path):
    user, _, _ = known_run
    real = tmp_path / "real"
    labels = place_words(word_files, real, "gt.txt")
    result = run_as_user(f"{as_written('python scripts/bench_backends.py --model-path en')} --words 64 "
                         f"--seconds 0.2 --real {real} --latency-files 4", user)
    report = (user / "docs" / "benchmarks.md").read_text()
    assert "Model: `" in report and "en.safetensors" in report and result.returncode == 0
    for reader in ("pytorch eager", "onnx", "onnx_int8"):
        assert re.search(rf"^\| crnn_pl {reader} \| \d+\.\d\d \| \d+ \| \d\.\d{{4}} \|", report, re.M), reader
    assert f"{len(labels)} crops of `{real}`" in report
    # each peer (the bench extra is installed here), acc36 then exact (the label as written); latencies
    # are compared with the most accurate peer's
    for peer in ("RapidOCR PP-OCRv4", "PP-OCRv6 tiny", "PP-OCRv6 small"):
        row = rf"^\| {peer} rec \(onnxruntime\) \| \d+\.\d\d \| \d+ \| \d\.\d{{4}} \| \d\.\d{{4}} \| "
        assert re.search(row, report, re.M), peer
    assert len(re.findall(r"^\| (RapidOCR|PP-OCRv6) [^|]+ \|.*\(the reference\) \|$", report, re.M)) == 1
    assert re.search(r"^\| crnn_pl onnx, greedy decoder \|", report, re.M)     # en's card reads with a lexicon
    command = ("python scripts/bench_real.py --model-path en --data-root ../shared/data "
               "--output docs/real_benchmark_en.md --contact-sheet docs/en_reads.png")
    place_words(word_files, tmp_path / "data" / "iiit5k" / "train", "gt.txt")
    run_as_user(as_written(command, **{"../shared/data": str(tmp_path / "data")}), user)
    assert "### iiit5k: 16 crops" in (user / "docs" / "real_benchmark_en.md").read_text()
    assert (user / "docs" / "en_reads.png").stat().st_size > 10_000


def test_notebook_finds_the_newest_run_and_reads_its_words(known_run):
    """notebooks/quickstart.ipynb as Jupyter runs it: from notebooks/, code cells in order,
    its own checkpoint discovery (the newest run under ../outputs/train/runs)."""
    user, run, _ = known_run
    notebook = json.loads((user / "notebooks" / "quickstart.ipynb").read_text())
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")
    code = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    script = user / "notebooks" / "run_quickstart.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + code + "\n"
                      "import json\nprint(json.dumps({'checkpoint': checkpoint, 'labels': labels, "
                      "'texts': [t for t, _ in predictions], 'steps': trainer.global_step}))\n")
    result = run_as_user(f"python {script.name}", user / "notebooks")
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(user / "notebooks" / record["checkpoint"]).resolve() == (run / "checkpoints" / "last.ckpt").resolve()
    assert record["labels"] == NOTEBOOK_WORDS
    assert record["texts"] == NOTEBOOK_WORDS       # the model knows these words: it must read them
    assert record["steps"] == 4


def test_bench_real_scores_the_newest_run_on_real_folders(known_run, word_files, tmp_path):
    user, run, _ = known_run
    place_words(word_files, user / "data" / "iiit5k" / "train", "gt.txt")
    place_words(word_files, user / "data" / "icdar15" / "ch4_training_word_images_gt", "gt.txt")
    result = run_as_user(as_written("python scripts/bench_real.py --contact-sheet docs/synth_vs_real.png"), user)
    report = (user / "docs" / "real_benchmark.md").read_text()
    assert result.stdout.strip().startswith("# Real-word benchmark")
    assert "### iiit5k: 16 crops" in report and "### icdar15-val: 2 crops" in report
    assert report.count("acc36 **1.0000**") == 3            # the model knows these words
    assert (user / "docs" / "synth_vs_real.png").stat().st_size > 10_000
    # the spelling that made the README's figures: a chosen checkpoint, another data root
    chosen = tmp_path / "run" / "checkpoints" / "last.ckpt"
    chosen.parent.mkdir(parents=True)
    shutil.copy(run / "checkpoints" / "last.ckpt", chosen)
    command = ("python scripts/bench_real.py --model-path <that run>/checkpoints/last.ckpt "
               "--data-root ../shared/data --contact-sheet docs/synth_vs_real.png")
    run_as_user(as_written(command, **{"<that run>": str(tmp_path / "run"), "../shared/data": str(user / "data")}),
                user)
    assert f"model `{chosen}`" in (user / "docs" / "real_benchmark.md").read_text()
    # how the ablation compares reading squeezed and at natural width, on the same checkpoint
    for limit, says in (("0", "squeezed to it"), ("160", "at their natural width up to 160 px")):
        run_as_user(f"python scripts/bench_real.py --model-path {chosen} --read-max-width {limit}", user)
        assert says in (user / "docs" / "real_benchmark.md").read_text()


# Words drawn as a user would photograph them: the Vietnamese words the corpus below holds, in
# three case styles, in a face that draws every Vietnamese letter.
VIETNAMESE_READS = {"viet_title.png": "Việt", "viet_upper.png": "VIỆT", "viet_lower.png": "việt"}


def write_vietnamese_words(folder: Path) -> None:
    from PIL import ImageDraw, ImageFont

    from crnn_pl.data.synth.fonts import package_font_paths

    font = ImageFont.truetype(str(next(p for p in package_font_paths() if p.name == "DejaVuSans.ttf")), 40)
    folder.mkdir()
    for name, word in VIETNAMESE_READS.items():
        image = Image.new("RGB", (int(font.getlength(word)) + 20, 60), "white")
        ImageDraw.Draw(image).text((10, 5), word, font=font, fill="black")
        image.save(folder / name)


def test_a_vietnamese_reader_from_your_own_words_reads_them_back_through_every_backend(clone):
    """The walk-through's one command with a corpus of the user's own: a few steps from `en`, the
    export to every format, and `crnn-predict` reading rendered words back, letters with tones and
    capitals intact, through the model card of each backend."""
    (clone / "my_words.txt").write_text("Việt\n", encoding="utf-8")
    before = run_folders(clone, task="vi")
    command = as_written("OMP_NUM_THREADS=1 python train.py experiment=vi dataset.render.text.vocabulary=my_words.txt")
    result = run_as_user(f"{command} trainer.max_epochs=1 dataset.train_size=4800 dataset.val_size=32", clone)
    output = result.stdout + result.stderr
    assert "fine-tuning from en: classifier rows copied 95, new 135" in output
    assert re.search(r"synth: corpus my_words.txt: 1 entries drawn; skipped: none", output)
    assert re.search(r"synth: fonts: \d+ files for 229 characters; they draw \d+ all", output)
    run = only_new(run_folders(clone, task="vi"), before)
    manifest = read_manifest(run)
    written = {name: entry["file"] for name, entry in manifest.items() if "skipped" not in entry}
    assert {"safetensors", "torchscript", "onnx", "paddle"} <= written.keys(), manifest
    write_vietnamese_words(clone / "vietnamese")
    models = [run / "export" / file for file in written.values()] + [run / "checkpoints" / "last.ckpt"]
    for model in models:
        lines = run_as_user(f"crnn-predict vietnamese/ --model-path {model}", clone).stdout.strip().splitlines()
        reads = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in lines}
        assert reads == VIETNAMESE_READS, (model.name, reads)


@pytest.mark.parametrize(("recipe", "rows", "own"), [("vi", "copied 95, new 135", "đ"),
                                                      ("ru", "copied 95, new 71", "д"),
                                                      ("meter", "copied 20, new 3", "0")])
def test_language_recipes_start_from_en_and_render_their_script(clone, recipe, rows, own):
    before = run_folders(clone, task=recipe)
    command = as_written(f"OMP_NUM_THREADS=1 python train.py experiment={recipe}")
    result = run_as_user(f"{command} trainer.max_epochs=1 dataset.train_size=64 dataset.val_size=32", clone)
    output = result.stdout + result.stderr
    assert f"fine-tuning from en: classifier rows {rows}" in output
    assert "training: 2 steps (1 epochs)" in output
    run = only_new(run_folders(clone, task=recipe), before)
    hparams = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["hyper_parameters"]
    assert own in hparams["charset"] and hparams["case_sensitive"]


def test_your_own_charset_corpus_and_fonts(clone):
    """The README's line for a language of your own: a dictionary, a corpus and a font folder (here
    Greek, which no recipe covers), with the corpus's foreign line skipped and counted."""
    from crnn_pl.data.synth.fonts import package_font_paths

    (clone / "my_dict.txt").write_text("\n".join("αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ") + "\n", encoding="utf-8")
    (clone / "my_corpus.txt").write_text("καλημέρα κόσμε\nαγορά\nπλατεία\nStraße\n", encoding="utf-8")
    (clone / "my_fonts").mkdir()
    shutil.copy(next(p for p in package_font_paths() if p.name == "DejaVuSerif.ttf"), clone / "my_fonts")
    command = as_written("python train.py charset=file charset.path=my_dict.txt "
                         "dataset.render.text.vocabulary=my_corpus.txt 'dataset.render.font_dirs=[my_fonts]'")
    result = run_as_user(f"{command} {TINY} {FEW}", clone)
    output = result.stdout + result.stderr
    assert "synth: corpus my_corpus.txt: " in output and "1 with characters outside the charset" in output
    assert re.search(r"synth: fonts: \d+ files for 31 characters; they draw \d+ all", output)
    assert "fonts that draw none of the charset's letters (never used): " in output      # the Latin-only faces
    assert "DejaVuSerif.ttf" not in output.split("never used): ")[1].splitlines()[0]
