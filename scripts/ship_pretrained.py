"""Ship a trained model in the package, in files that cannot run code.

    python scripts/ship_pretrained.py outputs/pretrain_en/runs/<run>/checkpoints/<best>.ckpt --name en

Writes crnn_pl/pretrained/<name>.safetensors (fp32 weights and hyper-parameters: what fine-tuning,
`crnn-export model=<name>` and `CRNNModule.from_pretrained` load) and <name>.onnx (what reading uses,
verified against PyTorch like every export, with the model card in its metadata). The checkpoint is
read with weights_only=True. `--decoder lexicon --lexicon en` writes into the card the decoder the
model reads with by default (what the checkpoint's `model.decoder` says otherwise). The model card
crnn_pl/pretrained/<name>.md is written by hand from measured figures.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from crnn_pl.core.card import ModelCard
from crnn_pl.core.ctc import DECODERS, requested_decoder
from crnn_pl.export.exporter import export_checkpoint, verification_images
from crnn_pl.model.weights import read_weights, write_safetensors
from crnn_pl.pretrained import PRETRAINED_DIR, SHIPPED, shipped_model
from crnn_pl.runtime.recognizer import Recognizer

SIZE_LIMIT_MB = 10.0        # per file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a training checkpoint or a .safetensors file")
    parser.add_argument("--name", default="en", choices=SHIPPED)
    parser.add_argument("--decoder", choices=DECODERS, help="the card's default decoder (default: the checkpoint's)")
    parser.add_argument("--lexicon", help="the lexicon decoder's shipped word list (default: en)")
    args = parser.parse_args()
    weights, hparams = read_weights(args.checkpoint)
    settings = requested_decoder(args.decoder, args.lexicon)
    if settings is not None:
        hparams["decoder"] = None if settings.name == "greedy" else asdict(settings)
    weights = {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "model.safetensors"
        write_safetensors(source, weights, hparams)
        card = ModelCard.from_hparams(hparams)
        images = verification_images(None, Path(scratch) / "verify", card)
        export_checkpoint(source, Path(scratch) / "export", ["onnx"], images)
        shipped = {".safetensors": source, ".onnx": Path(scratch) / "export" / "model.onnx"}
        for suffix, path in shipped.items():
            size_mb = path.stat().st_size / 2**20
            if size_mb > SIZE_LIMIT_MB:
                raise SystemExit(f"error: {path.name} would be {size_mb:.1f} MB, over the {SIZE_LIMIT_MB} MB budget")
            shutil.copyfile(path, PRETRAINED_DIR / f"{args.name}{suffix}")
            print(f"{PRETRAINED_DIR / f'{args.name}{suffix}'}: {size_mb:.2f} MB")
    Recognizer(args.name)                       # reads by name
    shipped_model(args.name, weights=True)


if __name__ == "__main__":
    main()
