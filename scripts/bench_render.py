"""Does rendering keep up with training? Prints both rates, measured side by side in one run.

    python scripts/bench_render.py [--model crnn_small] [--batch-size 32] [--seconds 20] [--fp32]

Render rate: rendered + preprocessed words per second on one core (one DataLoader worker).
Train rate: images per second of training steps (forward, backward, AdamW) on this machine.
"""

from __future__ import annotations

import argparse

import torch
from benchlib import CONF, rate, train_rate
from omegaconf import OmegaConf

from crnn_pl.core.charset import Charset
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.synth.dataset import SynthWordDataset
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer


def render_rate(seconds: float) -> float:
    render = OmegaConf.to_container(OmegaConf.load(CONF / "dataset" / "synth.yaml").render)
    settings = RenderSettings.from_config(render)
    dataset = SynthWordDataset(WordRenderer(Charset.preset("alnum36"), settings), ImageSpec(), size=10**9)
    indices = iter(range(10**9))

    def one() -> int:
        dataset[next(indices)]
        return 1

    return rate(one, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="crnn_small")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fp32", action="store_true", help="train in float32 instead of bf16 autocast")
    args = parser.parse_args()
    rendered = render_rate(args.seconds)
    trained = train_rate(args.model, args.batch_size, args.seconds, bf16=not args.fp32)
    print(f"render + preprocess, 1 worker : {rendered:8.1f} words/s")
    threads = torch.get_num_threads()
    precision = "fp32" if args.fp32 else "bf16"
    print(f"train {args.model} {precision}, batch {args.batch_size:<4}: {trained:8.1f} images/s ({threads} threads)")
    print(f"ratio render / train          : {rendered / trained:8.2f}x (>= 1: one worker keeps up)")


if __name__ == "__main__":
    main()
