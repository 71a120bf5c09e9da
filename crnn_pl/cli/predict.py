"""`crnn-predict` / `python -m crnn_pl.predict`: read word images with any backend.

    crnn-predict word_1.png                       the pretrained English model shipped in the package
    crnn-predict word_1.png crops/ 'more/*.jpg' --model-path exports/model.onnx
    crnn-predict crops/ --model-path run/checkpoints/last.ckpt --jsonl

Prints `path<TAB>text<TAB>confidence` per image (or JSON lines), and images/s on stderr at the
end. A blank crop reads as an empty text with confidence 0. An unreadable file, or a folder or
glob holding no image, gets an error line on stderr naming it; the others are still read, and
the exit status is 1. With an ONNX or Paddle model nothing here imports torch: the base install
(`pip install crnn_pl`) reads.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

from crnn_pl.core.errors import UserError
from crnn_pl.runtime.formats import FORMATS  # light: each engine imports its runtime when used
from crnn_pl.runtime.recognizer import ORIENTATIONS

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def expand(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """Files as given, every image inside a folder (sorted), and glob patterns; plus an error for
    each folder or pattern that holds no image."""
    paths: list[Path] = []
    errors: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                errors.append(f"{item}: folder holds no image ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif any(c in item for c in "*?[") and not path.exists():
            found = [Path(p) for p in sorted(glob.glob(item, recursive=True))]
            if not found:
                errors.append(f"{item}: no file matches this pattern")
        else:
            found = [path]
        paths += found
    return paths, errors


# The model is `model_path` in every tool (crnn-eval model_path=, crnn-export model_path=).
RENAMED = {"--model": "--model-path", "--checkpoint": "--model-path", "--export-format": "--format"}


def renamed_dest(option: str) -> str:
    return "renamed_" + option.strip("-").replace("-", "_")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crnn-predict", description=__doc__.split("\n")[0])
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
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="threads decoding files while the model reads (0: none)")
    parser.add_argument("--min-confidence", type=float, default=None,
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
        row = {"path": path, "text": text, "confidence": round(confidence, 4)}
        return json.dumps(row | ({} if accepted is None else {"accepted": accepted}), ensure_ascii=False)
    flag = "" if accepted is None else ("\tok" if accepted else "\tlow")
    return f"{path}\t{text}\t{confidence:.4f}{flag}"


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    from crnn_pl.runtime.recognizer import Recognizer

    paths, errors = expand(args.images)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    try:
        recognizer = Recognizer(args.model_path, args.format, args.device, args.orientation)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started, unreadable = time.perf_counter(), 0
    for read in recognizer.read_stream(paths, args.batch_size, args.workers):
        if read.error:
            unreadable += 1
            print(f"error: {read.error}", file=sys.stderr)
        else:
            print(format_read(str(read.source), read.text, read.confidence, args.min_confidence, args.jsonl))
    elapsed = time.perf_counter() - started
    if not paths:
        print("error: no images found", file=sys.stderr)
        return 1
    print(f"read {len(paths) - unreadable} of {len(paths)} images in {elapsed:.2f} s "
          f"({len(paths) / elapsed:.0f} images/s, batch {args.batch_size}, {args.workers} decoding threads)",
          file=sys.stderr)
    return 1 if unreadable or errors else 0


if __name__ == "__main__":
    sys.exit(main())
