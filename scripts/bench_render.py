"""Does rendering keep up with training? Prints both rates, measured side by side in one run.

    python scripts/bench_render.py [--model crnn_small] [--batch-size 32] [--seconds 20] [--fp32]
    python scripts/bench_render.py --profile [--seconds 20]     # where a rendered word's time goes

Render rate: rendered + preprocessed words per second on one core (one DataLoader worker).
Train rate: images per second of training steps (forward, backward, AdamW) on this machine.
Profile: each stage's share of a worker's time (cProfile), to see what limits how many workers a
GPU needs (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

import torch
from benchlib import CONF, rate, train_rate
from omegaconf import OmegaConf

from crnn_pl.cli.arguments import number_in
from crnn_pl.core.charset import Charset
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.synth.dataset import SynthWordDataset
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer

# Stages of WordRenderer.sample and the dataset's preprocessing: (module file, function) pairs whose
# cumulative time is the stage's. Neighbouring words' text is sampled inside typesetting.
STAGES = {
    "text sampling": [("renderer.py", "sample_text")],
    "font loading": [("typeset.py", "load_font")],
    "typesetting (PIL)": [("typeset.py", "draw_text"), ("typeset.py", "draw_stacked")],
    "geometry (warp, crop)": [("geometry.py", "warp"), ("geometry.py", "crop_with_margin")],
    "surface (background, blend)": [("surface.py", "composite")],
    "lighting, tiny crops": [("surface.py", "uneven_light"), ("degrade.py", "shrink_and_upscale")],
    "camera degradations (albumentations)": [("composition.py", "__call__")],
    "seeding the degradations": [("renderer.py", "degrade_seed")],
    "resize, pad, normalise": [("preprocess.py", "normalize_array"), ("preprocess.py", "to_array")],
}


def synth_dataset(charset: str, fonts: list[str], max_length: int) -> SynthWordDataset:
    render = OmegaConf.to_container(OmegaConf.load(CONF / "dataset" / "synth.yaml").render)
    render.update(font_sources=fonts, max_length=max_length)
    settings = RenderSettings.from_config(render)
    return SynthWordDataset(WordRenderer(Charset.preset(charset), settings), ImageSpec(), size=10**9)


def profile_render(dataset: SynthWordDataset, seconds: float) -> None:
    """Render for `seconds` under cProfile, then print each stage's share of the time."""
    profiler = cProfile.Profile()
    keys = iter(range(10**9))

    def one() -> int:
        dataset[next(keys)]
        return 1

    profiler.enable()
    count = rate(one, seconds, warmup=0) * seconds
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values())
    print(f"{count:.0f} words in {seconds:.0f} s under the profiler ({total / count * 1e3:.2f} ms each)")
    for stage, functions in STAGES.items():
        spent = sum(entry[3] for (file, _, name), entry in stats.items()
                    if any(file.endswith("/" + f) and name == n for f, n in functions))
        print(f"  {stage:<38}: {spent / total:6.1%}  {spent / count * 1e3:5.2f} ms")


def render_rate(seconds: float, charset: str = "alnum36", fonts: list[str] | None = None,
                max_length: int = 10) -> float:
    dataset = synth_dataset(charset, fonts or ["packages"], max_length)
    indices = iter(range(10**9))

    def one() -> int:
        dataset[next(indices)]
        return 1

    return rate(one, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="crnn_small")
    parser.add_argument("--batch-size", type=number_in(1), default=32)
    parser.add_argument("--seconds", type=number_in(0.1, kind=float), default=20.0)
    parser.add_argument("--fp32", action="store_true", help="train in float32 instead of bf16 autocast")
    parser.add_argument("--profile", action="store_true",
                        help="profile rendering as the shipped model trains (printable94, all fonts, 16 chars)")
    args = parser.parse_args()
    if args.profile:
        profile_render(synth_dataset("printable94", ["packages", "shipped"], 16), args.seconds)
        return
    rendered = render_rate(args.seconds)
    trained = train_rate(args.model, args.batch_size, args.seconds, bf16=not args.fp32)
    print(f"render + preprocess, 1 worker : {rendered:8.1f} words/s")
    threads = torch.get_num_threads()
    precision = "fp32" if args.fp32 else "bf16"
    print(f"train {args.model} {precision}, batch {args.batch_size:<4}: {trained:8.1f} images/s ({threads} threads)")
    print(f"ratio render / train          : {rendered / trained:8.2f}x (>= 1: one worker keeps up)")


if __name__ == "__main__":
    main()
