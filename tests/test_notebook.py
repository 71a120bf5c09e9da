"""notebooks/quickstart.ipynb runs as written: its code cells, in order, in one namespace."""

import json
import os

import matplotlib

from conftest import REPO

matplotlib.use("Agg")


def test_quickstart_notebook_runs(overfit_checkpoint, monkeypatch):
    notebook = json.loads((REPO / "notebooks" / "quickstart.ipynb").read_text())
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")
    monkeypatch.setenv("CRNN_CHECKPOINT", str(overfit_checkpoint))
    monkeypatch.chdir(REPO / "notebooks")
    namespace: dict = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "quickstart.ipynb", "exec"), namespace)
    assert len(namespace["predictions"]) == 6
    assert all(isinstance(text, str) and 0 < confidence <= 1 for text, confidence in namespace["predictions"])
    assert namespace["trainer"].global_step == 4
    assert os.path.isfile(namespace["paths"][0])
