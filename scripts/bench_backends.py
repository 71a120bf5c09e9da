"""`make bench`: latency, throughput and accuracy of every backend, measured side by side.

    python scripts/bench_backends.py [--checkpoint CKPT] [--words 1000] [--seconds 5]

Exports the checkpoint (default: the newest run's best) to every format that runs here, each
verified against PyTorch, then for each backend and for PyTorch eager measures the median
latency of one image (batch 1), the throughput at batch 64, and the word accuracy on the same
evaluation set (the fixed synthetic validation words, or --icdar15 DIR). Prints the table and
writes it to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from benchlib import CONF

from crnn_pl.cli.export import newest_best_checkpoint
from crnn_pl.data.datamodule import Icdar15DataModule, SynthDataModule
from crnn_pl.export import BACKENDS, EXPORT_FORMATS
from crnn_pl.export.checkpoint_backend import CheckpointBackend
from crnn_pl.export.exporter import export_checkpoint, verification_images
from crnn_pl.recognizer import Recognizer

REPO = CONF.parent


def evaluation_batches(card, words: int, icdar15: Path | None) -> list:
    common = dict(charset=card.charset, case_sensitive=card.case_sensitive, height=card.height,
                  width=card.width, channels=card.channels, mean=card.mean, std=card.std,
                  batch_size=64, num_workers=0)
    if icdar15:
        datamodule = Icdar15DataModule(train_dir=str(icdar15), val_fraction=0.1, **common)
    else:
        datamodule = SynthDataModule(train_size=1, val_size=words, **common)
    datamodule.setup("validate")
    return list(datamodule.val_dataloader())


def accuracy(recognizer: Recognizer, batches: list) -> float:
    right = total = 0
    for batch in batches:
        texts = [text for text, _ in recognizer.read_tensors(batch.images)]
        right += sum(t == label for t, label in zip(texts, batch.labels, strict=True))
        total += len(texts)
    return right / total


def latency_ms(recognizer: Recognizer, image: np.ndarray, repeats: int = 100) -> float:
    for _ in range(5):
        recognizer.logits(image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        recognizer.logits(image)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def throughput(recognizer: Recognizer, batch: np.ndarray, seconds: float) -> float:
    recognizer.logits(batch)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        recognizer.logits(batch)
        count += len(batch)
    return count / (time.perf_counter() - start)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--words", type=int, default=1000, help="synthetic evaluation words")
    parser.add_argument("--icdar15", type=Path, help="evaluate on the held-out 10%% of this ICDAR15 folder")
    parser.add_argument("--seconds", type=float, default=5.0, help="throughput measuring time per backend")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    checkpoint = args.checkpoint or newest_best_checkpoint(REPO / "outputs" / "train" / "runs")
    card = CheckpointBackend().read_card(checkpoint)
    batches = evaluation_batches(card, args.words, args.icdar15)
    one = batches[0].images[:1].numpy()
    full = np.concatenate([b.images.numpy() for b in batches])[:64]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = Path(scratch)
        images = verification_images(None, out_dir / "verify_images", card)
        manifest = export_checkpoint(checkpoint, out_dir, list(EXPORT_FORMATS), images)
        candidates = [("pytorch eager", "ckpt", checkpoint)] + [
            (name, name, out_dir / BACKENDS[name].file_name)
            for name in EXPORT_FORMATS if "skipped" not in manifest["formats"][name]]
        for label, name, path in candidates:
            recognizer = Recognizer(path, name)
            rows.append((label, latency_ms(recognizer, one), throughput(recognizer, full, args.seconds),
                         accuracy(recognizer, batches)))
    skipped = {n: e["skipped"] for n, e in manifest["formats"].items() if "skipped" in e}
    write_report(rows, skipped, checkpoint, batches, args)


def write_report(rows, skipped: dict, checkpoint: Path, batches: list, args) -> None:
    eager_latency, eager_throughput = rows[0][1], rows[0][2]
    evaluation = (f"the held-out 10% of {args.icdar15}" if args.icdar15
                  else f"{sum(len(b.labels) for b in batches)} fixed synthetic validation words")
    lines = [
        "| format | latency, batch 1 (ms, median) | throughput, batch 64 (images/s) | word accuracy "
        "| speed vs eager (batch 1 / batch 64) |",
        "|---|---|---|---|---|",
    ]
    for label, latency, images_per_second, acc in rows:
        lines.append(f"| {label} | {latency:.2f} | {images_per_second:.0f} | {100 * acc:.2f}% | "
                     f"{eager_latency / latency:.2f}x / {images_per_second / eager_throughput:.2f}x |")
    for name, reason in skipped.items():
        lines.append(f"| {name} | skipped: {reason} | | | |")
    spread = 100 * (max(r[3] for r in rows) - min(r[3] for r in rows))
    verdict = (f"Accuracy spread across backends: {spread:.2f} points "
               f"({'within' if spread <= 0.1 else 'OUTSIDE'} the 0.1-point promise).")
    header = [
        "# Backend benchmarks",
        "",
        f"Measured {date.today()} on {cpu_name()}, {torch.get_num_threads()} threads, no GPU, by",
        "`make bench` (`python scripts/bench_backends.py`). Model: "
        f"`{checkpoint.relative_to(REPO) if checkpoint.is_relative_to(REPO) else checkpoint}`; "
        f"evaluation set: {evaluation}. Inputs are preprocessed once; the times cover the model only.",
        "",
    ]
    text = "\n".join(header + lines + ["", verdict, ""])
    print("\n" + text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
