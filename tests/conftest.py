"""Shared fixtures: real rendered word images on disk and a model trained on them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import ConcatDataset, DataLoader, Dataset

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from crnn_pl import CRNNModule  # noqa: E402
from crnn_pl.core.charset import Charset  # noqa: E402
from crnn_pl.core.preprocess import ImageSpec, prepare  # noqa: E402
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer  # noqa: E402
from crnn_pl.data.words import preprocess  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SMALL_MODEL = dict(conv_channels=[16, 32, 48, 48, 96, 96, 96], hidden_size=64)


def run_train(*overrides: str, cwd: Path = REPO, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real entry point, `python train.py ...`, and fail with its output if it fails."""
    command = [sys.executable, str(REPO / "train.py"), *overrides]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


class FileWords(Dataset):
    """(image, label) pairs read from files through the one preprocessing function."""

    def __init__(self, paths: list[Path], labels: list[str], spec: ImageSpec) -> None:
        self.paths, self.labels, self.spec = paths, labels, spec

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        return preprocess(self.paths[index], self.spec), self.labels[index]


# The quickstart notebook's words, rendered as the notebook renders them (word i with
# default_rng(i)): the overfit fixture model learns these very images, so the notebook test
# can check that the notebook reads them right. The first is the seed project's example word.
NOTEBOOK_WORDS = ["tuongan", "coffee", "exit", "hotel", "street", "42nd"]


# The fixture words' renderer: synth.yaml's text, plain surfaces (no scene-text variety), neither
# stacked nor turned (a turned training crop is labelled empty): words a tiny model learns by heart.
FIXTURE_RENDER = {"max_length": 10, "variety": 0.0, "stacked_prob": 0.0, "turned_prob": 0.0}
# The same, as train.py overrides, for runs that validate on the fixture's words (tests/test_scale.py).
FIXTURE_RENDER_OVERRIDES = [f"dataset.render.{key}={value}" for key, value in FIXTURE_RENDER.items()]


@pytest.fixture(scope="session")
def word_files(tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Sixteen rendered words saved as PNG files, with their labels: the notebook's six words,
    then ten random samples."""
    folder = tmp_path_factory.mktemp("words")
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config(FIXTURE_RENDER))
    paths, labels = [], []
    for index in range(16):
        if index < len(NOTEBOOK_WORDS):
            word = NOTEBOOK_WORDS[index]
            image, label = renderer.render(word, np.random.default_rng(index)), word
        else:
            image, label = renderer.sample(np.random.default_rng([7, index]))
        path = folder / f"word_{index}.png"
        Image.fromarray(image).save(path)
        paths.append(path)
        labels.append(label)
    return paths, labels


TORCH_THREADS = 2       # tests run on 2 cores: keep torch from oversubscribing them


@pytest.fixture(scope="session", autouse=True)
def _torch_threads() -> int:
    """The thread count, fixed before any session fixture trains (autouse fixtures come first in
    their scope, and overfit_checkpoint asks for this one): the same training every run."""
    torch.set_num_threads(TORCH_THREADS)
    return TORCH_THREADS


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(TORCH_THREADS)       # again for every test: one may have changed it


@pytest.fixture(scope="session")
def trained_crops(word_files, tmp_path_factory) -> list[Path]:
    """The word files as the overfit model learns them (resized to its height, squeezed to its
    width), saved as PNG. At its training width they preprocess to exactly its training inputs; at
    a wider canvas to those inputs padded on the right, which it learns too. `crnn-export` verifies
    on them: at its second, wider verification width the word files themselves are squeezed less
    than in training, and the overfit model reads them as garbage there."""
    paths, _ = word_files
    spec = ImageSpec()          # CRNNModule's default (overfit_checkpoint checks it is the model's)
    folder = tmp_path_factory.mktemp("trained_crops")
    crops = []
    for path in paths:
        model_input = prepare(path, spec)
        # The right padding is exactly 0 (mid grey, normalised), which no uint8 pixel normalises to.
        width = int(np.flatnonzero((model_input != 0).any(axis=(0, 1)))[-1]) + 1
        pixels = np.rint((model_input[0, :, :width] * spec.std + spec.mean) * 255).astype(np.uint8)
        crop = folder / path.name
        Image.fromarray(pixels).save(crop)
        assert np.array_equal(prepare(crop, spec), model_input), crop
        crops.append(crop)
    return crops


def verification_widths(hparams: dict, image: Path) -> list[int]:
    """The canvas widths `crnn-export` verifies a model's exports at: its training width and a wider one."""
    from crnn_pl.core.card import ModelCard
    from crnn_pl.export.exporter import verification_batches

    card = ModelCard.from_hparams(dict(hparams))
    return sorted({batch.shape[-1] for batch in verification_batches([image], card)})


@pytest.fixture(scope="session")
def overfit_checkpoint(_torch_threads, word_files, tmp_path_factory) -> Path:
    """A small CRNN trained through Lightning on one fixed batch until it reads every word, at its
    training width and with the batch padded on the right to the exporter's wider verification
    width: every format, onnx_int8 too, is verified on words the model reads (`trained_crops`)."""
    paths, labels = word_files
    L.seed_everything(3)
    module = CRNNModule(lr=3e-3, scheduler="cosine", **SMALL_MODEL)   # settles as it decays, on any CPU
    assert module.image_spec == ImageSpec(), "trained_crops squeezes the words for another spec"
    words = FileWords(paths, labels, module.image_spec)
    padding = verification_widths(module.hparams, paths[0])[-1] - module.image_spec.width
    assert padding > 0
    loader = DataLoader(ConcatDataset([words, RightPadded(words, padding)]), batch_size=len(paths))
    trainer = L.Trainer(max_steps=2400, accelerator="cpu", logger=False, enable_checkpointing=False,
                        gradient_clip_val=5.0,
                        enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[FreezeNormalisation(after=1000), stop := StopWhenPerfect(paths, labels, padding)])
    trainer.fit(module, train_dataloaders=loader)
    assert stop.perfect, (f"the overfit model still misreads its words after {trainer.global_step} steps: "
                          f"{module.read(paths)} (upright: {module.read(paths, orientation='upright')}), not {labels}")
    checkpoint = tmp_path_factory.mktemp("ckpt") / "overfit.ckpt"
    trainer.save_checkpoint(checkpoint)
    return checkpoint


class RightPadded(Dataset):
    """A dataset's images with `pixels` more columns of padding on the right (the normalised 0,
    as preprocessing pads): the same words on a wider canvas."""

    def __init__(self, words: Dataset, pixels: int) -> None:
        self.words, self.pixels = words, pixels

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, index: int):
        image, label = self.words[index]
        return F.pad(image, (0, self.pixels)), label


class FreezeNormalisation(L.Callback):
    """From step `after` on, batch norm uses its running statistics in training too, as reading does.
    The fixture's batches alternate between the words and the words padded wider, so each batch's
    own statistics differ from the running mix that reading uses; on some CPUs (an AMD EPYC of
    2026-12-06) the padded words then stayed one letter short for all 2,400 steps. Trained under
    the statistics it reads with, the model reads both widths (there, at step 1,060)."""

    def __init__(self, after: int) -> None:
        self.after = after

    def on_train_batch_start(self, trainer, module, batch, batch_index) -> None:
        if trainer.global_step >= self.after:
            for layer in module.modules():
                if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                    layer.eval()


class StopWhenPerfect(L.Callback):
    """Ends training once every training word has been read exactly, as read() reads it and padded
    on the right by `padding` pixels, at every check (each 20 steps) for `settle` steps. A model
    stopped at its first perfect read is barely perfect: int8's rounding then drops a letter of a
    double (`fessy` -> `fesy`, an AMD EPYC of 2026-12-06); the settling steps widen its margins."""

    def __init__(self, paths: list[Path], labels: list[str], padding: int = 0, settle: int = 200) -> None:
        self.paths, self.labels, self.padding, self.settle = paths, labels, padding, settle
        self.perfect = False
        self.perfect_since: int | None = None

    def on_train_start(self, trainer, module) -> None:
        assert torch.get_num_threads() == TORCH_THREADS, "train after the thread count is fixed (reproducible)"

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index) -> None:
        if trainer.global_step % 20 == 0:
            texts = [text for text, _ in module.read(self.paths)]
            self.perfect = texts == self.labels and self.padded_reads(module) == self.labels
            if not self.perfect:
                self.perfect_since = None
            elif self.perfect_since is None:
                self.perfect_since = trainer.global_step
            trainer.should_stop = self.perfect and trainer.global_step - self.perfect_since >= self.settle

    def padded_reads(self, module) -> list[str]:
        images = torch.stack([preprocess(path, module.image_spec) for path in self.paths])
        module.eval()
        try:
            with torch.no_grad():
                padded = F.pad(images, (0, self.padding)).numpy()
                return [text for text, _ in module.recognizer().read_arrays(padded)]
        finally:
            module.train()


# --- A user's clone, for the README's commands --------------------------------------------------

README_TEXT = (REPO / "README.md").read_text(encoding="utf-8") + (REPO / "data" / "README.md").read_text(
    encoding="utf-8")
NOT_IN_A_CLONE = (".git", ".venv", "outputs", ".cache", "multirun", "lightning_logs", "__pycache__",
                  "*.egg-info", ".pytest_cache", ".ruff_cache", "build", "dist")


def shown_commands(text: str = README_TEXT) -> set[str]:
    """Every line of the READMEs' code blocks (without its trailing `# comment`) and every inline
    code span: the commands as a user sees them."""
    commands, in_block = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
        elif in_block and line.strip():
            commands.add(re.split(r"\s+#\s", line.strip(), maxsplit=1)[0].strip())
    return commands | set(re.findall(r"`([^`\n]+)`", text))


def as_written(command: str, **placeholders: str) -> str:
    """`command` exactly as README.md or data/README.md shows it (a whole code line or code span,
    checked), then its placeholders (`<run>`, `OUT`, ...) replaced by real values: the README and
    the tests cannot drift apart."""
    assert command in shown_commands(), f"the READMEs do not show this command: {command}"
    for placeholder, value in placeholders.items():
        assert placeholder in command, (placeholder, command)
        command = command.replace(placeholder, value)
    return command


def make_checkout(folder: Path) -> Path:
    """What `git clone` gives a user (the repository's files, no outputs, data or caches), with
    `make install` already done (`clone_venv`)."""
    def ignored(directory: str, names: list[str]) -> set[str]:
        patterns = set(shutil.ignore_patterns(*NOT_IN_A_CLONE)(directory, names))
        if Path(directory).resolve() == REPO / "data":
            patterns |= {name for name in names if name != "README.md"}
        return patterns

    shutil.copytree(REPO, folder, symlinks=True, ignore=ignored)
    clone_venv(folder)
    return folder


# Installers: a clone's .venv must not hold a way to install into the environment running the tests.
NOT_LINKED = {"pip", "pip3", f"pip{sys.version_info.major}.{sys.version_info.minor}", "uv"}


def clone_venv(checkout: Path) -> Path:
    """`make install` done in `checkout`, without installing anything: a `.venv` of its own that sees
    the packages of the environment running the tests (a .pth file) and has its console scripts,
    with its install stamp newer than the checkout's pyproject.toml. Its python's own prefix is the
    clone's, so even a `make` that decided to reinstall could only install into the clone."""
    venv = checkout / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    shared = sorted({sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")})
    (site_packages / "zz_tests_environment.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in shared), encoding="utf-8")
    for script in Path(sys.executable).parent.iterdir():
        if script.name not in NOT_LINKED and not (venv / "bin" / script.name).exists():
            (venv / "bin" / script.name).symlink_to(script)
    stamp = venv / ".installed"
    stamp.touch()
    newer = (checkout / "pyproject.toml").stat().st_mtime + 1
    if stamp.stat().st_mtime < newer:
        os.utime(stamp, (newer, newer))
    return venv


# make's own variables. A `make test ARGS=...` running these tests exports them (MAKEFLAGS carries its
# command-line variables), and a `make` typed in a clone would take them as its own: `make export` would
# run `crnn-export <pytest's arguments>`. ARGS and VENV are this Makefile's, read from the environment.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKEFILES",
                  "MAKE_TERMOUT", "MAKE_TERMERR", "ARGS", "VENV")


# A developer's thread settings: a user's new shell has none, so a recipe's own choice shows.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def user_environment() -> dict[str, str]:
    """The shell of a user who activated the project's venv (none of make's variables set)."""
    bin_dir = str(Path(sys.executable).parent)
    environment = {name: value for name, value in os.environ.items()
                   if name not in MAKE_VARIABLES + THREAD_VARIABLES}
    return dict(environment, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), VIRTUAL_ENV=sys.prefix)


def installed_crnn_pl() -> tuple[str, str]:
    """Where this environment's python imports crnn_pl from outside any checkout, and its install
    record (pip's direct_url.json: the folder an editable install points at)."""
    code = ("import importlib.metadata as m, importlib.util as u; print(u.find_spec('crnn_pl').origin); "
            "print(m.distribution('crnn_pl').read_text('direct_url.json'))")
    result = subprocess.run([sys.executable, "-I", "-c", code], cwd="/", capture_output=True, text=True, check=True)
    origin, record = result.stdout.strip().split("\n", 1)
    return origin, record


@pytest.fixture(scope="session", autouse=True)
def _tests_environment_untouched():
    """No `make` in a clone may reinstall the package into the environment running the tests: after
    the session its install is what it was (an editable install of this repository stays one)."""
    before = installed_crnn_pl()
    yield
    after = installed_crnn_pl()
    assert after == before, f"the tests' environment was reinstalled: crnn_pl {before} -> {after}"


def run_as_user(command: str, cwd: Path, timeout: int = 600, expect_ok: bool = True) -> subprocess.CompletedProcess:
    """Run a shell command line as typed at a prompt in `cwd`; fail with its output unless it succeeds."""
    result = subprocess.run(command, shell=True, executable="/bin/bash", cwd=cwd, env=user_environment(),
                            capture_output=True, text=True, timeout=timeout)
    if expect_ok:
        assert result.returncode == 0, f"$ {command}\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    return result


def step_of(checkpoint: Path) -> int | None:
    """A checkpoint's global step; None while it is being written (a run killed mid-write)."""
    try:
        return torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"]
    except Exception:
        return None


def run_folders(checkout: Path, kind: str = "runs", task: str = "train") -> set[Path]:
    return set((checkout / "outputs" / task / kind).glob("*"))
