"""DataModules: rendered words (the default, no download), ICDAR 2015-format folders, LMDBs.

They share one base: the charset and image spec, the label filter (charset, frame count,
policy for unknown characters), the skip reports printed at setup, train-time augmentation
and the loaders. Subclasses only say how to load a split.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader, Dataset

from crnn_pl.core.charset import Charset
from crnn_pl.core.errors import ConfigError
from crnn_pl.core.metrics import alnum36
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.augment import build_augment
from crnn_pl.data.ground_truth import Entry, check_entries, read_icdar15
from crnn_pl.data.labels import DataError, LabelFilter, LoadReport
from crnn_pl.data.lmdb_store import LmdbRoot, LmdbWordDataset, index_root
from crnn_pl.data.sampling import EpochSampler
from crnn_pl.data.synth.dataset import SynthWordDataset
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.data.words import FileWordDataset, collate_words
from crnn_pl.model.crnn import CRNN

log = logging.getLogger(__name__)

SPLITS_FOR_STAGE = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ("test",)}


def word_loader(dataset: Dataset, batch_size: int, num_workers: int, shuffle: bool,
                seed: int = 0) -> DataLoader:
    """Training (`shuffle`): seeded per epoch, equal shards per DDP rank, last partial batch
    dropped. Evaluation: every sample once, in order, split across ranks."""
    sampler = EpochSampler(len(dataset), seed=seed, shuffle=shuffle, equal_shards=shuffle)
    return DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, num_workers=num_workers,
        persistent_workers=num_workers > 0, drop_last=shuffle, collate_fn=collate_words,
    )


class WordDataModule(L.LightningDataModule):
    """What every word dataset shares; subclasses implement `load_split(split)`."""

    name = "words"

    def __init__(
        self,
        charset: str,
        case_sensitive: bool = False,
        height: int = 32,
        width: int = 100,
        channels: int = 1,
        mean: float = 0.5,
        std: float = 0.5,
        batch_size: int = 64,
        num_workers: int = 1,
        augment: dict | None = None,
        unknown_characters: str = "drop",
        strict: bool = False,
        seed: int = 0,
        labels_as_written: bool = False,
    ) -> None:
        super().__init__()
        for key, value, low in (("batch_size", batch_size, 1), ("num_workers", num_workers, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ConfigError(f"dataset.{key}={value!r}: must be a whole number, at least {low}")
        self.charset = Charset(charset, case_sensitive)
        self.spec = ImageSpec(height=height, width=width, channels=channels, mean=mean, std=std)
        self.label_filter = LabelFilter(self.charset, CRNN.num_frames(width), unknown_characters)
        # Evaluation only (crnn-eval, never training): every sample, its label as written (LabelFilter)
        self.labels_as_written = labels_as_written
        self.augment = build_augment(augment)
        self.batch_size, self.num_workers, self.strict, self.seed = batch_size, num_workers, strict, seed
        self.datasets: dict[str, Dataset] = {}
        self.reports: dict[str, LoadReport] = {}

    def setup(self, stage: str | None = None) -> None:
        for split in SPLITS_FOR_STAGE.get(stage or "fit", ("train", "val")):
            if split not in self.datasets:
                self.datasets[split] = self.load_split(split)
            if len(self.datasets[split]) == 0:
                report = self.reports.get(split)
                detail = f" ({report.name}: all {report.total:,} skipped, as printed above)" if report else ""
                raise DataError(f"{self.name}: the {split} split holds no usable sample{detail}")

    def load_split(self, split: str) -> Dataset:
        raise NotImplementedError

    def filter_for(self, split: str) -> LabelFilter:
        """Training's filter; for evaluation (`labels_as_written`) the as-written one, except on the
        train split, from which a held-out validation split must be chosen as training chose it."""
        if self.labels_as_written and split != "train":
            return replace(self.label_filter, as_written=True)
        return self.label_filter

    def new_report(self, split: str, source: str | Path) -> LoadReport:
        """A report for this split; the loader prints its summary once it is filled."""
        report = LoadReport(f"{self.name} {split} ({source})", strict=self.strict)
        self.reports[split] = report
        return report

    def train_dataloader(self) -> DataLoader:
        world = self.trainer.world_size if self.trainer is not None else 1
        if self.steps_per_epoch(world) == 0:
            # incomplete batches are dropped, so the run would end at once, having trained nothing
            raise DataError(f"{self.name}: the training split holds {len(self.datasets['train']):,} samples, fewer "
                            f"than one batch of dataset.batch_size={self.batch_size}"
                            + (f" on each of {world} ranks" if world > 1 else "") + ": lower dataset.batch_size")
        loader = word_loader(self.datasets["train"], self.batch_size, self.num_workers, shuffle=True, seed=self.seed)
        self.continue_where_stopped(loader.sampler)
        return loader

    def steps_per_epoch(self, world_size: int = 1) -> int:
        """Training batches per epoch and rank, known without building a loader (the
        LightningModule sizes its LR schedule with it before a resumed run restores its place)."""
        return len(self.datasets["train"]) // world_size // self.batch_size

    def continue_where_stopped(self, sampler: EpochSampler) -> None:
        """On resume, start at the epoch and batch the checkpoint had reached, so the resumed
        run reads exactly what the uninterrupted one would have (Lightning restores its loops
        before it asks for the loader)."""
        trainer = self.trainer
        if trainer is None:
            return
        loop = trainer.fit_loop
        sampler.set_epoch(loop.epoch_progress.current.processed)
        done = loop.epoch_loop.batch_progress.current.processed
        if loop.restarting and 0 < done < len(sampler) // self.batch_size:
            sampler.skip(done * self.batch_size)

    def val_dataloader(self) -> DataLoader:
        return word_loader(self.datasets["val"], self.batch_size, self.num_workers, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return word_loader(self.datasets["test"], self.batch_size, self.num_workers, shuffle=False)


class SynthDataModule(WordDataModule):
    """Words rendered on the fly with bundled fonts: `train_size` fresh words per epoch and a
    fixed, seeded validation (and test) set of `val_size` words."""

    name = "synth"

    def __init__(self, charset: str, train_size: int = 20_000, val_size: int = 2_000, val_seed: int = 1234,
                 render: dict | None = None, **common) -> None:
        super().__init__(charset, **common)
        for key, value in (("train_size", train_size), ("val_size", val_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"dataset.{key}={value!r}: must be a whole number, at least 1")
        settings = RenderSettings.from_config(render)
        frames = CRNN.num_frames(self.spec.width)
        if settings.max_length >= frames:
            # CTC needs a frame per character, plus a blank between repeated characters.
            raise ConfigError(f"dataset.render.max_length={settings.max_length} is too long for "
                             f"width {self.spec.width} ({frames} frames); use at most {frames - 1}")
        self.renderer = WordRenderer(self.charset, settings)
        self.train_size, self.val_size, self.val_seed = train_size, val_size, val_seed

    def load_split(self, split: str) -> Dataset:
        if split == "train":
            rank_zero_info(f"synth: {len(self.renderer.fonts)} fonts, {len(self.renderer.vocabulary)} "
                           f"vocabulary words, {self.train_size} fresh words per epoch, "
                           f"{self.val_size} fixed validation words")
            for line in self.renderer.report_lines:
                rank_zero_info(f"synth: {line}")
            return SynthWordDataset(self.renderer, self.spec, self.train_size, seed=self.seed,
                                    fresh_every_epoch=True, augment=self.augment)
        return SynthWordDataset(self.renderer, self.spec, self.val_size, seed=self.val_seed)


class Icdar15DataModule(WordDataModule):
    """Folders of crops with an ICDAR 2015 Challenge 4 ground-truth file (or your own crops).

    Without a `val_dir`, `val_fraction` of the training folder is held out for validation
    (the same files every run, chosen by `split_seed`); the test split is the test folder.
    """

    name = "icdar15"

    def __init__(self, charset: str, train_dir: str | None = None, train_gt: str | None = None,
                 val_dir: str | None = None, val_gt: str | None = None, val_fraction: float = 0.1,
                 test_dir: str | None = None, test_gt: str | None = None,
                 gt_name: str = "gt.txt", test_gt_name: str = "Challenge4_Test_Task3_GT.txt",
                 split_seed: int = 0, verify_images: bool = True, **common) -> None:
        super().__init__(charset, **common)
        if not 0 < val_fraction < 1:
            raise ConfigError(f"dataset.val_fraction={val_fraction!r}: must be above 0 and below 1")
        self.folders = {"train": (train_dir, train_gt, gt_name), "val": (val_dir, val_gt, gt_name),
                        "test": (test_dir, test_gt, test_gt_name)}
        self.val_fraction, self.split_seed, self.verify_images = val_fraction, split_seed, verify_images
        self._held_out: list[Entry] | None = None

    def load_split(self, split: str) -> Dataset:
        if split == "val" and self.folders["val"][0] is None:
            if self._held_out is None:      # validating before fitting: the hold-out needs train read
                self.datasets["train"] = self.load_split("train")
            return FileWordDataset(self.pairs(self._held_out), self.spec)
        entries = self.read_folder(split)
        if split == "train" and self.folders["val"][0] is None:
            entries, self._held_out = self.hold_out(entries)
            rank_zero_info(f"icdar15: {len(self._held_out)} of the training crops held out for validation "
                           f"(dataset.val_fraction={self.val_fraction})")
        augment = self.augment if split == "train" else None
        return FileWordDataset(self.pairs(entries), self.spec, augment)

    def pairs(self, entries: list[Entry]) -> list[tuple[Path, str]]:
        """(image, label): the label as training compares it, or as written for evaluation."""
        return [(e.path, e.written if self.labels_as_written and e.written else e.label) for e in entries]

    def read_folder(self, split: str) -> list[Entry]:
        folder, gt, gt_name = self.folders[split]
        if folder is None:
            raise DataError(f"dataset.{split}_dir is not set: point it at a folder of crops "
                            f"with a {gt_name} ground-truth file")
        image_dir = Path(folder)
        if not image_dir.is_dir():
            raise DataError(f"{image_dir}: folder not found (dataset.{split}_dir)")
        gt_path = Path(gt) if gt else self.find_ground_truth(image_dir, gt_name, split)
        report = self.new_report(split, gt_path)
        entries = check_entries(read_icdar15(gt_path, image_dir), report, self.filter_for(split),
                                self.verify_images, f"checking {split} images")
        rank_zero_info(report.summary())
        return entries

    @staticmethod
    def find_ground_truth(image_dir: Path, gt_name: str, split: str) -> Path:
        """Inside the folder, or beside it (the official test ground truth ships separately)."""
        candidates = [image_dir / gt_name, image_dir.parent / gt_name]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise DataError(f"no ground-truth file for {image_dir}: tried {', '.join(map(str, candidates))}; "
                        f"set dataset.{split}_gt=<file>")

    def hold_out(self, entries: list[Entry]) -> tuple[list[Entry], list[Entry]]:
        """`val_fraction` of the crops labelled with letters and digits only, and apart from them the
        same fraction of the others (punctuation), each drawn by `split_seed`: a charset that keeps
        more labels holds out more crops, never other ones, so a model fine-tuned from another
        (printable94 from alnum36 `en`) is scored on crops neither ever trained on."""
        plain = [e for e in entries if alnum36(e.label) == e.label.lower()]
        others = [e for e in entries if alnum36(e.label) != e.label.lower()]
        held = {id(e) for group in (plain, others) for e in self.draw(group)}
        if not held or len(held) == len(entries):
            raise DataError(f"dataset.val_fraction={self.val_fraction} of {len(entries)} kept training "
                            "crops leaves no training or no validation data; set dataset.val_dir")
        return [e for e in entries if id(e) not in held], [e for e in entries if id(e) in held]

    def draw(self, entries: list[Entry]) -> list[Entry]:
        order = np.random.default_rng(self.split_seed).permutation(len(entries))
        return [entries[i] for i in order[:int(round(len(entries) * self.val_fraction))]]


class LmdbDataModule(WordDataModule):
    """One or more text-recognition LMDBs per split, concatenated (e.g. MJSynth + SynthText)."""

    name = "lmdb"

    def __init__(self, charset: str, train_roots: list[str] | None = None, val_roots: list[str] | None = None,
                 test_roots: list[str] | None = None, cache_dir: str | None = None, verify_images: bool = True,
                 verify_limit: int = 500_000, **common) -> None:
        super().__init__(charset, **common)
        self.roots = {"train": train_roots or [], "val": val_roots or [], "test": test_roots or []}
        self.cache_dir = Path(cache_dir) if cache_dir else None
        if verify_limit < 1:
            raise ConfigError(f"dataset.verify_limit={verify_limit}: must be at least 1 "
                              "(dataset.verify_images=false checks no image)")
        self.verify_limit = verify_limit if verify_images else 0

    def load_split(self, split: str) -> Dataset:
        paths = self.roots[split]
        if not paths:
            raise DataError(f"dataset.{split}_roots is empty: list one or more LMDB folders")
        roots = [LmdbRoot.shared(path) for path in paths]
        report = self.new_report(split, ", ".join(map(str, paths)))
        keys = [index_root(root, self.filter_for(split), report, self.cache_dir, self.verify_limit) for root in roots]
        rank_zero_info(report.summary())
        augment = self.augment if split == "train" else None
        return LmdbWordDataset(roots, keys, self.filter_for(split), self.spec, augment)
