"""Error analysis (crnn_pl.core.analysis) and scripts/bench_real.py on real files."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from conftest import REPO
from crnn_pl.core.analysis import (
    ASPECT_BUCKETS,
    LENGTH_BUCKETS,
    Read,
    alignment,
    breakdown,
    by_aspect,
    by_length,
    confusions,
    summary,
)


def test_alignment_names_substitutions_insertions_and_deletions():
    assert alignment("hallo", "hello") == [("h", "h"), ("e", "a"), ("l", "l"), ("l", "l"), ("o", "o")]
    # "rn" read as "m": two edits whichever way the tie is broken, and every label character placed once
    pairs = alignment("modem", "modern")
    assert sum(truth != guess for truth, guess in pairs) == 2
    assert "".join(t for t, _ in pairs) == "modern" and "".join(g for _, g in pairs) == "modem"
    dropped = alignment("helo", "hello")      # one of the two l's is missing; which one is a tie
    assert sorted(dropped) == sorted([("h", "h"), ("e", "e"), ("l", "l"), ("l", ""), ("o", "o")])
    assert alignment("hxello", "hello") == [("h", "h"), ("", "x"), ("e", "e"), ("l", "l"), ("l", "l"), ("o", "o")]
    assert alignment("", "ab") == [("a", ""), ("b", "")]


def test_confusions_count_character_errors_under_the_benchmark_protocol():
    reads = [Read("Hello", "hallo", 32, 100), Read("CAT", "cot", 32, 80), Read("o-k", "0k", 20, 60),
             Read("same", "SAME", 32, 100)]
    assert confusions(reads) == [("e", "a", 1), ("a", "o", 1), ("o", "0", 1)]


def test_breakdowns_and_summary():
    reads = [Read("a", "a", 10, 10), Read("abcdefghijkl", "abcdefghijk", 40, 400), Read("Word", "word", 30, 90),
             Read("word", "ward", 30, 200)]
    assert breakdown(reads, by_length, LENGTH_BUCKETS) == [("1", 1, 1.0), ("4-5", 2, 0.5), ("11+", 1, 0.0)]
    # 90/30 = 3.0 opens the 3-5 bucket, 10/10 = 1.0 the 1-1.5 one (taller than wide is below it)
    assert breakdown(reads, by_aspect, ASPECT_BUCKETS) == [("1-1.5", 1, 1.0), ("3-5", 1, 1.0), ("5+", 2, 0.0)]
    assert breakdown([Read("T", "T", 30, 10)], by_aspect, ASPECT_BUCKETS) == [("<1 (tall)", 1, 1.0)]
    scores = summary(reads)
    assert scores["acc36"] == 0.5 and scores["exact"] == 0.25
    # CER over the labels as written (crnn_pl.core.metrics, as everywhere): "Word" read "word" is one edit
    assert scores["cer"] == (0 + 1 + 1 + 1) / (1 + 12 + 4 + 4)


@pytest.mark.slow
def test_bench_real_scores_a_folder_of_known_words(overfit_checkpoint, word_files, tmp_path):
    paths, labels = word_files
    folder = tmp_path / "data" / "iiit5k" / "train"
    folder.mkdir(parents=True)
    for path in paths:
        Image.open(path).save(folder / path.name)
    gt = "".join(f'{p.name}, "{label.upper()}"\n' for p, label in zip(paths, labels, strict=True))
    (folder / "gt.txt").write_text(gt)
    output, sheet = tmp_path / "report.md", tmp_path / "sheet.png"
    command = [sys.executable, str(REPO / "scripts" / "bench_real.py"), "--model-path", str(overfit_checkpoint),
               "--data-root", str(tmp_path / "data"), "--output", str(output), "--contact-sheet", str(sheet)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = output.read_text()
    exact = sum(label.upper() == label for label in labels) / len(labels)    # the gt is upper-cased, reads are not
    assert "### iiit5k: 16 crops" in report and f"acc36 **1.0000**, exact {exact:.4f}" in report
    assert "| label length |" in report and "| crop height |" in report and "| aspect ratio (w/h) |" in report
    assert sheet.stat().st_size > 10_000
