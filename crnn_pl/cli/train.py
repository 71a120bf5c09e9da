"""Training entry point: the only place that reads Hydra config and instantiates from it.

`python train.py dataset=synth loss=focal_ctc model=crnn trainer=gpu` or `crnn-train ...`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from crnn_pl.cli import run_folder
from crnn_pl.cli.errors import exit_on_user_errors
from crnn_pl.cli.sweep import METRICS_FILE
from crnn_pl.core.charset import Charset, build_charset
from crnn_pl.core.errors import UserError
from crnn_pl.export.callback import ExportCallback
from crnn_pl.model.weights import refusing_code

log = logging.getLogger(__name__)

# The configs ship inside the package (the repository's top-level conf/ links here), so an
# installed wheel finds them wherever it is run from.
CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "conf")
run_folder.register()   # before Hydra composes: conf/hydra/default.yaml resolves hydra.run.dir with it


def charset_from_config(cfg: DictConfig) -> Charset:
    node = cfg.charset
    return build_charset(name=node.get("name"), characters=node.get("characters"),
                         path=node.get("path"), case_sensitive=node.get("case_sensitive", True))


def loss_arguments(cfg: DictConfig) -> dict[str, Any]:
    node = cfg.loss
    arguments: dict[str, Any] = {"loss": node.name}
    if "alpha" in node:
        arguments["focal_alpha"] = node.alpha
    if "gamma" in node:
        arguments["focal_gamma"] = node.gamma
    return arguments


def build_module(cfg: DictConfig, charset: Charset) -> L.LightningModule:
    return hydra.utils.instantiate(
        cfg.model, charset=charset.characters, case_sensitive=charset.case_sensitive,
        **cfg.image, **loss_arguments(cfg), _convert_="all",
    )


def build_datamodule(cfg: DictConfig, charset: Charset, image: dict | None = None,
                     **overrides: Any) -> L.LightningDataModule:
    """The configured dataset for this charset and image spec (`image` defaults to cfg.image)."""
    return hydra.utils.instantiate(
        cfg.dataset, charset=charset.characters, case_sensitive=charset.case_sensitive,
        augment=cfg.get("augment"), seed=cfg.get("seed", 0), **(image or cfg.image), **overrides,
        _convert_="all",
    )


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    callbacks = instantiate_all(cfg.get("callbacks"))
    export = cfg.get("export")
    if export and export.enabled:
        callbacks.append(ExportCallback(formats=list(export.formats), output_dir=export.output_dir,
                                        images=export.images, device=export.device))
    return callbacks


def instantiate_all(node: DictConfig | None) -> list[Any]:
    """Every `_target_` entry of a callbacks/logger group, in order."""
    if not node:
        return []
    return [hydra.utils.instantiate(entry) for entry in node.values()
            if isinstance(entry, DictConfig) and "_target_" in entry]


@rank_zero_only
def save_resolved_config(cfg: DictConfig, output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Build everything from `cfg`, fit (and optionally test), return the final metrics."""
    refuse_ddp_inside_a_sweep(cfg)
    L.seed_everything(cfg.seed, workers=True)
    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    output_dir = Path(cfg.paths.output_dir)
    resolve_precision(cfg)
    save_resolved_config(cfg, output_dir)

    charset = charset_from_config(cfg)
    datamodule = build_datamodule(cfg, charset)
    module = build_module(cfg, charset)
    checkpoint = checkpoint_to_resume(cfg, output_dir)
    if cfg.get("pretrained"):
        if checkpoint:
            raise UserError("pretrained= starts a new run from a checkpoint's weights; ckpt_path=/resume= "
                             "continue a run with its optimiser, schedule and step: use one of them")
        rows = module.load_pretrained(cfg.pretrained)
        log.info("fine-tuning from %s: classifier rows copied %d, new %d%s", cfg.pretrained,
                 rows["copied_rows"], rows["new_rows"], "; grown into this wider network" if rows["grown"] else "")
    loggers = instantiate_all(cfg.get("logger"))
    callbacks = build_callbacks(cfg)
    if not loggers:     # logger=none: nothing to log learning rates to
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    trainer: L.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks,
                                                 logger=loggers or False)
    log.info("%s; charset %d characters (%s); torch threads: %d", module.describe(), len(charset),
             "case-sensitive" if charset.case_sensitive else "case-folded", torch.get_num_threads())

    with refusing_code(checkpoint):     # resume= reads a checkpoint as data only, like every model file
        trainer.fit(module, datamodule=datamodule, ckpt_path=checkpoint, weights_only=True)
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    if cfg.get("test_after_fit") and not cfg.trainer.get("fast_dev_run"):
        trainer.test(module, datamodule=datamodule, ckpt_path="best", weights_only=True)
        metrics.update({n: float(v) for n, v in trainer.callback_metrics.items()})

    best = trainer.checkpoint_callback
    if best is not None and best.best_model_score is not None:
        metrics["best/val_acc"] = float(best.best_model_score)
        metrics["best/checkpoint"] = best.best_model_path
    metrics["global_step"] = trainer.global_step
    report(metrics, output_dir)
    return metrics


def resolve_precision(cfg: DictConfig) -> None:
    """`trainer.precision=auto` (the CPU recipes): bf16 autocast where it is fast, float32 elsewhere.
    bf16 steps are 1.3-1.6x faster on a CPU with native bf16 (AVX512-BF16, AMX) but about 9x slower
    on one without, which emulates it (docs/decisions.md); a GPU recipe sets its own precision."""
    if cfg.trainer.get("precision") != "auto":
        return
    on_cpu = cfg.trainer.get("accelerator") == "cpu" or not torch.cuda.is_available()
    native = cpu_bf16_flags()
    chosen = "bf16-mixed" if not on_cpu or native else "32-true"
    cfg.trainer.precision = chosen
    if not on_cpu:
        reason = "a GPU"
    elif native:
        reason = f"this CPU computes bf16 natively: {', '.join(native)}"
    else:
        reason = "this CPU has no native bf16"
    log.info("trainer.precision=auto: %s (%s)", chosen, reason)


def cpu_bf16_flags() -> list[str]:
    """The CPU's native bf16 instruction sets (Linux; elsewhere none are assumed)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split("\nflags", 1)[1].split("\n", 1)[0].split()
    except (OSError, IndexError):
        return []
    return [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]


def checkpoint_to_resume(cfg: DictConfig, output_dir: Path) -> str | None:
    """`resume=<run folder>` or `ckpt_path=last` mean that folder's last.ckpt; a path means itself."""
    if cfg.get("resume"):
        path = Path(cfg.resume) / "checkpoints" / "last.ckpt"
    elif cfg.get("ckpt_path") == "last":
        path = output_dir / "checkpoints" / "last.ckpt"
    elif cfg.get("ckpt_path"):
        path = Path(cfg.ckpt_path)
    else:
        return None
    if not path.is_file():
        raise UserError(f"{path}: no checkpoint to resume from")
    log.info("resuming from %s", path)
    return str(path)


def refuse_ddp_inside_a_sweep(cfg: DictConfig) -> None:
    """Under -m, strategy=ddp re-launches this script per rank and each re-runs the whole sweep."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return
    strategy, devices = str(cfg.trainer.get("strategy", "auto")), cfg.trainer.get("devices", 1)
    if strategy.startswith("ddp") and not strategy.startswith("ddp_spawn") and devices not in (1, "1"):
        raise UserError("trainer.strategy=ddp cannot run inside a sweep (-m): each rank would re-run the "
                         "whole sweep. Use trainer.strategy=ddp_spawn in sweeps, or launch each run alone.")


@rank_zero_only
def report(metrics: dict[str, Any], output_dir: Path) -> None:
    shown = {k: v for k, v in metrics.items() if k.startswith(("val/", "test/", "best/"))}
    for name in sorted(shown):
        value = shown[name]
        log.info("%-16s %s", name, f"{value:.4f}" if isinstance(value, float) else value)
    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    record = {"overrides": overrides, "metrics": metrics}
    (output_dir / METRICS_FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")
    log.info("outputs in %s", output_dir)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> float | None:
    """Returns the best val/acc, the value Hydra sweepers optimise."""
    with exit_on_user_errors():
        metrics = train(cfg)
    return metrics.get("best/val_acc", metrics.get("val/acc"))


if __name__ == "__main__":
    main()
