"""A trained model reads real image files: in process, and in a bare fresh process."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from crnn_pl import CRNNModule

pytestmark = pytest.mark.slow      # every test here reads with conftest's overfit model (trained for it)


def test_overfit_one_batch_to_every_word(overfit_checkpoint, word_files):
    paths, labels = word_files
    module = CRNNModule.load_from_checkpoint(overfit_checkpoint, map_location="cpu")
    texts = [text for text, _ in module.read(paths)]
    assert texts == labels


def test_read_accepts_paths_pil_images_and_arrays(overfit_checkpoint, word_files):
    paths, labels = word_files
    module = CRNNModule.load_from_checkpoint(overfit_checkpoint, map_location="cpu")
    pil_image = Image.open(paths[0])
    array = np.asarray(Image.open(paths[1]))
    results = module.read([pil_image, array, str(paths[2])])
    assert [text for text, _ in results] == labels[:3]
    assert all(0.0 < confidence <= 1.0 for _, confidence in results)
    assert module.read(paths[3])[0][0] == labels[3]


def test_load_from_checkpoint_in_a_fresh_process_without_hydra(overfit_checkpoint, word_files):
    paths, labels = word_files
    code = f"""
import json, sys
from crnn_pl import CRNNModule
module = CRNNModule.load_from_checkpoint({str(overfit_checkpoint)!r}, map_location="cpu")
results = module.read({[str(p) for p in paths[:4]]!r})
assert "hydra" not in sys.modules, "reading a checkpoint imported hydra"
print(json.dumps(results))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert [text for text, _ in results] == labels[:4]
