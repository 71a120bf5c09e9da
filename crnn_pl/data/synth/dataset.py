"""Datasets of rendered words: endless fresh samples for training, a fixed set for validation."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from crnn_pl.data.preprocess import Augment, ImageSpec, preprocess
from crnn_pl.data.synth.renderer import WordRenderer


class SynthWordDataset(Dataset):
    """`size` rendered (image tensor, label) pairs.

    With a `seed`, sample i is always the same image (rng seeded by (seed, i)): validation
    figures then compare across epochs and runs. Without one, each access draws from numpy's
    global generator, which Lightning seeds per worker and per epoch, so training sees new
    words every epoch and stays reproducible under `seed_everything(workers=True)`.
    """

    def __init__(self, renderer: WordRenderer, spec: ImageSpec, size: int, seed: int | None = None,
                 augment: Augment | None = None) -> None:
        self.renderer = renderer
        self.augment = augment
        self.spec = spec
        self.size = size
        self.seed = seed

    def __len__(self) -> int:
        return self.size

    def rng_for(self, index: int) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(np.random.randint(0, 2**31 - 1, size=2))
        return np.random.default_rng([self.seed, index])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        image, label = self.renderer.sample(self.rng_for(index))
        return preprocess(image, self.spec, self.augment), label
