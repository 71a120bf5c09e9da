"""Timing helpers shared by the scripts/bench_*.py benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from crnn_pl import CRNNModule

CONF = Path(__file__).resolve().parents[1] / "conf"


def rate(work: Callable[[], int], seconds: float, warmup: int = 3) -> float:
    """Items per second of repeated `work()` (which returns how many items it did)."""
    for _ in range(warmup):
        work()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += work()
    return count / (time.perf_counter() - start)


def train_rate(model: str, batch_size: int, seconds: float, bf16: bool) -> float:
    """Images per second of full training steps (forward, CTC, backward, AdamW) of conf/model/<model>."""
    node = OmegaConf.load(CONF / "model" / f"{model}.yaml")
    module = CRNNModule(conv_channels=list(node.conv_channels), hidden_size=node.hidden_size)
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3)
    images = torch.randn(batch_size, 1, 32, 100)
    labels = ["".join(np.random.default_rng(i).choice(list("abcdefgh"), 8)) for i in range(batch_size)]

    def step() -> int:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = module.compute_loss(images, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return batch_size

    return rate(step, seconds)
