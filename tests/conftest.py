"""Shared fixtures: real rendered word images on disk and a model trained on them."""

from __future__ import annotations

import os
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
from crnn_pl.charset import Charset  # noqa: E402
from crnn_pl.data.preprocess import ImageSpec, preprocess  # noqa: E402
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


@pytest.fixture(scope="session")
def word_files(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Sixteen rendered words saved as PNG files, with their labels; the first is "tuongan",
    the seed project's example word."""
    folder = tmp_path_factory.mktemp("words")
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings(max_length=10))
    paths, labels = [], []
    for index in range(16):
        rng = np.random.default_rng([7, index])
        if index == 0:
            image, label = renderer.render("tuongan", rng), "tuongan"
        else:
            image, label = renderer.sample(rng)
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
