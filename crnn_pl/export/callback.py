"""ExportCallback: after `fit`, rank 0 exports the best checkpoint to every configured format."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L

from crnn_pl.core.card import ModelCard
from crnn_pl.export.exporter import export_checkpoint, verification_images

log = logging.getLogger(__name__)


class ExportCallback(L.Callback):
    def __init__(self, formats: list[str], output_dir: str, images: str | None = None,
                 device: str = "cpu") -> None:
        self.formats, self.output_dir, self.images, self.device = list(formats), Path(output_dir), images, device

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.is_global_zero or not self.formats:
            return
        checkpoint = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if not checkpoint:
            log.info("export skipped: no best checkpoint (fast_dev_run, or no validation ran)")
            return
        card = ModelCard.from_hparams(dict(module.hparams))
        images = verification_images(self.images, self.output_dir / "verify_images", card)
        log.info("exporting %s to %s", checkpoint, self.output_dir)
        export_checkpoint(Path(checkpoint), self.output_dir, self.formats, images, self.device)
