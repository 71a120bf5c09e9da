"""Training step time of `crnn_small` in float32 and in bf16 autocast, side by side on this CPU:
what `trainer.precision=auto` decides between (crnn_pl/cli/train.py).

    python scripts/bench_precision.py [--seconds 10] [--threads 1]

Prints the CPU's native bf16 flags and each precision's seconds per full training step (forward,
CTC, backward, AdamW; batch 32, 32x100 grey), timed by benchlib.train_rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import torch  # noqa: E402
from benchlib import train_rate  # noqa: E402

from crnn_pl.cli.arguments import Parser, number_in  # noqa: E402
from crnn_pl.cli.train import cpu_bf16_flags  # noqa: E402

BATCH = 32


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=number_in(0.01, kind=float), default=10.0,
                        help="timed per precision, after 3 untimed steps (at least one step is timed)")
    parser.add_argument("--threads", type=number_in(1), default=1, help="torch threads (cpu_15min: 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fp32, bf16 = (BATCH / train_rate("crnn_small", BATCH, args.seconds, bf16=bf16) for bf16 in (False, True))
    print(f"native bf16: {', '.join(cpu_bf16_flags()) or 'none'}; torch threads {args.threads}; batch {BATCH}")
    print(f"float32 {fp32:.3f} s/step, bf16 {bf16:.3f} s/step: bf16 takes {bf16 / fp32:.2f}x float32's time")


if __name__ == "__main__":
    main()
