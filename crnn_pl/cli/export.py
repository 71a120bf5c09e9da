"""`crnn-export` / `make export`: a checkpoint -> every chosen format, each verified against PyTorch.

    crnn-export                                           newest run's best checkpoint, all formats
    crnn-export checkpoint=path/to.ckpt 'export.formats=[onnx,paddle]'
    crnn-export checkpoint=en                             the shipped pretrained model -> outputs/export/en
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from crnn_pl.cli.train import CONFIG_DIR
from crnn_pl.export.base import ExportError
from crnn_pl.export.checkpoint_backend import CheckpointBackend
from crnn_pl.export.exporter import export_checkpoint, verification_images
from crnn_pl.pretrained import SHIPPED, resolve_model


def newest_best_checkpoint(runs: Path) -> Path:
    """The best checkpoint (else last.ckpt) of the newest run folder holding one."""
    for run in sorted((p for p in runs.glob("*") if p.is_dir()), reverse=True):
        best = sorted((run / "checkpoints").glob("epoch*.ckpt"), key=lambda p: p.stat().st_mtime)
        last = run / "checkpoints" / "last.ckpt"
        if best or last.is_file():
            return best[-1] if best else last
    raise ExportError(f"no checkpoint under {runs}; train first (make train) or pass checkpoint=<file>")


def run_export(cfg: DictConfig) -> dict:
    root = Path(cfg.paths.root_dir)
    runs = root / "outputs/train/runs"
    checkpoint = resolve_model(cfg.checkpoint) if cfg.checkpoint else newest_best_checkpoint(runs)
    if not checkpoint.is_file():
        raise ExportError(f"{checkpoint}: no such checkpoint")
    # A shipped model's exports go to outputs/, never into the installed package.
    shipped = str(cfg.checkpoint) in SHIPPED
    default_dir = root / "outputs/export" / str(cfg.checkpoint) if shipped else checkpoint.parent.parent / "export"
    out_dir = Path(cfg.export.output_dir) if cfg.export.output_dir else default_dir
    card = CheckpointBackend().read_card(checkpoint)
    images = verification_images(cfg.export.images, out_dir / "verify_images", card)
    print(f"exporting {checkpoint} -> {out_dir}")
    return export_checkpoint(checkpoint, out_dir, list(cfg.export.formats), images, cfg.export.device)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="export_checkpoint")
def main(cfg: DictConfig) -> None:
    try:
        run_export(cfg)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
