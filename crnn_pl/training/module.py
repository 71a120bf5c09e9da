"""CRNNModule: the LightningModule that trains, validates and reads with a CRNN.

Built from plain values and saved with `save_hyperparameters()`, so
`CRNNModule.load_from_checkpoint(path)` needs no Hydra and no config files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch

from crnn_pl.core.card import ModelCard
from crnn_pl.core.charset import Charset
from crnn_pl.core.decode import ImageInput
from crnn_pl.core.errors import ConfigError
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.model.crnn import CRNN, PAPER_CHANNELS, count_mflops, count_parameters
from crnn_pl.model.grow import grow_state
from crnn_pl.model.weights import check_weights_fit, read_weights, refusing_code
from crnn_pl.pretrained import resolve_model
from crnn_pl.runtime.engines.torch_module import module_runner
from crnn_pl.runtime.recognizer import Recognizer
from crnn_pl.training.losses import build_loss
from crnn_pl.training.metrics import WordMetrics

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """Training keeps producing NaN/inf losses: stop rather than train on garbage."""


class CRNNModule(L.LightningModule):
    def __init__(
        self,
        charset: str = "0123456789abcdefghijklmnopqrstuvwxyz",
        case_sensitive: bool = False,
        conv_channels: Sequence[int] = PAPER_CHANNELS,
        hidden_size: int = 256,
        num_lstm_layers: int = 2,
        dropout: float = 0.0,
        height: int = 32,
        width: int = 100,
        channels: int = 1,
        mean: float = 0.5,
        std: float = 0.5,
        read_max_width: int | None = None,
        decoder: dict | None = None,
        loss: str = "ctc",
        focal_alpha: float = 0.5,
        focal_gamma: float = 2.0,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: str = "onecycle",
        warmup_fraction: float = 0.1,
        channels_last: bool = True,
        max_nonfinite_in_a_row: int = 25,
    ) -> None:
        super().__init__()
        # read_max_width and decoder are reading settings, carried into the model card; training never uses them
        decoder = dict(decoder) if decoder is not None else None     # a plain mapping in every checkpoint
        self.save_hyperparameters()
        ModelCard.from_hparams(dict(self.hparams), "model")   # a card this model cannot ship fails now, not at export
        self.charset = Charset(charset, case_sensitive)
        self.image_spec = ImageSpec(height=height, width=width, channels=channels, mean=mean, std=std,
                                    read_max_width=read_max_width)
        self.model = CRNN(
            num_classes=self.charset.num_classes, in_channels=channels,
            conv_channels=list(conv_channels), hidden_size=hidden_size,
            num_lstm_layers=num_lstm_layers, dropout=dropout, input_height=height,
        )
        self.loss_fn = build_loss(loss, alpha=focal_alpha, gamma=focal_gamma)
        self.val_metrics = WordMetrics()
        self.test_metrics = WordMetrics()
        self.nonfinite_total = 0
        self.nonfinite_in_a_row = 0

    def setup(self, stage: str) -> None:
        if self.hparams.get("channels_last", False):
            # NHWC convolutions: faster bf16 training steps on CPU (docs/decisions.md); values and
            # checkpoints are the same either way.
            self.model.to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def describe(self) -> str:
        """Parameters and MFLOPs of one image at the input size: the figures the README quotes."""
        params = count_parameters(self.model)
        spec = self.image_spec
        mflops = count_mflops(self.model, width=spec.width)
        return f"CRNN: {params / 1e6:.2f}M parameters, {mflops:.0f} MFLOPs per {spec.height}x{spec.width} image"

    def compute_loss(self, images: torch.Tensor, labels: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self(images)
        targets, target_lengths = self.charset.encode_batch(labels)
        input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
        loss = self.loss_fn(logits, targets.to(logits.device), input_lengths.to(logits.device),
                            target_lengths.to(logits.device))
        return loss, logits

    def training_step(self, batch: Sequence, batch_index: int) -> torch.Tensor | None:
        images, labels = batch[0], batch[1]
        self.log_dropped(batch, "train")
        loss = self.compute_loss(images, labels)[0] if labels else None   # no labels: all undecodable
        if not self.step_everywhere(loss):
            return None     # skipped on every rank alike, so DDP stays in step
        self.log("train/loss", loss, prog_bar=True, batch_size=len(labels))
        return loss

    def step_everywhere(self, loss: torch.Tensor | None) -> bool:
        """Whether every rank has a finite loss to step on. Counts steps skipped for NaN/inf
        (train/nonfinite_losses) and stops a run that keeps making them; the decision is shared
        by all ranks, since a rank that skipped alone would leave the others waiting forever."""
        empty = loss is None
        nonfinite = not empty and not bool(torch.isfinite(loss.detach()))
        if self.trainer.world_size > 1:
            flags = self.all_gather(torch.tensor([empty, nonfinite], device=self.device)).any(dim=0)
            empty, nonfinite = bool(flags[0]), bool(flags[1])
        if not nonfinite:
            self.nonfinite_in_a_row = 0
            return not empty
        self.nonfinite_total += 1
        self.nonfinite_in_a_row += 1
        self.log("train/nonfinite_losses", float(self.nonfinite_total), reduce_fx="max")
        limit = self.hparams.get("max_nonfinite_in_a_row", 25)
        if self.nonfinite_in_a_row >= limit:
            raise NonFiniteLossError(
                f"{self.nonfinite_in_a_row} training batches in a row gave a non-finite loss (step "
                f"{self.global_step}, {self.nonfinite_total} in all): the weights have diverged. Lower "
                "model.lr, keep trainer.gradient_clip_val on, or check the data; resume from an earlier "
                "checkpoint rather than this state.")
        log.warning("non-finite loss at step %d: batch skipped (%d so far)", self.global_step, self.nonfinite_total)
        return False

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: str | Path, map_location=None, **kwargs) -> CRNNModule:
        """A checkpoint written by training, or a .safetensors file, read as data only: a file
        holding Python objects is refused (UnsafeModelError) before anything in it runs, and one
        whose hyper-parameters do not describe its weights (ModelFileError) before a network is built."""
        path = Path(checkpoint_path)
        weights, hparams = read_weights(path)
        check_weights_fit(weights, hparams, path)
        if path.suffix == ".safetensors":
            module = cls(**hparams)
            module.model.load_state_dict(weights)
            return module.to(map_location) if map_location else module
        with refusing_code(path):
            return super().load_from_checkpoint(path, map_location=map_location, weights_only=True, **kwargs)

    @classmethod
    def from_pretrained(cls, name: str | Path = "en", map_location: str = "cpu") -> CRNNModule:
        """A model shipped in the package (`"en"`, see crnn_pl/pretrained) or any checkpoint or
        safetensors path, in eval mode, ready to `read`."""
        return cls.load_from_checkpoint(resolve_model(name, weights=True), map_location=map_location).eval()

    def load_pretrained(self, checkpoint_path: str) -> dict[str, int]:
        """Start from another model's weights (fine-tuning, not resuming: no optimiser, schedule or
        step is taken), from a checkpoint, a .safetensors file or a shipped model's name. The
        charsets may differ: classifier rows of characters both share (and the blank) are copied,
        rows of new characters keep their fresh init. This network may be wider (more channels or
        hidden units): the source then grows into it, reading as it did (crnn_pl/model/grow.py)."""
        weights, hparams = read_weights(resolve_model(checkpoint_path, weights=True))
        source = Charset(hparams["charset"], hparams.get("case_sensitive", True))
        own = self.model.state_dict()
        wider = set(own) == set(weights) and any(
            own[k].shape[1:] != v.shape[1:] if k.startswith("classifier.") else own[k].shape != v.shape
            for k, v in weights.items())
        if wider:
            try:
                weights = grow_state(weights, own)
            except ConfigError as error:
                raise ConfigError(f"{checkpoint_path}: {error}; pretrained= needs the same network, or a wider "
                                  "one (more channels or hidden units), with any charset") from None
        elif set(own) != set(weights):
            raise ConfigError(f"{checkpoint_path}: a different network (other layers); "
                              "pretrained= needs the same model config except the charset, or a wider one")
        rows = [(0, 0)] + [(i + 1, source.characters.index(c) + 1)
                           for i, c in enumerate(self.charset.characters) if c in source.characters]
        for name in ("classifier.weight", "classifier.bias"):
            target = own[name].clone()
            for new_row, old_row in rows:
                target[new_row] = weights[name][old_row]
            weights[name] = target
        self.model.load_state_dict(weights)
        return {"copied_rows": len(rows), "new_rows": self.charset.num_classes - len(rows), "grown": wider}

    def log_dropped(self, batch: Sequence, stage: str) -> None:
        """Samples the loaders dropped (undecodable images), summed over the epoch."""
        if len(batch) > 2:
            self.log(f"{stage}/dropped_samples", float(batch[2]), reduce_fx="sum",
                     on_step=False, on_epoch=True, batch_size=1)

    def _evaluate(self, batch: Sequence, stage: str, metrics: WordMetrics) -> None:
        images, labels = batch[0], batch[1]
        self.log_dropped(batch, stage)
        if not labels:
            return
        loss, logits = self.compute_loss(images, labels)
        # greedy, whatever decoder the card names for reading: the network's own figure picks checkpoints
        predictions = [text for text, _ in self.charset.decode_greedy(logits)]
        metrics.update(predictions, labels)
        size = len(labels)
        self.log(f"{stage}/loss", loss, batch_size=size, sync_dist=True)
        self.log(f"{stage}/acc", metrics.acc, batch_size=size, prog_bar=True)
        self.log(f"{stage}/acc36", metrics.acc36, batch_size=size)
        self.log(f"{stage}/cer", metrics.cer, batch_size=size)
        self.log(f"{stage}/ned", metrics.ned, batch_size=size)

    def validation_step(self, batch: Sequence, batch_index: int) -> None:
        self._evaluate(batch, "val", self.val_metrics)

    def test_step(self, batch: Sequence, batch_index: int) -> None:
        self._evaluate(batch, "test", self.test_metrics)

    def predict_step(self, batch: torch.Tensor | tuple, batch_index: int) -> list[tuple[str, float]]:
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        return self.charset.decode_greedy(self(images))

    def configure_optimizers(self):
        hp = self.hparams
        optimizer = torch.optim.AdamW(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        if hp.scheduler == "none":
            return optimizer
        total_steps = self.total_training_steps()
        if hp.scheduler == "onecycle":
            # OneCycleLR divides by (warm-up steps - 1) and by the annealing steps: it needs at least
            # two of each. A run shorter than 4 steps (a smoke test) just stops before the end.
            total_steps = max(total_steps, 4)
            warmup = min(0.5, max(hp.warmup_fraction, 2.5 / total_steps))
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=hp.lr, total_steps=total_steps, pct_start=warmup)
        elif hp.scheduler == "cosine":
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
        else:
            raise ConfigError(f"unknown scheduler {hp.scheduler!r}; choose onecycle, cosine or none")
        self.schedule_steps = total_steps       # what a resumed run's restored scheduler must match
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_train_start(self) -> None:
        """A resumed run gets back the LR schedule of its checkpoint, sized for the steps that run
        was started with: with other epochs or dataset sizes it would end early or step past its
        end. Say so, rather than fail deep inside the scheduler."""
        planned = getattr(self, "schedule_steps", None)
        for config in self.trainer.lr_scheduler_configs:
            restored = getattr(config.scheduler, "total_steps", getattr(config.scheduler, "T_max", None))
            if planned is not None and restored is not None and restored != planned:
                raise ConfigError(
                    f"the checkpoint's LR schedule spans {restored} steps, this config {planned}: resume= (and "
                    "ckpt_path=) continue a run with the overrides it was started with. To train longer, start a "
                    "new run from its weights: pretrained=<checkpoint>")

    def total_training_steps(self) -> int:
        """Optimizer steps of this fit, for the LR schedule. Asked of the DataModule when it can
        say (`steps_per_epoch`): Lightning's `estimated_stepping_batches` builds the train loader
        before a resumed run has restored its epoch and batch, so it would start the epoch over."""
        trainer = self.trainer
        per_epoch = getattr(trainer.datamodule, "steps_per_epoch", None)
        if per_epoch is None:
            return max(1, int(trainer.estimated_stepping_batches))
        batches, limit = per_epoch(trainer.world_size), trainer.limit_train_batches
        batches = min(batches, limit) if isinstance(limit, int) else int(batches * limit)
        epochs = trainer.max_epochs
        total = float("inf") if epochs in (None, -1) else batches // trainer.accumulate_grad_batches * epochs
        if trainer.max_steps > 0:
            total = min(total, trainer.max_steps)
        return max(1, int(total))

    def recognizer(self, orientation: str = "auto") -> Recognizer:
        """The one read path (crnn_pl.runtime.recognizer) over this module's network, as it is now."""
        card = ModelCard.from_hparams(dict(self.hparams))
        return Recognizer.from_runner(module_runner(self.model), card, f"<{type(self).__name__}>", orientation)

    @torch.no_grad()
    def read(self, images: ImageInput | Sequence[ImageInput], batch_size: int = 64,
             orientation: str = "auto") -> list[tuple[str, float]]:
        """Recognise word images (paths, PIL images or arrays): a (text, confidence) per image,
        exactly as crnn-predict reads them (`orientation`: crnn_pl.runtime.recognizer)."""
        if not isinstance(images, (list, tuple)):
            images = [images]
        was_training = self.training
        self.eval()
        try:
            return self.recognizer(orientation).read(images, batch_size)
        finally:
            self.train(was_training)
