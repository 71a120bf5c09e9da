r"""`crnn-predict` / `python -m crnn_pl.predict`: read word images with any backend.

    crnn-predict word_1.png                       the pretrained English model shipped in the package
    crnn-predict word_1.png crops/ 'more/*.jpg' --model-path exports/model.onnx
    crnn-predict crops/ --model-path run/checkpoints/last.ckpt --jsonl

Prints `path<TAB>text<TAB>confidence` per image (or JSON lines), and images/s on stderr at the
end. A blank crop reads as an empty text with confidence 0. An unreadable file (not a regular
file, not a raster image, more than --max-pixels), or a folder or glob holding no image, gets an
error line on stderr naming it; the others are still read, and the exit status is 1. A model that
cannot be read is one error line, exit status 1; a wrong option, exit status 2. Ctrl-C stops at
once (what was read is printed; exit 130); a closed pipe (`| head`) ends quietly. In the TSV, a
tab, a line break or a backslash in a path or a read is escaped (`\t`, `\n`, `\\`), and a name's
bytes that are not UTF-8 are shown as `\xNN`, so each image is one line of three columns. With an
ONNX or Paddle model nothing here imports torch: the base install (`pip install crnn_pl`) reads.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
import warnings
from pathlib import Path

from crnn_pl.cli.arguments import Parser, number_in
from crnn_pl.core.ctc import DECODERS, requested_decoder
from crnn_pl.core.decode import MAX_PIXELS
from crnn_pl.core.errors import UserError
from crnn_pl.runtime.formats import FORMATS  # light: each engine imports its runtime when used
from crnn_pl.runtime.recognizer import ORIENTATIONS

# The raster formats crnn_pl.core.decode reads, by their usual names (a folder or glob gives these).
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pbm", ".pgm", ".ppm", ".pnm"}


def expand(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """Files as given, and the image files inside a folder or matching a glob pattern (sorted; a
    folder inside either is not read); plus an error for each folder or pattern that holds no image."""
    paths: list[Path] = []
    errors: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = images_among(path.iterdir())
            if not found:
                errors.append(f"{item}: folder holds no image ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif any(c in item for c in "*?[") and not path.exists():
            found = images_among(Path(p) for p in glob.glob(item, recursive=True))
            if not found:
                errors.append(f"{item}: no image file matches this pattern")
        else:
            found = [path]
        paths += found
    return paths, errors


def images_among(paths) -> list[Path]:
    """The entries named like images that are not folders, sorted: what a folder or a glob gives."""
    return sorted(p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_dir())


# The model is `model_path` in every tool (crnn-eval model_path=, crnn-export model_path=).
RENAMED = {"--model": "--model-path", "--checkpoint": "--model-path", "--export-format": "--format"}


def renamed_dest(option: str) -> str:
    return "renamed_" + option.strip("-").replace("-", "_")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="crnn-predict", description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="+", help="image files, folders or glob patterns")
    parser.add_argument("--model-path", default="en", help="a shipped model's name (default: en) or a model file: "
                        ".onnx, .int8.onnx, .safetensors, .ckpt, .pt, .engine or a Paddle folder")
    parser.add_argument("--format", choices=sorted(FORMATS), help="default: from the model's name")
    for old in RENAMED:         # old spellings, only to name the new one
        parser.add_argument(old, help=argparse.SUPPRESS, dest=renamed_dest(old))
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--orientation", choices=ORIENTATIONS, default="auto",
                        help="auto (default): also read tall crops turned a quarter each way, and unsure reads "
                             "upside down, keeping the most confident; upright: read every crop as it is")
    parser.add_argument("--decoder", choices=DECODERS, default=None,
                        help="greedy: the model's best path; lexicon: weighed against a word list "
                             "(default: as the model card says)")
    parser.add_argument("--lexicon", help="the lexicon decoder's word list: a shipped one (en) or a file of "
                        "`word` or `word<TAB>count` lines (default en)")
    parser.add_argument("--hot-words", help="a file of words that win over the lexicon's: product, street or "
                        "brand names (`word` per line)")
    parser.add_argument("--lexicon-only", action="store_true",
                        help="read only lexicon and hot words (a closed list); a crop that fits none reads as nothing")
    parser.add_argument("--batch-size", type=number_in(1), default=64)
    parser.add_argument("--workers", type=number_in(0, 256), default=2,
                        help="threads decoding files while the model reads (0: none)")
    parser.add_argument("--max-pixels", type=number_in(1), default=MAX_PIXELS,
                        help=f"refuse an image with more pixels than this, before decoding it (default {MAX_PIXELS:,})")
    parser.add_argument("--min-confidence", type=number_in(0.0, 1.0, float), default=None,
                        help="mark reads below this confidence: a fourth column `low` (or `ok`); "
                             "in JSON lines, \"accepted\": false")
    parser.add_argument("--jsonl", action="store_true", help="JSON lines instead of tab-separated text")
    args = parser.parse_args(argv)
    for old, new in RENAMED.items():
        if getattr(args, renamed_dest(old)) is not None:
            parser.error(f"{old} is now {new}")
    return args


def format_read(path: str, text: str, confidence: float, min_confidence: float | None, jsonl: bool) -> str:
    accepted = None if min_confidence is None else confidence >= min_confidence
    if jsonl:
        row = {"path": printable(path), "text": text, "confidence": round(confidence, 4)}
        return json.dumps(row | ({} if accepted is None else {"accepted": accepted}), ensure_ascii=False)
    flag = "" if accepted is None else ("\tok" if accepted else "\tlow")
    return f"{tsv_field(path)}\t{tsv_field(text)}\t{confidence:.4f}{flag}"


# What would break a TSV row: backslash first, so an escaped name reads back unambiguously.
TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def tsv_field(text: str) -> str:
    return printable(text.translate(TSV_ESCAPES))


def printable(text: str) -> str:
    """A file name's bytes that are not UTF-8 (kept by Python as lone surrogates) as `\\xNN`."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    for stream in (sys.stdout, sys.stderr):     # a read no console encoding can show is escaped, never fatal
        stream.reconfigure(errors="backslashreplace")
    # A damaged file's decoder warnings ("Corrupt EXIF data"): the file is read or gets its error line.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    tally = {"read": 0, "unreadable": 0}
    try:
        return predict(args, tally)
    except KeyboardInterrupt:
        print(f"interrupted: read {tally['read']} images", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output has gone (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def predict(args: argparse.Namespace, tally: dict[str, int]) -> int:
    from crnn_pl.runtime.recognizer import Recognizer

    paths, errors = expand(args.images)
    for error in errors:
        print(f"error: {printable(error)}", file=sys.stderr)
    try:
        decoder = requested_decoder(args.decoder, args.lexicon, args.hot_words, args.lexicon_only)
        recognizer = Recognizer(args.model_path, args.format, args.device, args.orientation, args.max_pixels,
                                decoder)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    for read in recognizer.read_stream(paths, args.batch_size, args.workers):
        if read.error:
            tally["unreadable"] += 1
            print(f"error: {printable(read.error)}", file=sys.stderr)
        else:   # each line out at once: a pipeline sees reads as they come, Ctrl-C loses none
            print(format_read(str(read.source), read.text, read.confidence, args.min_confidence, args.jsonl),
                  flush=True)
            tally["read"] += 1
    elapsed = time.perf_counter() - started
    if not paths:
        print("error: no images found", file=sys.stderr)
        return 1
    print(f"read {tally['read']} of {len(paths)} images in {elapsed:.2f} s "
          f"({len(paths) / elapsed:.0f} images/s, batch {args.batch_size}, {args.workers} decoding threads)",
          file=sys.stderr)
    return 1 if tally["unreadable"] or errors else 0

if __name__ == "__main__":
    sys.exit(main())
