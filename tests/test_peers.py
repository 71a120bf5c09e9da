"""scripts/peers.py: RapidOCR's PP-OCRv4 recognizer alone, on real word crops (IIIT 5K train, when present)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from crnn_pl.core.metrics import alnum36
from crnn_pl.data.ground_truth import Entry, read_icdar15

REPO = Path(__file__).resolve().parents[1]
IIIT5K = REPO.parent / "shared" / "data" / "iiit5k" / "train"


def load_peers():
    spec = importlib.util.spec_from_file_location("peers", REPO / "scripts" / "peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importing_peers_never_needs_rapidocr():
    peers = load_peers()
    reason = peers.available()
    assert reason is None or "not installed" in reason or "missing" in reason


def test_rapidocr_reads_real_iiit5k_crops():
    pytest.importorskip("rapidocr_onnxruntime")
    if not (IIIT5K / "gt.txt").is_file():
        pytest.skip(f"{IIIT5K} is absent (real crops live in ../shared beside the repo)")
    peers = load_peers()
    assert peers.available() is None
    pairs = [(e.path, e.label) for e in read_icdar15(IIIT5K / "gt.txt", IIIT5K) if isinstance(e, Entry)][:3]
    assert len(pairs) == 3
    reads = peers.RapidOcrRecognizer(threads=1).read([path for path, _ in pairs], batch_size=2)
    assert len(reads) == 3
    assert all(isinstance(text, str) and 0.0 <= score <= 1.0 for text, score in reads)
    right = sum(alnum36(text) == alnum36(label) for (text, _), (_, label) in zip(reads, pairs, strict=True))
    assert right >= 2, list(zip(reads, pairs, strict=True))
