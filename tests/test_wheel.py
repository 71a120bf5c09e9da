"""Install as users install: the README's install commands, as written, in a clone, each into a new
virtualenv (activated: its bin first on PATH), from the package index; then the tools run from a
folder outside the repository.

- The base install (`pip install .`): numpy, Pillow, OpenCV and ONNX Runtime, nothing of training.
  `crnn-predict` reads with the shipped model and with an exported ONNX file.
- The full install (`pip install torch==2.13.0 && pip install '.[train,export]'`): every console
  script, with the configs, word list, fonts and shipped model inside the installed package.

Nothing is borrowed from the environment running the tests: each virtualenv gets its packages from
pip (its cache makes a second run quick). `pip install .` builds a wheel and installs it, not editable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, as_written, make_checkout
from crnn_pl import DecoderSettings, Recognizer

pytestmark = pytest.mark.slow
TINY = ["model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64"]
TRAINING_STACK = ("torch", "lightning", "hydra", "omegaconf", "torchmetrics", "albumentations")
BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path, timeout: int = 900, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    shown = " ".join(map(str, command))
    assert result.returncode == expect, f"$ {shown}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def install_as_written(command: str, folder: Path) -> Path:
    """A new virtualenv in `folder`, and the README's install `command` run in a fresh clone with that
    virtualenv activated; returns its bin folder."""
    venv = folder / "venv"
    run([sys.executable, "-m", "venv", str(venv)], folder)
    checkout = make_checkout(folder / "crnn_pl")
    development = checkout / ".venv"        # a user's clone has no development environment in it
    if development.is_symlink():
        development.unlink()
    else:
        shutil.rmtree(development)
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(venv),
               PIP_QUIET="1")
    env.pop("PYTHONPATH", None)
    result = subprocess.run(as_written(command), shell=True, executable="/bin/bash", cwd=checkout, env=env,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"$ {command}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return venv / "bin"


@pytest.fixture(scope="module")
def base_install(tmp_path_factory) -> Path:
    return install_as_written("pip install .", tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def full_install(tmp_path_factory) -> Path:
    return install_as_written("pip install torch==2.13.0 && pip install '.[train,export]'",
                              tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def exported_onnx(overfit_checkpoint, word_files, tmp_path_factory) -> Path:
    out_dir = tmp_path_factory.mktemp("onnx")
    paths, _ = word_files
    run([str(BIN / "crnn-export"), f"model_path={overfit_checkpoint}", f"export.output_dir={out_dir}",
         "export.formats=[onnx]", f"export.images={paths[0].parent}/*.png"], REPO)
    return out_dir / "model.onnx"


def test_the_base_install_holds_nothing_of_training(base_install, tmp_path):
    installed = run([str(base_install / "pip"), "list", "--format=json"], tmp_path).stdout
    names = {entry["name"].lower().replace("_", "-") for entry in json.loads(installed)}
    assert {"crnn-pl", "numpy", "pillow", "opencv-python-headless", "onnxruntime"} <= names
    assert not names & {"torch", "lightning", "hydra-core", "omegaconf", "torchmetrics", "onnx", "albumentations"}


def test_the_base_install_reads_with_the_shipped_model_and_an_export(base_install, exported_onnx, word_files,
                                                                    tmp_path):
    paths, labels = word_files
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    shutil.copy(paths[0], folder / "word_1.png")
    shipped = run([str(base_install / "crnn-predict"), "word_1.png", *map(str, paths[1:4])], folder)
    assert [line.split("\t")[1] for line in shipped.stdout.splitlines()] == labels[:4]    # en, inside the package
    exported = run([str(base_install / "crnn-predict"), *map(str, paths), "--model-path", str(exported_onnx)], folder)
    assert [line.split("\t")[1] for line in exported.stdout.splitlines()] == labels
    assert sorted(p.name for p in folder.iterdir()) == ["word_1.png"]       # reading writes nothing
    # the lexicon decoder's English words ship inside the package: the base install reads with them
    with_words = run([str(base_install / "crnn-predict"), *map(str, paths), "--decoder", "lexicon"], folder)
    expected = Recognizer("en", decoder=DecoderSettings(name="lexicon", lexicon="en")).read(paths)
    assert [line.split("\t")[1] for line in with_words.stdout.splitlines()] == [text for text, _ in expected]


def test_the_base_install_says_which_extra_a_training_tool_needs(base_install, tmp_path):
    for tool in ("crnn-train", "crnn-eval", "crnn-export"):
        result = run([str(base_install / tool)], tmp_path, expect=1)
        assert result.stderr.startswith(f"error: {tool} needs the training extra"), result.stderr
        assert "pip install torch==2.13.0 && pip install 'crnn_pl[train,export]'" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_wheel_carries_its_configs_word_list_fonts_and_model(full_install, tmp_path):
    located = run([str(full_install / "python"), "-c", "import crnn_pl, pathlib; p = pathlib.Path(crnn_pl.__file__)"
                   ".parent; print(p); print(sorted(q.name for q in (p / 'conf').iterdir()))"], tmp_path).stdout
    package, groups = located.strip().splitlines()
    assert Path(package).is_relative_to(full_install.parent), f"imported {package}, not the installed wheel"
    assert not Path(package).is_relative_to(REPO)
    for group in ("config.yaml", "eval.yaml", "export_checkpoint.yaml", "model", "dataset", "hydra", "experiment"):
        assert group in groups, group
    assert (Path(package) / "data" / "synth" / "words.txt").is_file()
    shipped_fonts = Path(package) / "data" / "synth" / "font_files"
    assert len(list(shipped_fonts.glob("*/*.woff"))) >= 300 and len(list(shipped_fonts.glob("*/LICENSE"))) >= 100
    pretrained = sorted(p.name for p in (Path(package) / "pretrained").iterdir() if p.is_file() and p.suffix != ".py")
    assert pretrained == ["en.md", "en.onnx", "en.safetensors"]          # no pickle ships


def test_console_scripts_from_a_folder_outside_the_repository(full_install, tmp_path, word_files):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    result = run([str(full_install / "crnn-train"), *TINY, "trainer.max_epochs=1", "dataset.train_size=64",
                  "dataset.val_size=32", "export=none"], folder)
    (run_dir,) = (folder / "outputs" / "train" / "runs").iterdir()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}", run_dir.name)
    assert f"outputs in {run_dir}" in result.stdout + result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["outputs"]

    run([str(full_install / "crnn-export"), "export.formats=[onnx]"], folder)           # finds the newest run
    manifest = json.loads((run_dir / "export" / "manifest.json").read_text())
    assert manifest["formats"]["onnx"]["words"] == 18

    paths, labels = word_files
    lines = run([str(full_install / "crnn-predict"), *map(str, paths[:3]), "--model-path",
                 str(run_dir / "export" / "model.onnx")], folder).stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(p) for p in paths[:3]]
    shipped = run([str(full_install / "crnn-predict"), *map(str, paths[:3])], folder).stdout.strip().splitlines()
    assert [line.split("\t")[1] for line in shipped] == labels[:3]      # the model inside the wheel

    output = run([str(full_install / "crnn-eval"), f"model_path={run_dir / 'export' / 'model.onnx'}",
                  "dataset.val_size=16"], folder).stdout
    assert "16 images" in output and re.search(r"acc36 +\d\.\d{4}", output)
    assert list((folder / "outputs" / "eval" / "runs").glob("*/predictions.csv"))
