"""Which samples each step reads: a function of (seed, epoch, position) only, never of RNG history.

`EpochSampler` yields sample keys `epoch * size + position`, the positions a permutation seeded
by (seed, epoch), each DDP rank taking its own shard. Datasets map a key back to a position
(`key % size`) and seed any per-sample randomness (rendering, augmentation) with the key. So a
run resumed from a checkpoint mid-epoch reads exactly the batches the uninterrupted run would
have read: the sampler starts at the batch the checkpoint had reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch.distributed as dist
from torch.utils.data import Sampler


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EpochSampler(Sampler[int]):
    """Keys of one epoch for this rank; `skip(n)` starts the next iteration n samples in."""

    def __init__(self, size: int, seed: int = 0, shuffle: bool = True, equal_shards: bool = True) -> None:
        self.size, self.seed, self.shuffle, self.equal_shards = size, seed, shuffle, equal_shards
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of every training epoch."""
        self.epoch = epoch

    def skip(self, samples: int) -> None:
        self.start = samples

    def positions(self) -> np.ndarray:
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.size)
        else:
            order = np.arange(self.size)
        rank, world = rank_and_world()
        shard = order[rank::world]
        if self.equal_shards:
            # every rank must run the same number of steps, or DDP waits forever
            shard = shard[: self.size // world]
        return shard

    def __iter__(self) -> Iterator[int]:
        start, self.start = self.start, 0
        base = self.epoch * self.size
        for position in self.positions()[start:]:
            yield base + int(position)

    def __len__(self) -> int:
        return len(self.positions())
