"""One read path: the same model on the same crops gives the same figure through `read()`,
`crnn-predict`, `crnn-eval`, `scripts/bench_real.py` and `make bench` (scripts/bench_backends.py),
because all of them read through `Recognizer` and score with crnn_pl.core.metrics. The shipped `en`
reads wide crops at their natural width (its card's read_max_width), so wide words are included:
a tool that squeezed them would read them otherwise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from crnn_pl import CRNNModule
from crnn_pl.core.charset import Charset
from crnn_pl.core.metrics import score_reads
from crnn_pl.core.preprocess import prepare
from crnn_pl.data.ground_truth import format_icdar15_line
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.runtime.recognizer import Recognizer

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow
WIDE_WORDS = ["Internationalisation", "Photosynthesis", "understandings", "refrigerators", "hippopotamus"]


@pytest.fixture(scope="module")
def crops(word_files, tmp_path_factory) -> tuple[Path, list[Path], list[str]]:
    """An IIIT5K-layout folder (data/iiit5k/train/gt.txt) of the rendered test words and wide words."""
    root = tmp_path_factory.mktemp("data")
    folder = root / "iiit5k" / "train"
    folder.mkdir(parents=True)
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config({"max_length": 20}))
    paths, labels = [], []
    for index, word in enumerate(WIDE_WORDS):
        path = folder / f"wide_{index}.png"
        Image.fromarray(renderer.render(word, np.random.default_rng(index))).save(path)
        paths.append(path)
        labels.append(word)
    for path, label in zip(*word_files, strict=True):
        (folder / path.name).write_bytes(path.read_bytes())
        paths.append(folder / path.name)
        labels.append(label)
    lines = [format_icdar15_line(p.name, label) for p, label in zip(paths, labels, strict=True)]
    (folder / "gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root, paths, labels


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"$ {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_every_tool_reports_the_same_figure_for_en(crops, tmp_path):
    root, paths, labels = crops
    folder = paths[0].parent
    spec = Recognizer("en").spec
    assert {prepare(p, spec).shape[-1] for p in paths[:len(WIDE_WORDS)]} - {100}, "the wide words must read wide"

    read = score_reads([text for text, _ in CRNNModule.from_pretrained("en").read(paths)], labels)

    predicted = run([str(BIN / "crnn-predict"), *map(str, paths)], tmp_path).splitlines()
    predict = score_reads([line.split("\t")[1] for line in predicted], labels)

    evaluated = run([str(BIN / "crnn-eval"), "model_path=en", "dataset=icdar15", f"dataset.test_dir={folder}",
                     "dataset.test_gt_name=gt.txt"], tmp_path)
    evaluate = {name: float(re.search(rf"^{name} +(\d\.\d{{4}})$", evaluated, re.M).group(1))
                for name in ("exact", "acc36")}

    report = tmp_path / "real.md"
    run([sys.executable, str(REPO / "scripts" / "bench_real.py"), "--model-path", "en", "--data-root", str(root),
         "--no-rendered", "--output", str(report)], tmp_path)
    bench_real = re.search(r"### iiit5k: \d+ crops\s+acc36 \*\*(\d\.\d{4})\*\*, exact (\d\.\d{4})", report.read_text())

    bench = tmp_path / "bench.md"
    run([sys.executable, str(REPO / "scripts" / "bench_backends.py"), "--model-path", "en", "--words", "16",
         "--seconds", "0.1", "--latency-files", "2", "--real", str(folder), "--output", str(bench)], tmp_path)
    make_bench = re.search(r"^\| crnn_pl onnx \|[^|]+\|[^|]+\| (\d\.\d{4}) \|", bench.read_text(), re.M)

    figures = {"read()": (round(read["exact"], 4), round(read["acc36"], 4)),
               "crnn-predict": (round(predict["exact"], 4), round(predict["acc36"], 4)),
               "crnn-eval": (evaluate["exact"], evaluate["acc36"]),
               "bench_real": (float(bench_real.group(2)), float(bench_real.group(1)))}
    assert len(set(figures.values())) == 1, figures
    assert float(make_bench.group(1)) == figures["read()"][1], (make_bench.group(0), figures)
    assert read["acc36"] >= 0.5         # a real figure, not an empty read


def test_validation_during_training_reads_as_the_read_path_does():
    """Validation keeps its batched path (tensors from the DataLoader, logits decoded in the module);
    it reads at the training width, so it equals the read path of a model that squeezes wide crops."""
    import lightning as L

    from crnn_pl.data.datamodule import SynthDataModule

    module = CRNNModule.from_pretrained("en")
    # compare like with like: validation squeezes wide crops, and decodes greedily (its figure picks
    # checkpoints; en's card reads against a lexicon)
    module.hparams.read_max_width = None
    module.hparams.decoder = None
    datamodule = SynthDataModule(charset=module.hparams.charset, case_sensitive=module.hparams.case_sensitive,
                                 train_size=32, val_size=96,
                                 batch_size=32, num_workers=0)
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    logged = trainer.validate(module, datamodule=datamodule, verbose=False)[0]
    dataset = datamodule.datasets["val"]
    samples = [dataset.raw(key) for key in range(len(dataset))]
    # validation reads each crop as it is (its turned crops are labelled empty): so does this read
    texts = [text for text, _ in module.read([s.image for s in samples], orientation="upright")]
    scores = score_reads(texts, [s.label for s in samples])
    assert 0.5 < scores["exact"] < 1.0, scores           # a model that reads most, not all: a real comparison
    for logged_name, name in (("val/acc", "exact"), ("val/acc36", "acc36"), ("val/cer", "cer"), ("val/ned", "ned")):
        assert logged[logged_name] == pytest.approx(scores[name], abs=1e-6), (logged_name, logged, scores)
