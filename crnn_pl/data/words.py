"""Datasets of labelled word images read from files, and the batch collation all loaders share.

A sample that fails to decode inside a DataLoader worker is never raised there: the dataset
logs a warning naming it and returns None, and `collate_words` drops it and counts it in the
batch, so the LightningModule logs how many were lost.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.data import Dataset

from crnn_pl.core.decode import ImageInput
from crnn_pl.core.preprocess import Augment, ImageSpec, prepare
from crnn_pl.data.augment import Augmenter

log = logging.getLogger(__name__)

Sample = tuple[torch.Tensor, str]


def preprocess(image: ImageInput, spec: ImageSpec, augment: Augment | None = None) -> torch.Tensor:
    """The one preprocessing (`crnn_pl.core.preprocess.prepare`) as a tensor, for training."""
    return torch.from_numpy(prepare(image, spec, augment))


class RawSample(NamedTuple):
    """A sample before preprocessing: what crnn-eval hands to the one read path."""

    image: ImageInput | None    # None: missing from its store (counted as dropped)
    label: str
    name: str                   # where it came from, for messages


class WordBatch(NamedTuple):
    images: torch.Tensor      # (N, C, H, W)
    labels: list[str]
    dropped: int              # samples of this batch that could not be decoded


def collate_words(samples: list[Sample | None]) -> WordBatch:
    kept = [sample for sample in samples if sample is not None]
    images = torch.stack([image for image, _ in kept]) if kept else torch.empty(0)
    return WordBatch(images, [label for _, label in kept], len(samples) - len(kept))


def load_sample(source: ImageInput, label: str, name: str, spec: ImageSpec,
                augment: Augment | None) -> Sample | None:
    """Preprocess one image; on a decoding error warn with its name and return None."""
    try:
        return preprocess(source, spec, augment), label
    except ValueError as error:
        log.warning("skipping %s: %s", name, error)
        return None


def seeded(augment: Augmenter | None, key: int) -> Augment | None:
    """The augmentation of the sample with this key: the same on every run and every resume."""
    return partial(augment, seed=key) if augment is not None else None


class FileWordDataset(Dataset):
    """(image path, label) pairs, e.g. an ICDAR 2015 folder after its ground truth is checked.
    Indexed by sample key (see crnn_pl.data.sampling): position = key % size."""

    def __init__(self, samples: list[tuple[Path, str]], spec: ImageSpec, augment: Augmenter | None = None) -> None:
        self.samples, self.spec, self.augment = samples, spec, augment

    def __len__(self) -> int:
        return len(self.samples)

    def raw(self, key: int) -> RawSample:
        path, label = self.samples[key % len(self.samples)]
        return RawSample(path, label, str(path))

    def __getitem__(self, key: int) -> Sample | None:
        path, label, name = self.raw(key)
        return load_sample(path, label, name, self.spec, seeded(self.augment, key))
