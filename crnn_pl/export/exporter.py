"""Export a checkpoint to the chosen formats, verifying each against PyTorch as it is written.

Verification runs the exported file and the PyTorch model on the same real images, at two
widths and two batch sizes; the largest logit difference and whether the decoded words agree go
into manifest.json beside the files. A mismatch beyond the backend's declared tolerances (float
backends: logits within 1e-3, every word the same) fails the export.
"""

from __future__ import annotations

import glob
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from crnn_pl.core.card import CARD_FILE, ModelCard
from crnn_pl.core.charset import Charset
from crnn_pl.core.decode import ImageInput
from crnn_pl.core.preprocess import prepare
from crnn_pl.export.base import ExportError, Trained, writer
from crnn_pl.model.crnn import CRNN
from crnn_pl.model.weights import load_crnn
from crnn_pl.runtime.formats import EXPORT_FORMATS, engine

log = logging.getLogger(__name__)

VERIFY_BATCH_SIZES = (1, 8)
WIDER = 1.6     # the second verification width, as a multiple of the training width


@dataclass
class Verification:
    max_abs_diff: float
    words_agree: int
    words: int
    shapes: list[list[int]]

    def words_ok(self, word_tolerance: float) -> bool:
        return self.words - self.words_agree <= word_tolerance * self.words


def verification_batches(images: list[ImageInput], card: ModelCard) -> list[np.ndarray]:
    """The images preprocessed at the training width and a wider one, in two batch sizes."""
    batches = []
    for width in (card.width, int(round(card.width * WIDER / 4)) * 4):
        spec = replace(card.spec, width=width)
        full = np.stack([prepare(image, spec) for image in images])
        batches += [full[:size] for size in VERIFY_BATCH_SIZES]
    return batches


def verify(name: str, path: Path, model: nn.Module, card: ModelCard,
           images: list[ImageInput], device: str = "cpu") -> Verification:
    run = engine(name).load(path, device)
    charset = card.make_charset()
    worst, agree, total, shapes = 0.0, 0, 0, []
    for batch in verification_batches(images, card):
        with torch.no_grad():
            expected = model(torch.from_numpy(batch)).float()
        actual = torch.from_numpy(np.asarray(run(batch), dtype=np.float32))
        if actual.shape != expected.shape:
            raise ExportError(f"{name}: output shape {tuple(actual.shape)} for input "
                              f"{batch.shape}, PyTorch gives {tuple(expected.shape)}")
        worst = max(worst, float((actual - expected).abs().max()))
        words = zip(decode(charset, actual), decode(charset, expected), strict=True)
        agree += sum(a == b for a, b in words)
        total += len(batch)
        shapes.append(list(batch.shape))
    return Verification(worst, agree, total, shapes)


def decode(charset: Charset, logits: torch.Tensor) -> list[str]:
    return [text for text, _ in charset.decode_greedy(logits)]


def export_checkpoint(checkpoint: Path, out_dir: Path, formats: list[str], images: list[ImageInput],
                      device: str = "cpu") -> dict:
    """Export, verify and describe every requested format; returns the manifest it writes."""
    unknown = sorted(set(formats) - set(EXPORT_FORMATS))
    if unknown:
        raise ExportError(f"unknown export formats {unknown}; choose from {list(EXPORT_FORMATS)}")
    if len(images) < max(VERIFY_BATCH_SIZES):
        raise ExportError(f"verification needs at least {max(VERIFY_BATCH_SIZES)} images, got {len(images)}")
    model, hparams = load_crnn(checkpoint)
    trained = Trained(model.float().eval(), hparams)
    card = trained.card
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CARD_FILE).write_text(card.to_json(), encoding="utf-8")
    manifest = {"checkpoint": str(checkpoint), "card": json.loads(card.to_json()), "formats": {}}
    onnx_path = None
    for name in ordered(formats):
        backend = writer(name)
        reason = backend.unavailable(device)
        if reason:
            manifest["formats"][name] = {"skipped": reason}
            print(f"skipped {name}: {reason}")
            continue
        if backend.needs_onnx and onnx_path is None:
            onnx_path = out_dir / writer("onnx").file_name
            writer("onnx").export(trained, onnx_path, None)
        path = out_dir / backend.file_name
        started = time.perf_counter()
        backend.export(trained, path, onnx_path)
        check = verify(name, path, model, card, images, device)
        entry = {"file": backend.file_name, "seconds": round(time.perf_counter() - started, 2),
                 "max_abs_diff": check.max_abs_diff, "tolerance": backend.tolerance,
                 "words_agree": check.words_agree, "words": check.words, "word_tolerance": backend.word_tolerance,
                 "shapes": check.shapes}
        manifest["formats"][name] = entry
        if name == "onnx":
            onnx_path = path
        print(f"{name:<12} {path}  max|diff| {check.max_abs_diff:.1e}  "
              f"words {check.words_agree}/{check.words} agree  {entry['seconds']:.1f} s")
        if check.max_abs_diff > backend.tolerance or not check.words_ok(backend.word_tolerance):
            write_manifest(out_dir, manifest)
            raise ExportError(f"{name} export does not match PyTorch: max |diff| {check.max_abs_diff:.2e} "
                              f"(tolerance {backend.tolerance:.0e}), {check.words_agree}/{check.words} words agree "
                              f"(at most {backend.word_tolerance:.0%} may differ)")
    write_manifest(out_dir, manifest)
    return manifest


def ordered(formats: list[str]) -> list[str]:
    """ONNX first when listed: Paddle and TensorRT are converted from it."""
    return sorted(dict.fromkeys(formats), key=lambda name: (name != "onnx", EXPORT_FORMATS.index(name)))


def write_manifest(out_dir: Path, manifest: dict) -> None:
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def verification_images(pattern: str | None, folder: Path, card: ModelCard, count: int = 8) -> list[Path]:
    """Image files to verify with: those matching `pattern`, or `count` rendered words saved
    as PNG files in `folder` (seeded: the same words every time)."""
    if pattern:
        paths = [Path(p) for p in sorted(glob.glob(pattern, recursive=True))]
        if len(paths) < max(VERIFY_BATCH_SIZES):
            raise ExportError(f"export.images={pattern!r} matches {len(paths)} files; "
                              f"verification needs at least {max(VERIFY_BATCH_SIZES)}")
        return paths
    from PIL import Image

    from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer

    settings = RenderSettings.from_config({"max_length": min(10, CRNN.num_frames(card.width) - 1)})
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (image, label) in enumerate(WordRenderer(card.make_charset(), settings).samples(count, seed=2024)):
        # the label only where a file name can hold it (printable94 writes `/`, `*`, `?` and empty ones)
        safe = "".join(c for c in label if c.isalnum())
        path = folder / (f"{index:02d}_{safe}.png" if safe else f"{index:02d}.png")
        Image.fromarray(image).save(path)
        paths.append(path)
    return paths
