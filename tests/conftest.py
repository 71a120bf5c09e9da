"""Shared fixtures: real rendered word images on disk and a model trained on them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from crnn_pl import CRNNModule  # noqa: E402
from crnn_pl.core.charset import Charset  # noqa: E402
from crnn_pl.core.preprocess import ImageSpec  # noqa: E402
from crnn_pl.data.words import preprocess  # noqa: E402
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SMALL_MODEL = dict(conv_channels=[16, 32, 48, 48, 96, 96, 96], hidden_size=64)


def run_train(*overrides: str, cwd: Path = REPO, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real entry point, `python train.py ...`, and fail with its output if it fails."""
    command = [sys.executable, str(REPO / "train.py"), *overrides]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


class FileWords(Dataset):
    """(image, label) pairs read from files through the one preprocessing function."""

    def __init__(self, paths: list[Path], labels: list[str], spec: ImageSpec) -> None:
        self.paths, self.labels, self.spec = paths, labels, spec

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        return preprocess(self.paths[index], self.spec), self.labels[index]


# The quickstart notebook's words, rendered as the notebook renders them (word i with
# default_rng(i)): the overfit fixture model learns these very images, so the notebook test
# can check that the notebook reads them right. The first is the seed project's example word.
NOTEBOOK_WORDS = ["tuongan", "coffee", "exit", "hotel", "street", "42nd"]


@pytest.fixture(scope="session")
def word_files(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Sixteen rendered words saved as PNG files, with their labels: the notebook's six words,
    then ten random samples."""
    folder = tmp_path_factory.mktemp("words")
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings(max_length=10))
    paths, labels = [], []
    for index in range(16):
        if index < len(NOTEBOOK_WORDS):
            word = NOTEBOOK_WORDS[index]
            image, label = renderer.render(word, np.random.default_rng(index)), word
        else:
            image, label = renderer.sample(np.random.default_rng([7, index]))
        path = folder / f"word_{index}.png"
        Image.fromarray(image).save(path)
        paths.append(path)
        labels.append(label)
    return paths, labels


@pytest.fixture(scope="session")
def overfit_checkpoint(word_files, tmp_path_factory) -> Path:
    """A small CRNN trained through Lightning on one fixed batch until it reads every word."""
    paths, labels = word_files
    L.seed_everything(0)
    module = CRNNModule(lr=3e-3, scheduler="none", **SMALL_MODEL)
    loader = DataLoader(FileWords(paths, labels, module.image_spec), batch_size=len(paths))
    trainer = L.Trainer(max_steps=600, accelerator="cpu", logger=False, enable_checkpointing=False,
                        gradient_clip_val=5.0,
                        enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[StopWhenPerfect(paths, labels)])
    trainer.fit(module, train_dataloaders=loader)
    checkpoint = tmp_path_factory.mktemp("ckpt") / "overfit.ckpt"
    trainer.save_checkpoint(checkpoint)
    return checkpoint


class StopWhenPerfect(L.Callback):
    """Ends training once every training word is read exactly (checked every 20 steps)."""

    def __init__(self, paths: list[Path], labels: list[str]) -> None:
        self.paths, self.labels = paths, labels

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index) -> None:
        if trainer.global_step % 20 == 0:
            texts = [text for text, _ in module.read(self.paths)]
            if texts == self.labels:
                trainer.should_stop = True


@pytest.fixture(autouse=True)
def _few_threads():
    # Tests run on 2 cores; keep torch from oversubscribing them.
    torch.set_num_threads(2)


# --- A user's clone, for the README's commands --------------------------------------------------

README_TEXT = (REPO / "README.md").read_text(encoding="utf-8") + (REPO / "data" / "README.md").read_text(
    encoding="utf-8")
NOT_IN_A_CLONE = (".git", ".venv", "outputs", ".cache", "multirun", "lightning_logs", "__pycache__",
                  "*.egg-info", ".pytest_cache", ".ruff_cache", "build", "dist")


def shown_commands(text: str = README_TEXT) -> set[str]:
    """Every line of the READMEs' code blocks (without its trailing `# comment`) and every inline
    code span: the commands as a user sees them."""
    commands, in_block = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
        elif in_block and line.strip():
            commands.add(re.split(r"\s+#\s", line.strip(), maxsplit=1)[0].strip())
    return commands | set(re.findall(r"`([^`\n]+)`", text))


def as_written(command: str, **placeholders: str) -> str:
    """`command` exactly as README.md or data/README.md shows it (a whole code line or code span,
    checked), then its placeholders (`<run>`, `OUT`, ...) replaced by real values: the README and
    the tests cannot drift apart."""
    assert command in shown_commands(), f"the READMEs do not show this command: {command}"
    for placeholder, value in placeholders.items():
        assert placeholder in command, (placeholder, command)
        command = command.replace(placeholder, value)
    return command


def make_checkout(folder: Path) -> Path:
    """What `git clone` gives a user (the repository's files, no outputs, data or caches), with
    `make install` already done: its .venv is the environment running these tests."""
    def ignored(directory: str, names: list[str]) -> set[str]:
        patterns = set(shutil.ignore_patterns(*NOT_IN_A_CLONE)(directory, names))
        if Path(directory).resolve() == REPO / "data":
            patterns |= {name for name in names if name != "README.md"}
        return patterns

    shutil.copytree(REPO, folder, symlinks=True, ignore=ignored)
    (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    stamp = Path(sys.prefix) / ".installed"
    if stamp.is_file():   # installed for this pyproject.toml: make must not reinstall into our venv
        older = stamp.stat().st_mtime - 1
        os.utime(folder / "pyproject.toml", (older, older))
    return folder


def user_environment() -> dict[str, str]:
    """The shell of a user who activated the project's venv."""
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), VIRTUAL_ENV=sys.prefix)


def run_as_user(command: str, cwd: Path, timeout: int = 600, expect_ok: bool = True) -> subprocess.CompletedProcess:
    """Run a shell command line as typed at a prompt in `cwd`; fail with its output unless it succeeds."""
    result = subprocess.run(command, shell=True, executable="/bin/bash", cwd=cwd, env=user_environment(),
                            capture_output=True, text=True, timeout=timeout)
    if expect_ok:
        assert result.returncode == 0, f"$ {command}\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    return result


def step_of(checkpoint: Path) -> int | None:
    """A checkpoint's global step; None while it is being written (a run killed mid-write)."""
    try:
        return torch.load(checkpoint, map_location="cpu", weights_only=False)["global_step"]
    except Exception:
        return None


def run_folders(checkout: Path, kind: str = "runs", task: str = "train") -> set[Path]:
    return set((checkout / "outputs" / task / kind).glob("*"))
