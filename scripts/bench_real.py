"""How well does a model read real words? Scores it on real word crops it never trained on.

    python scripts/bench_real.py [--model-path CKPT_OR_EXPORT] [--data-root DIR] [--output docs/real_benchmark.md]
                                 [--contact-sheet docs/synth_vs_real.png] [--orientation auto|upright]
                                 [--decoder greedy|lexicon] [--lexicon en|FILE]

Sets (under --data-root, by default data/ or else ../shared/data, see data/README.md):
  iiit5k        iiit5k/train: the development set (2,000 crops; never train on it)
  icdar15-val   the 10% of ICDAR 2015's training crops that dataset=icdar15 holds out
  icdar15-all   every ICDAR 2015 training crop (the model may have trained on 90% of them)

and two rendered sets of 1,000 words each (with the train extra), which tell reading letters
from recalling a word list: `rendered` draws the words and font families training draws from,
`rendered-heldout` a tenth of each that training never sees (conf/dataset/synth.yaml `split`).

For each: acc36 (the benchmark protocol: case-insensitive, alphanumerics only), exact match (the
label as written), CER, acc36 by label length, crop height and aspect ratio (crops taller than
wide are the vertical ones), and the 20 most frequent character confusions. The contact sheet
puts rendered training words beside real crops with their reads.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from crnn_pl.cli.arguments import number_in
from crnn_pl.cli.export import newest_best_checkpoint
from crnn_pl.core.analysis import (
    ASPECT_BUCKETS,
    HEIGHT_BUCKETS,
    LENGTH_BUCKETS,
    Read,
    breakdown,
    by_aspect,
    by_height,
    by_length,
    confusions,
    summary,
)
from crnn_pl.core.ctc import DECODERS, requested_decoder
from crnn_pl.core.metrics import alnum36, matches36
from crnn_pl.data.datamodule import Icdar15DataModule
from crnn_pl.data.ground_truth import Entry, read_icdar15
from crnn_pl.runtime.recognizer import ORIENTATIONS, Recognizer

REPO = Path(__file__).resolve().parents[1]

ICDAR15 = Path("icdar15") / "ch4_training_word_images_gt"
IIIT5K = Path("iiit5k") / "train"


def default_data_root() -> Path:
    for root in (REPO / "data", REPO.parent / "shared" / "data"):
        if (root / IIIT5K / "gt.txt").is_file():
            return root
    return REPO / "data"


def labelled_files(folder: Path) -> list[tuple[Path, str]]:
    """Every crop of an ICDAR 2015-format folder whose label has something to score under alnum36."""
    entries = [e for e in read_icdar15(folder / "gt.txt", folder) if isinstance(e, Entry)]
    return [(e.path, e.label) for e in entries if alnum36(e.label) and e.path.is_file()]


def icdar15_held_out(folder: Path, recognizer: Recognizer) -> list[tuple[Path, str]]:
    """Exactly the crops `dataset=icdar15` holds out for validation for this model's charset, with
    their labels as written (as crnn-eval reads them)."""
    card = recognizer.card
    datamodule = Icdar15DataModule(charset=card.charset, case_sensitive=card.case_sensitive, train_dir=str(folder),
                                   height=card.height, width=card.width, channels=card.channels, mean=card.mean,
                                   std=card.std, num_workers=0, labels_as_written=True)
    datamodule.setup("validate")
    return list(datamodule.datasets["val"].samples)


def read_all(recognizer: Recognizer, files: list[tuple[Path, str]], batch_size: int = 64) -> list[Read]:
    # Recognizer.read batches and decodes on its threads itself: one call for every file.
    texts = recognizer.read([path for path, _ in files], batch_size)
    reads = []
    for (path, label), (text, _) in zip(files, texts, strict=True):
        width, height = Image.open(path).size     # header only: the size buckets need it
        reads.append(Read(label, text, height, width))
    return reads


RENDERED_WORDS = 1000
RENDERED_SEED = 2027          # not a training or validation seed: words no run has drawn


def rendered_sets(recognizer: Recognizer) -> dict[str, list[tuple[np.ndarray, str]]]:
    """Rendered words in the model's charset: training's words and fonts, and the held-out ones."""
    try:
        from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
    except ImportError:
        print("rendered sets skipped: the renderer needs the train extra", file=sys.stderr)
        return {}
    sets = {}
    for name, split in (("rendered", "train"), ("rendered-heldout", "heldout")):
        settings = RenderSettings.from_config({"split": split, "font_sources": ["packages", "shipped"],
                                               "max_length": 16})
        renderer = WordRenderer(recognizer.charset, settings)
        samples = renderer.samples(RENDERED_WORDS, seed=RENDERED_SEED)
        sets[name] = [(image, label) for image, label in samples if label]   # a turned crop reads as nothing
    return sets


def read_rendered(recognizer: Recognizer, samples: list[tuple[np.ndarray, str]]) -> list[Read]:
    texts = recognizer.read([image for image, _ in samples])
    return [Read(label, text, image.shape[0], image.shape[1])
            for (image, label), (text, _) in zip(samples, texts, strict=True)]


def overview(reads: dict[str, list[Read]]) -> list[str]:
    lines = ["| set | crops | acc36 | exact | CER |", "|---|---|---|---|---|"]
    for name, set_reads in reads.items():
        scores = summary(set_reads)
        lines.append(f"| {name} | {scores['images']:,} | {scores['acc36']:.4f} | {scores['exact']:.4f} "
                     f"| {scores['cer']:.4f} |")
    return lines + [""]


def report(name: str, reads: list[Read]) -> list[str]:
    scores = summary(reads)
    lines = [f"### {name}: {scores['images']:,} crops", "",
             f"acc36 **{scores['acc36']:.4f}**, exact {scores['exact']:.4f}, CER {scores['cer']:.4f}", ""]
    for title, key, edges in (("label length", by_length, LENGTH_BUCKETS), ("crop height", by_height, HEIGHT_BUCKETS),
                              ("aspect ratio (w/h)", by_aspect, ASPECT_BUCKETS)):
        rows = breakdown(reads, key, edges)
        lines += [f"| {title} | " + " | ".join(r[0] for r in rows) + " |",
                  "|---" * (len(rows) + 1) + "|",
                  "| crops | " + " | ".join(f"{r[1]:,}" for r in rows) + " |",
                  "| acc36 | " + " | ".join(f"{r[2]:.3f}" for r in rows) + " |", ""]
    top = confusions(reads)
    lines += ["Most frequent character errors (label -> read; `_` = nothing): "
              + ", ".join(f"`{t or '_'}`->`{g or '_'}` {n}" for t, g, n in top), ""]
    return lines


def contact_sheet(path: Path, recognizer: Recognizer, real: dict[str, list[tuple[Path, str]]],
                  reads: dict[str, list[Read]], rows: int = 10) -> None:
    """Rendered training words (left) beside real crops of each set, with the model's reads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer

    # conf/dataset/synth.yaml's settings, without turned crops (labelled empty for training alone)
    renderer = WordRenderer(recognizer.charset, RenderSettings.from_config({"turned_prob": 0.0}))
    rendered = [renderer.sample(np.random.default_rng([2026, i])) for i in range(rows)]
    synth_reads = recognizer.read([image for image, _ in rendered])
    columns = [("rendered (dataset=synth)", [(img, lab, text) for (img, lab), (text, _) in
                                             zip(rendered, synth_reads, strict=True)])]
    rng = np.random.default_rng(0)
    for name, files in real.items():
        picks = rng.choice(len(files), size=min(rows, len(files)), replace=False)
        columns.append((name, [(np.asarray(Image.open(files[i][0]).convert("RGB")), files[i][1],
                                reads[name][i].prediction) for i in picks]))
    figure, axes = plt.subplots(rows, len(columns), figsize=(3.2 * len(columns), 0.9 * rows))
    for column, (title, cells) in enumerate(columns):
        axes[0, column].set_title(title, fontsize=10)
        for row in range(rows):
            axis = axes[row, column]
            axis.axis("off")
            if row < len(cells):
                image, label, text = cells[row]
                axis.imshow(image, cmap="gray" if image.ndim == 2 else None)
                right = matches36(text, label)
                axis.text(1.02, 0.5, f"{label}\n-> {text}", transform=axis.transAxes, fontsize=7, va="center",
                          color="green" if right else "red")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", type=Path, help="a checkpoint or export (default: the newest run's best)")
    parser.add_argument("--data-root", type=Path, default=default_data_root())
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "real_benchmark.md")
    parser.add_argument("--contact-sheet", type=Path, help="write rendered-vs-real crops with reads to this PNG")
    parser.add_argument("--limit", type=number_in(1), help="score at most this many crops per set (a quick look)")
    parser.add_argument("--read-max-width", type=number_in(0), default=None,
                        help="read wide crops at their natural width up to this many px (0: squeeze them); "
                             "default: the model's own setting (model.read_max_width)")
    parser.add_argument("--orientation", choices=ORIENTATIONS, default="auto",
                        help="as crnn-predict --orientation (default auto)")
    parser.add_argument("--no-rendered", action="store_true", help="score the real sets only")
    parser.add_argument("--decoder", choices=DECODERS, help="as crnn-predict --decoder (default: the model card's)")
    parser.add_argument("--lexicon", help="as crnn-predict --lexicon (the lexicon decoder's words; default en)")
    args = parser.parse_args(argv)
    model = args.model_path or newest_best_checkpoint(REPO / "outputs" / "train" / "runs")
    recognizer = Recognizer(model, orientation=args.orientation, decoder=requested_decoder(args.decoder, args.lexicon))
    if args.read_max_width is not None:
        recognizer.spec = replace(recognizer.spec, read_max_width=args.read_max_width or None)
    real: dict[str, list[tuple[Path, str]]] = {}
    if (args.data_root / IIIT5K / "gt.txt").is_file():
        real["iiit5k"] = labelled_files(args.data_root / IIIT5K)
    if (args.data_root / ICDAR15 / "gt.txt").is_file():
        real["icdar15-val"] = icdar15_held_out(args.data_root / ICDAR15, recognizer)
        real["icdar15-all"] = labelled_files(args.data_root / ICDAR15)
    if not real:
        print(f"error: no real sets under {args.data_root} (expected {IIIT5K}/gt.txt or {ICDAR15}/gt.txt)",
              file=sys.stderr)
        return 1
    if args.limit:
        real = {name: files[:args.limit] for name, files in real.items()}
    reads = {name: read_all(recognizer, files) for name, files in real.items()}
    rendered = {} if args.no_rendered else rendered_sets(recognizer)
    if args.limit:
        rendered = {name: samples[:args.limit] for name, samples in rendered.items()}
    reads |= {name: read_rendered(recognizer, samples) for name, samples in rendered.items()}
    lines = ["# Real-word benchmark", "",
             f"Measured {date.today()} by `python scripts/bench_real.py`; model `{model}`; data under "
             f"`{args.data_root}`; crops wider than {recognizer.spec.width} px read "
             + (f"at their natural width up to {recognizer.spec.read_max_width} px" if recognizer.spec.read_max_width
                else "squeezed to it") + f"; orientation {args.orientation}; decoder "
             + recognizer.decoder_in_use().describe() + ".", ""]
    lines += overview(reads)
    for name, set_reads in reads.items():
        lines += report(name, set_reads)
    text = "\n".join(lines)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    if args.contact_sheet:
        contact_sheet(args.contact_sheet, recognizer, real, reads)
        print(f"contact sheet: {args.contact_sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
