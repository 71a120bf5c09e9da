"""`crnn-predict` / `python -m crnn_pl.predict`: read word images with any backend.

    crnn-predict word_1.png crops/ 'more/*.jpg' --model exports/model.onnx
    crnn-predict crops/ --model run/checkpoints/last.ckpt --export-format ckpt --jsonl

Prints `path<TAB>text<TAB>confidence` per image (or JSON lines). An unreadable file gets an
error line on stderr naming it; the others are still read, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import torch

from crnn_pl.data.preprocess import preprocess
from crnn_pl.export import BACKENDS, ExportError
from crnn_pl.recognizer import Recognizer

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def expand(inputs: list[str]) -> list[Path]:
    """Files as given, every image inside a folder (sorted), and glob patterns."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(c in item for c in "*?[") and not path.exists():
            paths += [Path(p) for p in sorted(glob.glob(item, recursive=True))]
        else:
            paths.append(path)
    return paths


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crnn-predict", description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="+", help="image files, folders or glob patterns")
    parser.add_argument("--model", required=True, type=Path, help="a .ckpt, .pt, .onnx, .engine or Paddle folder")
    parser.add_argument("--export-format", choices=sorted(BACKENDS), help="default: from the model's name")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--jsonl", action="store_true", help="JSON lines instead of tab-separated text")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    try:
        recognizer = Recognizer(args.model, args.export_format, args.device)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failures = 0
    paths = expand(args.images)
    for start in range(0, len(paths), args.batch_size):
        readable, tensors = [], []
        for path in paths[start:start + args.batch_size]:
            try:
                tensors.append(preprocess(path, recognizer.spec))
                readable.append(path)
            except (ValueError, OSError) as error:
                failures += 1
                print(f"error: {error}", file=sys.stderr)
        if not tensors:
            continue
        for path, (text, confidence) in zip(readable, recognizer.read_tensors(torch.stack(tensors)), strict=True):
            if args.jsonl:
                print(json.dumps({"path": str(path), "text": text, "confidence": round(confidence, 4)},
                                 ensure_ascii=False))
            else:
                print(f"{path}\t{text}\t{confidence:.4f}")
    if not paths:
        print("error: no images found", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
