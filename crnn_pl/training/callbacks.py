"""Training progress a user can see wherever stdout goes.

On a terminal, Lightning's Rich bar. Under `nohup`, SLURM, CI or `| tee` the Rich bar prints
nothing until the end, so a 15-minute run would look dead: there, `LogProgress` logs one line
every N steps (epoch, step/total, images/s, loss, ETA) and each validation result, through
`logging`, so the lines also land in the run's train.log.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar

log = logging.getLogger(__name__)


def progress_bar(every_n_steps: int = 100) -> ProgressBar:
    """The Rich bar when stdout is a terminal, else a log line every `every_n_steps` steps."""
    if sys.stdout.isatty():
        return RichProgressBar()
    return LogProgress(every_n_steps)


class LogProgress(ProgressBar):
    """Plain log lines instead of a bar: every N optimizer steps, and after each validation."""

    def __init__(self, every_n_steps: int = 100) -> None:
        super().__init__()
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be at least 1, not {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.enabled = True
        self._window_start = 0.0    # time and step of the last line: the rate is the recent one
        self._window_step = 0
        self._window_images = 0
        self._total = 0                 # optimizer steps of this fit, known once training starts

    def disable(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._total = int(trainer.estimated_stepping_batches)
        self._restart_window(trainer)
        if self.enabled and trainer.is_global_zero:
            epochs = epoch_count(trainer)
            log.info("training: %d steps (%s), progress every %d steps", self._total,
                     f"{epochs} epochs" if epochs else "max_steps", self.every_n_steps)

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs: Any,
                           batch: Any, batch_index: int) -> None:
        self._window_images += batch_size(batch)
        step = trainer.global_step
        if not self.enabled or not trainer.is_global_zero or step == self._window_step or step % self.every_n_steps:
            return
        elapsed = max(time.perf_counter() - self._window_start, 1e-9)
        steps_per_second = (step - self._window_step) / elapsed
        total = self._total
        remaining = max(total - step, 0) / steps_per_second if steps_per_second > 0 else float("nan")
        loss = self.get_metrics(trainer, module).get("train/loss")
        log.info("epoch %d/%s  step %d/%d (%.0f%%)  %.0f images/s  loss %s  ETA %s",
                 trainer.current_epoch + 1, epoch_count(trainer) or "-", step, total, 100 * step / max(total, 1),
                 self._window_images / elapsed, f"{loss:.4f}" if isinstance(loss, float) else "-", clock(remaining))
        self._restart_window(trainer)

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not self.enabled or not trainer.is_global_zero or trainer.sanity_checking:
            return
        shown = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        log.info("validation after step %d: %s", trainer.global_step,
                 "  ".join(f"{name} {value:.4f}" for name, value in sorted(shown.items())))
        self._restart_window(trainer)    # validation time is not training speed

    def _restart_window(self, trainer: L.Trainer) -> None:
        self._window_start, self._window_step, self._window_images = time.perf_counter(), trainer.global_step, 0



def epoch_count(trainer: L.Trainer) -> int | None:
    """max_epochs when the run is bounded by epochs, else None (max_steps decides)."""
    return trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None


def batch_size(batch: Any) -> int:
    """Images in a batch: our WordBatch (`.images`), or the first tensor of a tuple."""
    images = getattr(batch, "images", None)
    if images is None and isinstance(batch, (list, tuple)) and batch:
        images = batch[0]
    return int(images.shape[0]) if hasattr(images, "shape") else 0


def clock(seconds: float) -> str:
    if seconds != seconds:      # NaN: no rate yet
        return "-"
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
