"""`crnn-export` / `make export`: a model -> every chosen format, each verified against PyTorch.

    crnn-export                                           newest run's best checkpoint, all formats
    crnn-export model_path=path/to.ckpt 'export.formats=[onnx,paddle]'
    crnn-export model_path=en                                  the shipped pretrained model -> outputs/export/en
"""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from crnn_pl.cli.errors import exit_on_user_errors, refuse_renamed
from crnn_pl.cli.train import CONFIG_DIR
from crnn_pl.core.card import ModelCard
from crnn_pl.export.base import ExportError
from crnn_pl.export.exporter import export_checkpoint, verification_images
from crnn_pl.model.weights import read_weights
from crnn_pl.pretrained import SHIPPED, resolve_model


def best_checkpoint(run: Path) -> Path | None:
    """A run folder's best checkpoint (the newest epoch*.ckpt), else its last.ckpt, else None."""
    best = sorted((run / "checkpoints").glob("epoch*.ckpt"), key=lambda p: p.stat().st_mtime)
    last = run / "checkpoints" / "last.ckpt"
    return best[-1] if best else last if last.is_file() else None


def newest_best_checkpoint(runs: Path) -> Path:
    """The best checkpoint (else last.ckpt) of the newest run folder holding one."""
    for run in sorted((p for p in runs.glob("*") if p.is_dir()), reverse=True):
        if (checkpoint := best_checkpoint(run)) is not None:
            return checkpoint
    raise ExportError(f"no checkpoint under {runs}; train first (make train) or pass model_path=<file>")


def run_export(cfg: DictConfig) -> dict:
    refuse_renamed(cfg, {"checkpoint": "model_path"})
    root = Path(cfg.paths.root_dir)
    runs = root / "outputs/train/runs"
    source = resolve_model(cfg.model_path, weights=True) if cfg.model_path else newest_best_checkpoint(runs)
    if not source.is_file():
        raise ExportError(f"{source}: no such model file")
    # A shipped model's exports go to outputs/, never into the installed package.
    shipped = str(cfg.model_path) in SHIPPED
    default_dir = root / "outputs/export" / str(cfg.model_path) if shipped else source.parent.parent / "export"
    out_dir = Path(cfg.export.output_dir) if cfg.export.output_dir else default_dir
    card = ModelCard.from_hparams(read_weights(source)[1])
    images = verification_images(cfg.export.images, out_dir / "verify_images", card)
    print(f"exporting {source} -> {out_dir}")
    return export_checkpoint(source, out_dir, list(cfg.export.formats), images, cfg.export.device)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="export_checkpoint")
def main(cfg: DictConfig) -> None:
    with exit_on_user_errors():
        run_export(cfg)


if __name__ == "__main__":
    main()
