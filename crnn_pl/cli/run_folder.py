"""Where a training run writes: a new dated folder under outputs/, or the folder `resume=` names.

Registered as the OmegaConf resolver `run_folder` before Hydra composes the config (the
entry points import this module), and used by conf/hydra/default.yaml for `hydra.run.dir`.
Hydra creates the run folder before any of our code runs, so a bad `resume=` must be caught
here, while the folder name is being resolved, or Hydra would write into the repository root.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

RESOLVER = "run_folder"


class RunFolderError(SystemExit):
    """Exits with `error: <message>` on stderr, status 1. A SystemExit, not a ValueError: OmegaConf
    and Hydra would bury an ordinary exception from a resolver under a page of traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(f"error: {message}")


def run_folder(new_folder: str, *, _root_: DictConfig) -> str:
    """`resume=<run>` when given (checked), else `new_folder` (outputs/<task>/runs/<date>_<time>)."""
    resume = OmegaConf.select(_root_, "resume", default=None)
    if resume is None:
        return new_folder
    if not str(resume).strip():
        raise RunFolderError("resume= is empty: give the run folder to continue, "
                             "e.g. resume=outputs/train/runs/2026-11-25_14-03-11")
    folder = Path(str(resume))
    if not folder.is_dir():
        raise RunFolderError(f"resume={resume}: no such run folder")
    if not (folder / "checkpoints" / "last.ckpt").is_file():
        raise RunFolderError(f"resume={resume}: the folder holds no checkpoints/last.ckpt to continue from "
                             "(it was stopped before its first checkpoint: start a new run instead)")
    return str(folder)


def register() -> None:
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, run_folder)
