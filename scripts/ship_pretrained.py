"""Strip a training checkpoint to what reading and fine-tuning need, and ship it in the package.

    python scripts/ship_pretrained.py outputs/pretrain_en/runs/<run>/checkpoints/<best>.ckpt --name en

Keeps `state_dict` (fp32) and `hyper_parameters` (charset, image spec, network), drops the
optimiser, scheduler, loops and callbacks (a third of the size), and writes
crnn_pl/pretrained/<name>.ckpt, which Lightning, `pretrained=`, and every backend load as any
checkpoint. The model card crnn_pl/pretrained/<name>.md is written by hand from measured figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from crnn_pl.module import CRNNModule
from crnn_pl.pretrained import PRETRAINED_DIR, SHIPPED

SIZE_LIMIT_MB = 10.0


def strip(checkpoint: Path) -> dict:
    full = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return {
        "state_dict": {k: v.float() if v.is_floating_point() else v for k, v in full["state_dict"].items()},
        "hyper_parameters": full["hyper_parameters"],
        "pytorch-lightning_version": full["pytorch-lightning_version"],
        "global_step": full.get("global_step"),
        "epoch": full.get("epoch"),
        "trained_from": checkpoint.name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--name", default="en", choices=sorted(SHIPPED))
    args = parser.parse_args()
    target = PRETRAINED_DIR / SHIPPED[args.name]
    torch.save(strip(args.checkpoint), target)
    size_mb = target.stat().st_size / 2**20
    if size_mb > SIZE_LIMIT_MB:
        target.unlink()
        raise SystemExit(f"error: {target} would be {size_mb:.1f} MB, over the {SIZE_LIMIT_MB} MB budget")
    CRNNModule.from_pretrained(args.name)       # it loads as a checkpoint, by name
    print(f"{target}: {size_mb:.2f} MB, step {torch.load(target, weights_only=False)['global_step']}")


if __name__ == "__main__":
    main()
