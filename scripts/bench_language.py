"""How well does a language recipe read its own script, and how many steps does starting from `en` save?

    python scripts/bench_language.py --compare RECIPE FROM_EN_RUN FROM_SCRATCH_RUN... [--compare ...]
                                     [--output docs/language_benchmark.md] [--contact-sheet PNG]

RECIPE is an `experiment=` (vi, ru, meter); the first run folder trained it from `en`
(`python train.py experiment=vi`), the others from scratch (`... pretrained=null`, the same steps
or more).
For each run: its validation curve (train.log), and its best checkpoint scored on 1,000 rendered
words drawn as the recipe draws them (`rendered`) and on 1,000 from the words and font families
the recipe holds out of training (`rendered-heldout`): exact (the label as written) and CER.
"Steps saved" is how many more steps a run from scratch took to reach its best validation accuracy
than the run from `en` took to reach the same (validation every 250 steps); and whether the run from
scratch ever reached the best of the run from `en`.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

import numpy as np
from bench_real import read_rendered
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from crnn_pl.cli.arguments import number_in
from crnn_pl.cli.export import best_checkpoint
from crnn_pl.cli.train import CONFIG_DIR, charset_from_config
from crnn_pl.core.analysis import summary
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.runtime.recognizer import Recognizer

REPO = Path(__file__).resolve().parents[1]
RENDERED_WORDS = 1000
RENDERED_SEED = 2027          # not a training or validation seed: words no run has drawn
VALIDATION = re.compile(r"validation after step (\d+): val/acc (\d\.\d+)")


def recipe_renderers(recipe: str) -> dict[str, WordRenderer]:
    """The recipe's renderer for its training words and fonts, and for the held-out ones."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose("config", overrides=[f"experiment={recipe}"])
    render = OmegaConf.to_container(cfg.dataset.render, resolve=True)
    charset = charset_from_config(cfg)
    # turned crops are labelled empty for training alone: score words
    return {name: WordRenderer(charset, RenderSettings.from_config(render | {"split": split, "turned_prob": 0.0}))
            for name, split in (("rendered", "train"), ("rendered-heldout", "heldout"))}


def validation_curve(run: Path) -> list[tuple[int, float]]:
    """(step, val/acc) after every validation of the run, from its train.log."""
    log = run / "train.log"
    return [(int(step), float(acc)) for step, acc in VALIDATION.findall(log.read_text(encoding="utf-8"))]


def steps_to_reach(curve: list[tuple[int, float]], target: float) -> int | None:
    return next((step for step, acc in curve if acc >= target), None)


def score(recognizer: Recognizer, samples: list[tuple[np.ndarray, str]]) -> dict[str, float]:
    return summary(read_rendered(recognizer, samples))


def compare(recipe: str, runs: list[tuple[str, Path]], samples: dict[str, list]) -> tuple[list[str], Recognizer]:
    """The recipe's table (one row per run) and what starting from `en` saved against each run from
    scratch; also the first run's recognizer (the one from `en`)."""
    lines = [f"## `experiment={recipe}`", "",
             "| start | steps | val/acc by validation | rendered exact | rendered CER | held-out exact "
             "| held-out CER |",
             "|---|---|---|---|---|---|---|"]
    curves, recognizers = [], []
    for start, run in runs:
        curves.append(validation_curve(run))
        recognizers.append(recognizer := Recognizer(best_checkpoint(run)))
        seen, heldout = (score(recognizer, samples[name]) for name in ("rendered", "rendered-heldout"))
        curve = ", ".join(f"{acc:.2f}" for _, acc in curves[-1])
        lines.append(f"| {start} | {curves[-1][-1][0]:,} | {curve} | {seen['exact']:.4f} | {seen['cer']:.4f} "
                     f"| {heldout['exact']:.4f} | {heldout['cer']:.4f} |")
    lines.append("")
    from_en = curves[0]
    en_steps, en_best = max(from_en, key=lambda point: point[1])
    for curve in curves[1:]:
        steps, best = max(curve, key=lambda point: point[1])
        reached = steps_to_reach(from_en, best)
        said = f"From scratch in {curve[-1][0]:,} steps, the best val/acc was {best:.4f} (step {steps:,}); from `en`, "
        if steps == curve[0][0]:
            said = (f"From scratch, val/acc never rose above its first validation's {best:.4f} in "
                    f"{curve[-1][0]:,} steps (CTC's blank plateau).")
        elif reached is None:
            said += "never."
        else:
            at_least = "at least " if reached == from_en[0][0] else ""
            said += (f"{from_en[0][1]:.4f} already at the first validation (step {reached:,})" if at_least else
                     f"reached by step {reached:,}") + f": **{at_least}{steps - reached:,} steps saved**."
        beaten = steps_to_reach(curve, en_best)
        said += f" From `en`'s best, {en_best:.4f} (step {en_steps:,}): " + (
            f"from scratch by step {beaten:,}." if beaten else f"never from scratch within {curve[-1][0]:,} steps.")
        lines += [said, ""]
    return lines, recognizers[0]


def contact_sheet(path: Path, columns: list[tuple[str, Recognizer, list]], rows: int = 8) -> None:
    """Held-out rendered words of each recipe with the fine-tuned model's reads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(rows, len(columns), figsize=(3.4 * len(columns), 0.9 * rows), squeeze=False)
    for column, (title, recognizer, samples) in enumerate(columns):
        axes[0, column].set_title(title, fontsize=10)
        picks = samples[:rows]
        reads = recognizer.read([image for image, _ in picks])
        for row, ((image, label), (text, _)) in enumerate(zip(picks, reads, strict=True)):
            axis = axes[row, column]
            axis.axis("off")
            axis.imshow(image)
            axis.text(1.02, 0.5, f"{label}\n-> {text}", transform=axis.transAxes, fontsize=8, va="center",
                      color="green" if text == label else "red")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs="+", action="append", required=True,
                        metavar="RECIPE FROM_EN_RUN FROM_SCRATCH_RUN",
                        help="a recipe, its run from en, then one or more runs from scratch")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "language_benchmark.md")
    parser.add_argument("--contact-sheet", type=Path, help="write held-out words with the from-en reads to this PNG")
    parser.add_argument("--words", type=number_in(1), default=RENDERED_WORDS, help="rendered words per set")
    args = parser.parse_args(argv)
    lines = ["# Language recipes: from `en` against from scratch", "",
             f"Measured {date.today()} on a 2-core CPU by `python scripts/bench_language.py "
             + " ".join(f"--compare {' '.join(c)}" for c in args.compare) + "`.", "",
             f"`rendered`: {args.words:,} words drawn as each recipe draws them (seed {RENDERED_SEED}); "
             f"`held-out`: {args.words:,} from the words and font families the recipe never trains on. "
             "Exact is the label as written; CER is the character error rate. (acc36, which folds case and drops "
             "what is not a Latin letter or digit, says nothing of a Cyrillic or Vietnamese reader.)", ""]
    sheet = []
    for recipe, *folders in args.compare:
        if len(folders) < 2:
            print(f"error: --compare {recipe}: give its run from en and at least one from scratch", file=sys.stderr)
            return 1
        for path in folders:
            if not (Path(path) / "train.log").is_file() or best_checkpoint(Path(path)) is None:
                print(f"error: {path}: not a run folder with a checkpoint (train.log, checkpoints/)", file=sys.stderr)
                return 1
        renderers = recipe_renderers(recipe)
        samples = {name: [(image, label) for image, label in renderer.samples(args.words, RENDERED_SEED) if label]
                   for name, renderer in renderers.items()}
        runs = [("from en", Path(folders[0]))] + [("from scratch", Path(f)) for f in folders[1:]]
        section, from_en = compare(recipe, runs, samples)
        print("\n".join(section))
        lines += section
        sheet.append((f"{recipe}: held out, from en", from_en, samples["rendered-heldout"]))
    text = "\n".join(lines)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    if args.contact_sheet:
        contact_sheet(args.contact_sheet, sheet)
        print(f"contact sheet: {args.contact_sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
