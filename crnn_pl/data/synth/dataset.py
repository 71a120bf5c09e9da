"""Datasets of rendered words: endless fresh samples for training, a fixed set for validation."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch.utils.data import Dataset

from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.augment import Augmenter
from crnn_pl.data.synth.renderer import WordRenderer
from crnn_pl.data.words import RawSample, preprocess


class SynthWordDataset(Dataset):
    """`size` rendered (image tensor, label) pairs, each drawn from a generator seeded by its key.

    Keys come from `EpochSampler` (epoch * size + position). With `fresh_every_epoch` (training)
    the whole key seeds the sample, so every epoch renders new words, and a resumed run renders
    the same ones as an uninterrupted run. Without it (validation) only the position does: sample
    i is the same image in every epoch and every run, so figures compare.
    """

    def __init__(self, renderer: WordRenderer, spec: ImageSpec, size: int, seed: int = 0,
                 fresh_every_epoch: bool = False, augment: Augmenter | None = None) -> None:
        self.renderer, self.spec, self.size, self.seed = renderer, spec, size, seed
        self.fresh_every_epoch, self.augment = fresh_every_epoch, augment

    def __len__(self) -> int:
        return self.size

    def rng_for(self, key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, key if self.fresh_every_epoch else key % self.size])

    def raw(self, key: int) -> RawSample:
        image, label = self.renderer.sample(self.rng_for(key))
        return RawSample(image, label, f"rendered word {key % self.size if not self.fresh_every_epoch else key}")

    def __getitem__(self, key: int) -> tuple[torch.Tensor, str]:
        image, label = self.renderer.sample(self.rng_for(key))
        augment = partial(self.augment, seed=key) if self.augment else None
        return preprocess(image, self.spec, augment), label
