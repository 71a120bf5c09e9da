"""Console scripts that need the train extra: in the base install (reading only) they say what to
install instead of failing on an import."""

from __future__ import annotations

import importlib
import sys

TRAINING_STACK = ("torch", "lightning", "hydra", "omegaconf", "torchmetrics", "albumentations", "safetensors")


def run(tool: str, module: str):
    try:
        entry = importlib.import_module(f"crnn_pl.cli.{module}").main
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in TRAINING_STACK:
            raise
        print(f"error: {tool} needs the training extra (missing: {error.name}): "
              f"pip install torch==2.13.0 && pip install 'crnn_pl[train,export]'", file=sys.stderr)
        sys.exit(1)
    return entry()


def train():
    return run("crnn-train", "train")


def evaluate():
    return run("crnn-eval", "eval")


def export():
    return run("crnn-export", "export")


def make_lmdb():
    return run("crnn-make-lmdb", "make_lmdb")


def make_synth():
    return run("crnn-make-synth", "make_synth")
