"""Several datasets in one training stream: `dataset=mix` (e.g. rendered words + real crops).

Each source is a whole DataModule of its own kind (synth, icdar15, lmdb) with its own settings
and augmentation, so its label filter, skip report and validation split stay its own. Training
draws every sample from one source with the configured share: the source of sample key k is
decided by a generator seeded with (seed, k), and the source reads its own sample k. As with
every dataset here, a key depends only on (seed, epoch, position), so the mix is the same on
every run, a resumed run continues it exactly, and each DDP rank reads its own shard.
"""

from __future__ import annotations

import bisect
import pydoc
from collections.abc import Mapping, Sequence

import numpy as np
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import ConcatDataset, Dataset

from crnn_pl.core.errors import ConfigError
from crnn_pl.data.datamodule import WordDataModule
from crnn_pl.data.labels import DataError
from crnn_pl.data.words import RawSample, Sample


class MixedWordDataset(Dataset):
    """`size` samples per epoch, each from source i with probability shares[i]."""

    def __init__(self, sources: Sequence[Dataset], shares: Sequence[float], size: int, seed: int = 0) -> None:
        if len(sources) != len(shares) or not sources:
            raise ConfigError("one share per source, and at least one source")
        total = float(sum(shares))
        self.sources, self.size, self.seed = list(sources), size, seed
        self.bounds = np.cumsum([share / total for share in shares])

    def __len__(self) -> int:
        return self.size

    def source_of(self, key: int) -> int:
        draw = np.random.default_rng([self.seed, 7919, key]).random()
        return min(int(np.searchsorted(self.bounds, draw, side="right")), len(self.sources) - 1)

    def raw(self, key: int) -> RawSample:
        return self.sources[self.source_of(key)].raw(key)

    def __getitem__(self, key: int) -> Sample | None:
        return self.sources[self.source_of(key)][key]


class KeyedConcatDataset(ConcatDataset):
    """The validation splits one after another, indexed by sample key like every dataset here:
    position = key % size (an evaluation sampler's keys grow with the epoch)."""

    def raw(self, key: int) -> RawSample:
        position = key % len(self)
        part = bisect.bisect_right(self.cumulative_sizes, position)
        return self.datasets[part].raw(position - (self.cumulative_sizes[part - 1] if part else 0))

    def __getitem__(self, key: int) -> Sample | None:
        return super().__getitem__(key % len(self))


class MixDataModule(WordDataModule):
    """Sources by name, each a DataModule's settings (`_target_`: its class, as in conf/dataset/)
    plus `share`, its weight in the stream; `train_size` samples per epoch across them;
    validation on `val_sources` (default: every source's validation split, concatenated).
    The charset, image spec, batch size, workers and seed are the mix's own, for every source."""

    name = "mix"

    def __init__(self, charset: str, sources: Mapping[str, Mapping], train_size: int = 32_000,
                 val_sources: Sequence[str] | None = None, **common) -> None:
        super().__init__(charset, **common)
        if not sources:
            raise DataError("dataset.sources is empty: name one or more sources (synth, icdar15, lmdb)")
        inherited = {k: v for k, v in common.items() if k not in ("augment",)}
        self.sources: dict[str, WordDataModule] = {}
        self.shares: dict[str, float] = {}
        for name, settings in sources.items():
            settings = dict(settings)
            target, share = settings.pop("_target_", None), settings.pop("share", None)
            kind = pydoc.locate(target) if isinstance(target, str) else None
            if not (isinstance(kind, type) and issubclass(kind, WordDataModule)):
                raise DataError(f"dataset.sources.{name}._target_={target!r}: not a DataModule class, e.g. "
                                "crnn_pl.data.datamodule.SynthDataModule")
            if share is None or float(share) <= 0:
                raise DataError(f"dataset.sources.{name}.share={share!r}: give a positive weight")
            self.sources[name] = kind(charset, **{**settings, **inherited})
            self.shares[name] = float(share)
        unknown = sorted(set(val_sources or ()) - set(self.sources))
        if unknown:
            raise DataError(f"dataset.val_sources names unknown sources {unknown}; sources: {sorted(self.sources)}")
        self.val_sources = list(val_sources) if val_sources else list(self.sources)
        self.train_size = train_size

    def load_split(self, split: str) -> Dataset:
        names = list(self.sources) if split == "train" else self.val_sources
        for name in names:
            self.sources[name].setup("fit" if split == "train" else "validate")
        if split == "train":
            total = sum(self.shares.values())
            rank_zero_info("mix: " + ", ".join(f"{name} {share / total:.0%}" for name, share in self.shares.items())
                           + f" of {self.train_size:,} samples per epoch")
            return MixedWordDataset([self.sources[n].datasets["train"] for n in names],
                                    [self.shares[n] for n in names], self.train_size, seed=self.seed)
        if split == "val":
            return KeyedConcatDataset([self.sources[name].datasets["val"] for name in names])
        raise DataError("dataset=mix has no test split: evaluate on one dataset (crnn-eval dataset=icdar15 ...)")
