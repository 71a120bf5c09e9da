"""Training step time of `crnn_small` in float32 and in bf16 autocast, side by side on this CPU:
what `trainer.precision=auto` decides between (crnn_pl/cli/train.py).

    python scripts/bench_precision.py [--steps 5] [--threads 1]

Prints the CPU's native bf16 flags and each precision's seconds per step (batch 32, 32x100 grey).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from crnn_pl.cli.arguments import Parser, number_in  # noqa: E402
from crnn_pl.cli.train import cpu_bf16_flags  # noqa: E402
from crnn_pl.core.charset import Charset  # noqa: E402
from crnn_pl.training.module import CRNNModule  # noqa: E402

BATCH = 32


def seconds_per_step(module: CRNNModule, images: torch.Tensor, bf16: bool, steps: int) -> float:
    for step in range(steps + 1):           # the first step (oneDNN's kernel choice) is not timed
        if step == 1:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            scores = module(images)
        scores.float().sum().backward()
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=number_in(1), default=5)
    parser.add_argument("--threads", type=number_in(1), default=1, help="torch threads (cpu_15min: 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = OmegaConf.load(REPO / "crnn_pl" / "conf" / "model" / "crnn_small.yaml")
    del model["_target_"]
    module = CRNNModule(charset=Charset.preset("alnum36").characters, case_sensitive=False, **model)
    images = torch.randn(BATCH, 1, 32, 100).contiguous(memory_format=torch.channels_last)
    fp32 = seconds_per_step(module, images, False, args.steps)
    bf16 = seconds_per_step(module, images, True, args.steps)
    print(f"native bf16: {', '.join(cpu_bf16_flags()) or 'none'}; torch threads {args.threads}; batch {BATCH}")
    print(f"float32 {fp32:.3f} s/step, bf16 {bf16:.3f} s/step: bf16 takes {bf16 / fp32:.2f}x float32's time")


if __name__ == "__main__":
    main()
