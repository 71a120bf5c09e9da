"""One spelling for the model in every tool: `--model-path` / `model_path=`, and `--format` /
`format=`. The old spellings stop with an error naming the new one, rather than doing something else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crnn_pl.cli.predict import main as predict

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(("old", "new"), [("--model", "--model-path"), ("--checkpoint", "--model-path"),
                                          ("--export-format", "--format")])
def test_crnn_predict_names_the_new_spelling(old, new, capsys):
    with pytest.raises(SystemExit) as stopped:
        predict(["word.png", old, "onnx"])
    assert stopped.value.code == 2
    assert f"error: {old} is now {new}" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(("tool", "old", "new"), [("crnn-export", "checkpoint=en", "checkpoint= is now model_path="),
                                                 ("crnn-eval", "export_format=onnx", "export_format= is now format=")])
def test_hydra_tools_name_the_new_spelling(tool, old, new, tmp_path):
    result = subprocess.run([str(BIN / tool), old], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stderr.startswith(f"error: {new}"), result.stderr[-2000:]
