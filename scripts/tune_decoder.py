"""Choose the lexicon decoder's weights: score a grid of them on the development set, ICDAR 2015's
held-out crops and rendered words, reading each crop through the model once.

    python scripts/tune_decoder.py [--model-path en] [--weights 0.5,1,1.5] [--unknown=-2.5,-3,-3.5]

Prints, per (weight, unknown per character), acc36 and exact on each set, with greedy decoding
first. The rule docs/decisions.md states: the best IIIT5K acc36 among the settings that read
neither rendered set worse than greedy (acc36 and exact). ICDAR 2015 and the rendered sets are
reported, not chosen on.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import numpy as np  # noqa: E402
from bench_real import (  # noqa: E402
    ICDAR15,
    IIIT5K,
    default_data_root,
    icdar15_held_out,
    labelled_files,
    rendered_sets,
)

from crnn_pl.cli.arguments import Parser  # noqa: E402
from crnn_pl.core.ctc import DecoderSettings, GreedyDecoder, make_decoder  # noqa: E402
from crnn_pl.core.metrics import matches36  # noqa: E402
from crnn_pl.runtime.recognizer import Recognizer  # noqa: E402


class Keeping(GreedyDecoder):
    """Keeps each crop's chosen view (greedy read, frame scores) and reads as its index."""

    def __init__(self, charset) -> None:
        super().__init__(charset)
        self.kept: list[tuple[tuple[str, float], np.ndarray]] = []

    def refine(self, greedy, frames):
        self.kept.append((greedy, frames.copy()))
        return f"\0{len(self.kept) - 1}", 1.0


def frames_of(recognizer: Recognizer, inputs: list) -> list[tuple[tuple[str, float], np.ndarray | None]]:
    """Per crop: its greedy read and frame scores as the Recognizer chose its view (None: blank crop)."""
    keeping = recognizer.decoder = Keeping(recognizer.charset)
    reads = recognizer.read(inputs)
    return [keeping.kept[int(text[1:])] if text.startswith("\0") else (("", 0.0), None) for text, _ in reads]


def score(decoder, crops: list) -> tuple[float, float]:
    texts = [decoder.refine(greedy, frames)[0] if frames is not None else "" for _, greedy, frames in crops]
    labels = [label for label, _, _ in crops]
    return (sum(map(matches36, texts, labels)) / len(crops),
            sum(text == label for text, label in zip(texts, labels, strict=True)) / len(crops))


def cells(decoder, crops: dict) -> str:
    return " | ".join("{:.4f} / {:.4f}".format(*score(decoder, items)) for items in crops.values())


def numbers(text: str) -> list[float]:
    return [float(value) for value in text.split(",")]


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-path", default="en")
    parser.add_argument("--data-root", type=Path, default=default_data_root())
    parser.add_argument("--weights", type=numbers, default=numbers("0.5,1,1.5"))
    parser.add_argument("--unknown", type=numbers, default=numbers("-2.5,-3,-3.5"))
    args = parser.parse_args(argv)
    recognizer = Recognizer(args.model_path)
    sets = {"iiit5k": labelled_files(args.data_root / IIIT5K),
            "icdar15-val": icdar15_held_out(args.data_root / ICDAR15, recognizer)}
    sets |= rendered_sets(recognizer)
    crops = {name: [(label, *kept) for (_, label), kept in zip(items, frames_of(recognizer, [i for i, _ in items]),
                                                                 strict=True)]
             for name, items in sets.items()}
    print("| weight | unknown | " + " | ".join(f"{name} acc36 / exact" for name in crops) + " |")
    print("|---|---|" + "---|" * len(crops))
    greedy = GreedyDecoder(recognizer.charset)
    print("| greedy | | " + cells(greedy, crops) + " |", flush=True)
    for weight in args.weights:
        for unknown in args.unknown:
            decoder = make_decoder(DecoderSettings(name="lexicon", lexicon="en", weight=weight, unknown=unknown),
                                   recognizer.charset)
            print(f"| {weight} | {unknown} | " + cells(decoder, crops) + " |", flush=True)


if __name__ == "__main__":
    main()
