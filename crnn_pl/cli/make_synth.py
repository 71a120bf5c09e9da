"""`crnn-make-synth`: write N rendered words to disk, for offline tests and shareable fixed sets.

    crnn-make-synth OUT --count 1000                  ICDAR 2015-format folder (PNGs + gt.txt)
    crnn-make-synth OUT --count 1000 --format lmdb    text-recognition LMDB

Sample i is rendered from the seed (seed, i), as the synthetic validation set is, so the same
command writes the same images on any machine. The output is written beside OUT and moved into
place only when complete; --overwrite replaces only what this tool wrote (crnn_pl.cli.output).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from crnn_pl.cli.arguments import Parser, number_in
from crnn_pl.cli.output import fresh_output, run_tool
from crnn_pl.core.charset import Charset, preset_names
from crnn_pl.data.ground_truth import format_icdar15_line
from crnn_pl.data.lmdb_store import LmdbWriter
from crnn_pl.data.progress import progress
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer

TOOL = "crnn-make-synth"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog=TOOL, description=__doc__.split("\n")[0])
    parser.add_argument("output", type=Path, help="folder (icdar15) or LMDB folder (lmdb) to create")
    parser.add_argument("--count", type=number_in(1), required=True, help="number of words to render")
    parser.add_argument("--format", choices=("icdar15", "lmdb"), default="icdar15")
    parser.add_argument("--charset", choices=preset_names(), default="alnum36")
    parser.add_argument("--vocabulary", help="the corpus (dataset.render.text.vocabulary): wordfreq:<language> "
                                             "or a UTF-8 file; default conf/dataset/synth.yaml's")
    parser.add_argument("--seed", type=number_in(0), default=0)
    parser.add_argument("--max-length", type=number_in(1), default=RenderSettings.from_config().max_length)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUTPUT if this tool wrote it (never a folder holding anything else)")
    return parser.parse_args(argv)


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def render(count: int, charset: Charset, seed: int, max_length: int, vocabulary: str | None = None):
    # Every file is a word to read: no turned crops (their empty label is only for training on the fly).
    text = {"vocabulary": vocabulary} if vocabulary else {}
    settings = RenderSettings.from_config({"max_length": max_length, "turned_prob": 0.0, "text": text})
    samples = WordRenderer(charset, settings).samples(count, seed)
    for number in progress(range(1, count + 1), "rendering"):
        yield number, *next(samples)


def write(args: argparse.Namespace, output: Path) -> None:
    samples = render(args.count, Charset.preset(args.charset), args.seed, args.max_length, args.vocabulary)
    if args.format == "lmdb":
        with LmdbWriter(output) as writer:
            for _, image, label in samples:
                writer.add(png_bytes(image), label)
        return
    lines = []
    for number, image, label in samples:
        name = f"word_{number}.png"
        Image.fromarray(image).save(output / name)
        lines.append(format_icdar15_line(name, label))
    (output / "gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    vocabulary = [Path(args.vocabulary)] if args.vocabulary and not args.vocabulary.startswith("wordfreq:") else []

    def write_all() -> str:
        with fresh_output(args.output, args.overwrite, TOOL, vocabulary) as staging:
            write(args, staging)
        return f"wrote {args.count:,} rendered words to {args.output} ({args.format})"

    return run_tool(args.output, write_all)

if __name__ == "__main__":
    sys.exit(main())
