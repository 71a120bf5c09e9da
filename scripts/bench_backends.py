"""`make bench`: latency, throughput and accuracy of every backend, measured side by side.

    python scripts/bench_backends.py [--model-path CKPT|en] [--words 1000] [--seconds 5] [--real DIR]

Exports the checkpoint (default: the newest run's best; `en`: the shipped model) to every format
that runs here, each verified against PyTorch, then measures two tables in one run:

- model only: for each backend and PyTorch eager, the median latency of one preprocessed image
  (batch 1), the throughput at batch 64, and the word accuracy on the same evaluation set (the
  fixed synthetic validation words, or --icdar15 DIR) read through `Recognizer.read`, the one read
  path, and scored by crnn_pl.core.metrics;
- end to end on real word files (--real, default: the IIIT5K development set, when present):
  file decode, preprocessing, the model and CTC decoding, as `crnn-predict` and
  `Recognizer.read` do it: batch-1 latency (median over --latency-files files, decoded inline)
  and batch-64 images/s over every file (decoded on 2 threads beside the model), with acc36 and
  exact (the label as written) on them; and the peers' recognizers (scripts/peers.py, the `bench`
  extra: PaddleOCR's PP-OCRv4 through RapidOCR, PP-OCRv6 tiny and small) run the same way on the
  same files, when installed.

Prints the tables and writes them to docs/benchmarks.md.
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
import peers
import torch
from bench_real import IIIT5K, default_data_root, labelled_files
from benchlib import CONF

from crnn_pl.cli.arguments import number_in
from crnn_pl.cli.export import newest_best_checkpoint
from crnn_pl.core.card import ModelCard
from crnn_pl.core.ctc import requested_decoder
from crnn_pl.core.metrics import score_reads
from crnn_pl.core.preprocess import prepare
from crnn_pl.data.datamodule import Icdar15DataModule, SynthDataModule
from crnn_pl.data.words import RawSample
from crnn_pl.export import ExportError
from crnn_pl.export.exporter import export_checkpoint, verification_images
from crnn_pl.model.weights import read_weights
from crnn_pl.pretrained import resolve_model
from crnn_pl.runtime.formats import EXPORT_FORMATS
from crnn_pl.runtime.recognizer import Recognizer

REPO = CONF.parent


def evaluation_samples(card: ModelCard, words: int, icdar15: Path | None) -> list[RawSample]:
    common = dict(charset=card.charset, case_sensitive=card.case_sensitive, height=card.height,
                  width=card.width, channels=card.channels, mean=card.mean, std=card.std,
                  batch_size=64, num_workers=0)
    if icdar15:
        datamodule = Icdar15DataModule(train_dir=str(icdar15), val_fraction=0.1, **common)
    else:
        datamodule = SynthDataModule(train_size=1, val_size=words, **common)
    datamodule.setup("validate")
    dataset = datamodule.datasets["val"]
    return [dataset.raw(key) for key in range(len(dataset))]


def accuracy(recognizer: Recognizer, samples: list[RawSample]) -> float:
    texts = [text for text, _ in recognizer.read([s.image for s in samples])]
    return score_reads(texts, [s.label for s in samples])["exact"]


def latency_ms(recognizer: Recognizer, image: np.ndarray, repeats: int = 100) -> float:
    for _ in range(5):
        recognizer.run(image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        recognizer.run(image)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def throughput(recognizer: Recognizer, batch: np.ndarray, seconds: float) -> float:
    recognizer.run(batch)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        recognizer.run(batch)
        count += len(batch)
    return count / (time.perf_counter() - start)


def end_to_end(read_one, read_all, files: list[tuple[Path, str]],
               latency_files: int) -> tuple[float, float, float, float]:
    """Batch-1 latency (ms, median over files), batch-64 images/s, acc36 and exact, from files on disk."""
    paths = [path for path, _ in files]
    read_one(paths[0])                              # warm-up
    times = []
    for path in paths[:latency_files]:
        start = time.perf_counter()
        read_one(path)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    texts = read_all(paths)
    images_per_second = len(paths) / (time.perf_counter() - start)
    scores = score_reads(texts, [label for _, label in files])
    return 1000 * statistics.median(times), images_per_second, scores["acc36"], scores["exact"]


def ours(recognizer: Recognizer):
    def read_one(path):
        return recognizer.read([path], batch_size=1, workers=0)

    def read_all(paths):
        return [text for text, _ in recognizer.read(paths, batch_size=64, workers=2)]

    return read_one, read_all


def peer_reader(peer: peers.PeerRecognizer):
    def read_one(path):
        return peer.read([path], batch_size=1)

    def read_all(paths):
        return [text for text, _ in peer.read(paths, batch_size=64)]

    return read_one, read_all


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def export_every_format(checkpoint: Path, out_dir: Path, images: list) -> dict:
    """Every format, verified. The float formats must pass; onnx_int8 is lossy by design, and an
    undertrained model's unstable reads can exceed its word allowance: then it is reported as
    skipped, with the verification's verdict, and the other formats are still measured."""
    # safetensors is read by PyTorch eager, the first row already
    floats = [name for name in EXPORT_FORMATS if name not in ("onnx_int8", "safetensors")]
    manifest = export_checkpoint(checkpoint, out_dir, floats, images)
    if "onnx_int8" in EXPORT_FORMATS:
        try:
            int8 = export_checkpoint(checkpoint, out_dir / "int8", ["onnx_int8"], images)
            manifest["formats"]["onnx_int8"] = dict(int8["formats"]["onnx_int8"],
                                                    file=f"int8/{int8['formats']['onnx_int8'].get('file')}")
        except ExportError as error:
            manifest["formats"]["onnx_int8"] = {"skipped": f"failed its verification: {error}"}
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", type=Path, help="a checkpoint, .safetensors or shipped name (default: the "
                        "newest run's best)")
    parser.add_argument("--words", type=number_in(1), default=1000, help="synthetic evaluation words")
    parser.add_argument("--icdar15", type=Path, help="evaluate on the held-out 10%% of this ICDAR15 folder")
    parser.add_argument("--seconds", type=number_in(0.1, kind=float), default=5.0,
                        help="throughput measuring time per backend")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--real", type=Path, default=default_data_root() / IIIT5K,
                        help="a folder of real word crops with gt.txt for the end-to-end table")
    parser.add_argument("--latency-files", type=number_in(1), default=200, help="files timed one by one at batch 1")
    parser.add_argument("--limit", type=number_in(0), default=0, help="first N real files only (0: all)")
    args = parser.parse_args()
    checkpoint = (resolve_model(args.model_path, weights=True) if args.model_path
                  else newest_best_checkpoint(REPO / "outputs" / "train" / "runs"))
    card = ModelCard.from_hparams(read_weights(checkpoint)[1])
    samples = evaluation_samples(card, args.words, args.icdar15)
    full = np.stack([prepare(s.image, card.spec) for s in samples[:64]])
    one = full[:1]
    rows, e2e_rows = [], []
    real = labelled_files(args.real) if (args.real / "gt.txt").is_file() else []
    real = real[:args.limit] if args.limit else real
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = Path(scratch)
        images = verification_images(None, out_dir / "verify_images", card)
        manifest = export_every_format(checkpoint, out_dir, images)
        candidates = [("pytorch eager", None, checkpoint)] + [
            (name, name, out_dir / entry["file"])
            for name, entry in manifest["formats"].items() if "skipped" not in entry]
        for label, name, path in candidates:
            recognizer = Recognizer(path, name)
            rows.append((label, latency_ms(recognizer, one), throughput(recognizer, full, args.seconds),
                         accuracy(recognizer, samples)))
            if real:
                e2e_rows.append((f"crnn_pl {label}", *end_to_end(*ours(recognizer), real, args.latency_files)))
            if real and name == "onnx":     # the other decoder: what reading against a word list costs and gains
                other = "greedy" if recognizer.decoder_in_use().name == "lexicon" else "lexicon"
                switched = Recognizer(path, name, decoder=requested_decoder(other))
                e2e_rows.append((f"crnn_pl {label}, {other} decoder",
                                 *end_to_end(*ours(switched), real, args.latency_files)))
    skipped = {n: e["skipped"] for n, e in manifest["formats"].items() if "skipped" in e}
    if real:
        found, missing = peers.available_peers(torch.get_num_threads())
        for peer in found:
            e2e_rows.append((peer.name, *end_to_end(*peer_reader(peer), real, args.latency_files)))
        skipped.update(missing)
    write_report(rows, skipped, checkpoint, samples, args, e2e_rows, len(real), card.decoder_settings().describe())


def end_to_end_table(e2e_rows: list, files: int, args, decoder: str = "") -> list[str]:
    if not e2e_rows:
        return []
    peer_rows = [r for r in e2e_rows if not r[0].startswith("crnn_pl")]
    # latency is compared with the most accurate peer: the reader a user would otherwise pick
    reference = max(peer_rows, key=lambda row: row[4]) if peer_rows else None
    lines = ["## End to end, real word files", "",
             f"{files:,} crops of `{shown_path(args.real)}` read from disk: decode, preprocess, model, CTC decoding. "
             "Batch 1: "
             f"median over the first {min(args.latency_files, files)} files, one at a time; batch 64: every file, "
             "decoded on 2 threads beside the model (the peers: PaddleOCR's loader, in turn). acc36: letters "
             "and digits, case folded; exact: the label as written. Our rows decode as the model card says "
             f"({decoder}), unless they name another decoder.", "",
             "| reader | latency, batch 1 (ms, median) | throughput, batch 64 (images/s) | acc36 | exact |"
             + (f" batch-1 latency vs {reference[0]} |" if reference else ""),
             "|---|---|---|---|---|" + ("---|" if reference else "")]
    for label, latency, images_per_second, acc, exact in e2e_rows:
        ratio = ""
        if reference:
            ratio = " (the reference) |" if label == reference[0] else f" {reference[1] / latency:.1f}x lower |"
        lines.append(f"| {label} | {latency:.2f} | {images_per_second:.0f} | {acc:.4f} | {exact:.4f} |{ratio}")
    return lines + [""]


def shown_path(path: Path) -> Path:
    """A data folder as the reader of the page can find it: relative to the repository's parent."""
    resolved = path.resolve()
    return resolved.relative_to(REPO.parent) if resolved.is_relative_to(REPO.parent) else path


def write_report(rows, skipped: dict, checkpoint: Path, samples: list, args, e2e_rows=(), files: int = 0,
                 decoder: str = "") -> None:
    eager_latency, eager_throughput = rows[0][1], rows[0][2]
    evaluation = (f"the held-out 10% of {args.icdar15}" if args.icdar15
                  else f"{len(samples)} fixed synthetic validation words")
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
    # The float backends promise the same reads; int8 is approximate by design and reported apart.
    exact = [r for r in rows if r[0] != "onnx_int8"]
    spread = 100 * (max(r[3] for r in exact) - min(r[3] for r in exact))
    verdict = (f"Accuracy spread across the float backends: {spread:.2f} points "
               f"({'within' if spread <= 0.1 else 'OUTSIDE'} the 0.1-point promise).")
    int8 = [r for r in rows if r[0] == "onnx_int8"]
    onnx = [r for r in rows if r[0] == "onnx"]
    if int8 and onnx:
        verdict += (f" onnx_int8 against onnx: {100 * (int8[0][3] - onnx[0][3]):+.2f} points, "
                    f"{onnx[0][1] / int8[0][1]:.2f}x faster at batch 1, {int8[0][2] / onnx[0][2]:.2f}x at batch 64.")
    header = [
        "# Backend benchmarks",
        "",
        f"Measured {date.today()} on {cpu_name()}, {torch.get_num_threads()} threads, no GPU, by",
        "`make bench` (`python scripts/bench_backends.py`). Model: "
        f"`{checkpoint.relative_to(REPO) if checkpoint.is_relative_to(REPO) else checkpoint}`; "
        f"evaluation set: {evaluation}. Inputs are preprocessed once; the times cover the model only.",
        "",
    ]
    model_only = ["## Model only", ""] + lines + ["", verdict, ""]
    text = "\n".join(header + model_only + end_to_end_table(list(e2e_rows), files, args, decoder))
    print("\n" + text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
