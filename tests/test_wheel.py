"""Install as users install: the wheel, not the source tree, run from a folder outside the repo.

The wheel is built from a clean copy of the repository and installed (not editable) into a new
virtualenv. Its third-party dependencies are taken from the environment running the tests (a
`.pth` line to its site-packages, read after the venv's own) rather than downloaded again: what
is under test is the package itself, its configs, its data files and its console scripts.
"""

from __future__ import annotations

import json
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_checkout

TINY = ["model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64"]


def run(command: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"$ {' '.join(map(str, command))}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A new venv with the crnn_pl wheel installed; returns its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = make_checkout(work / "source")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"),
         str(source)], work)
    wheel = next((work / "dist").glob("crnn_pl-*.whl"))
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    (site_packages / "zz_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
         "--no-index", str(wheel)], work)
    return venv / "bin"


def test_the_wheel_carries_its_configs_and_word_list(installed, tmp_path):
    located = run([str(installed / "python"), "-c", "import crnn_pl, pathlib; p = pathlib.Path(crnn_pl.__file__)"
                   ".parent; print(p); print(sorted(q.name for q in (p / 'conf').iterdir()))"], tmp_path).stdout
    package, groups = located.strip().splitlines()
    assert Path(package).is_relative_to(installed.parent), f"imported {package}, not the installed wheel"
    assert not Path(package).is_relative_to(REPO)
    for group in ("config.yaml", "eval.yaml", "export_checkpoint.yaml", "model", "dataset", "hydra", "experiment"):
        assert group in groups, group
    assert (Path(package) / "data" / "synth" / "words.txt").is_file()
    shipped_fonts = Path(package) / "data" / "synth" / "font_files"
    assert len(list(shipped_fonts.glob("*/*.woff"))) >= 300 and len(list(shipped_fonts.glob("*/LICENSE"))) >= 100
    assert (Path(package) / "pretrained" / "en.ckpt").is_file() and (Path(package) / "pretrained" / "en.md").is_file()


def test_console_scripts_from_a_folder_outside_the_repository(installed, tmp_path, word_files):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    result = run([str(installed / "crnn-train"), *TINY, "trainer.max_epochs=1", "dataset.train_size=64",
                  "dataset.val_size=32", "export=none"], folder)
    (run_dir,) = (folder / "outputs" / "train" / "runs").iterdir()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}", run_dir.name)
    assert f"outputs in {run_dir}" in result.stdout + result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["outputs"]

    run([str(installed / "crnn-export"), "export.formats=[onnx]"], folder)           # finds the newest run
    manifest = json.loads((run_dir / "export" / "manifest.json").read_text())
    assert manifest["formats"]["onnx"]["words_agree"] == manifest["formats"]["onnx"]["words"]

    paths, labels = word_files
    lines = run([str(installed / "crnn-predict"), *map(str, paths[:3]), "--model",
                 str(run_dir / "export" / "model.onnx")], folder).stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(p) for p in paths[:3]]
    shipped = run([str(installed / "crnn-predict"), *map(str, paths[:3])], folder).stdout.strip().splitlines()
    assert [line.split("\t")[1] for line in shipped] == labels[:3]      # the model inside the wheel

    output = run([str(installed / "crnn-eval"), f"model_path={run_dir / 'export' / 'model.onnx'}",
                  "dataset.val_size=16"], folder).stdout
    assert "16 images" in output and re.search(r"acc36 +\d\.\d{4}", output)
    assert list((folder / "outputs" / "eval" / "runs").glob("*/predictions.csv"))
