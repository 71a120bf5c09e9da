"""The text-recognition LMDB layout: `num-samples`, then `image-%09d` / `label-%09d`, 1-based.

This is the layout of the MJSynth/SynthText releases used by most recognition papers.
Readers open each database read-only and lazily in the process that reads it, so forked
DataLoader workers and DDP ranks each hold their own handle. Setting up scans every label and
decodes every image whose label is kept (up to `verify_limit` images per database; a seeded sample
of that many beyond it, as the summary says), as the folder datasets do, so an unreadable image is
counted (or, with dataset.strict=true, an error) before training, never met in a worker. The kept
keys are cached per (database, charset, width, policy, check), so a second run over MJSynth's
8.9M labels starts at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import lmdb
import numpy as np
from torch.utils.data import Dataset

from crnn_pl.core.decode import to_array
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.augment import Augmenter
from crnn_pl.data.labels import UNREADABLE, DataError, LabelFilter, LoadReport
from crnn_pl.data.progress import progress
from crnn_pl.data.words import RawSample, Sample, load_sample, seeded

log = logging.getLogger(__name__)

NUM_SAMPLES = b"num-samples"
INDEX_VERSION = 2       # 2: images decoded at setup
MISSING_LABEL = "missing label"


def image_key(index: int) -> bytes:
    return b"image-%09d" % index


def label_key(index: int) -> bytes:
    return b"label-%09d" % index


class LmdbRoot:
    """One LMDB database, opened read-only on first use in each process.

    Get them with `LmdbRoot.shared(path)`: the library allows one open handle per file and
    process, so every split and DataModule reading the same database shares one instance.
    """

    _instances: dict[Path, LmdbRoot] = {}

    @classmethod
    def shared(cls, path: str | Path) -> LmdbRoot:
        key = Path(path).resolve()
        if key not in cls._instances:
            cls._instances[key] = cls(path)
        return cls._instances[key]

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / "data.mdb").is_file() and not self.path.is_file():
            raise DataError(f"{self.path}: no LMDB database here (expected {self.path / 'data.mdb'})")
        self._env: lmdb.Environment | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict:
        return {"path": self.path, "_env": None, "_pid": None}

    @property
    def env(self) -> lmdb.Environment:
        if self._env is not None and self._pid != os.getpid():
            # Forked after the parent opened it: the inherited handle must not be used, and the
            # library refuses a second open of the same file until it is released.
            self._env.close()
            self._env = None
        if self._env is None:
            self._env = lmdb.open(str(self.path), subdir=self.path.is_dir(), readonly=True, lock=False,
                                  readahead=False, meminit=False, max_readers=512)
            self._pid = os.getpid()
        return self._env

    def num_samples(self) -> int:
        with self.env.begin() as txn:
            value = txn.get(NUM_SAMPLES)
        if value is None:
            raise DataError(f"{self.path}: no 'num-samples' key; not a text-recognition LMDB "
                            "(num-samples, image-%09d, label-%09d, 1-based)")
        try:
            return int(value)
        except ValueError:
            raise DataError(f"{self.path}: 'num-samples' is {value[:20]!r}, not a number") from None

    def get(self, index: int) -> tuple[bytes | None, str | None]:
        with self.env.begin() as txn:
            image, label = txn.get(image_key(index)), txn.get(label_key(index))
        return image, None if label is None else label.decode("utf-8", errors="replace")

    def labels(self) -> dict[int, str]:
        """Every label of indices 1..num-samples, read with one cursor pass (keys outside the
        layout, such as `label-xyz`, are not samples and are passed over)."""
        count = self.num_samples()
        found: dict[int, str] = {}
        with self.env.begin() as txn:
            cursor = txn.cursor()
            if cursor.set_range(b"label-"):
                for key, value in progress(cursor, f"reading labels of {self.path.name}", total=count):
                    if not key.startswith(b"label-"):
                        break
                    index = int(key[6:]) if key[6:].isdigit() else 0
                    if 1 <= index <= count:
                        found[index] = value.decode("utf-8", errors="replace")
        return found

    def unreadable(self, keys: np.ndarray, what: str) -> dict[int, str]:
        """Key -> why, for each of `keys` whose image is missing or does not decode."""
        failures: dict[int, str] = {}
        with self.env.begin() as txn:
            for key in progress(keys.tolist(), what):
                image = txn.get(image_key(key))
                try:
                    if image is None:
                        raise ValueError("no image under this key")
                    to_array(image, channels=1)
                except ValueError as error:
                    failures[key] = str(error)
        return failures

    def close(self) -> None:
        if self._env is not None and self._pid == os.getpid():
            self._env.close()
        self._env = None

    def fingerprint(self) -> str:
        data = self.path / "data.mdb" if self.path.is_dir() else self.path
        stat = data.stat()
        return f"{self.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def index_root(root: LmdbRoot, label_filter: LabelFilter, report: LoadReport,
               cache_dir: Path | None, verify_limit: int = 0) -> np.ndarray:
    """The 1-based keys of `root` whose labels pass the filter and whose images decode (up to
    `verify_limit` of them checked; 0 checks none), from the cache when it has them."""
    cache_file = None
    if cache_dir is not None:
        filter_id = (f"{INDEX_VERSION}|{root.fingerprint()}|{label_filter.charset.characters}|"
                     f"{label_filter.charset.case_sensitive}|{label_filter.max_frames}|"
                     f"{label_filter.unknown_characters}|{label_filter.as_written}|{verify_limit}")
        cache_file = Path(cache_dir) / f"{hashlib.sha1(filter_id.encode()).hexdigest()}.npz"
        if cache_file.is_file():
            cached = np.load(cache_file)
            counts = LoadReport.from_dict(json.loads(str(cached["report"])), strict=report.strict)
            merge_reports(report, counts)
            return cached["keys"]
    own = LoadReport(str(root.path), strict=report.strict)
    kept = keys_with_labels(root, label_filter, own)
    if verify_limit > 0:
        kept = keys_with_images(root, kept, verify_limit, own)
    own.kept += len(kept)
    root.close()    # DataLoader workers fork after this: they open their own handles
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(f".{os.getpid()}.npz")
        np.savez(temporary, keys=kept, report=json.dumps(own.to_dict()))
        os.replace(temporary, cache_file)   # atomic: several ranks may index at once
    merge_reports(report, own)
    return kept


def keys_with_labels(root: LmdbRoot, label_filter: LabelFilter, report: LoadReport) -> np.ndarray:
    """Keys whose label the filter keeps; each skip counted. Missing labels are counted at once,
    so a `num-samples` far beyond the keys there are costs nothing."""
    count, labels = root.num_samples(), root.labels()
    missing = max(count, 0) - len(labels)
    if missing:
        first = next(index for index in range(1, len(labels) + 2) if index not in labels)
        report.skip(MISSING_LABEL, f"{root.path}:label-{first:09d}", missing)
    keys = []
    for index in sorted(labels):
        cleaned, reason = label_filter.clean(labels[index])
        if reason:
            report.skip(reason, f"{root.path}:label-{index:09d}: {labels[index]!r}")
            continue
        keys.append(index)
    return np.asarray(keys, dtype=np.int64)


def keys_with_images(root: LmdbRoot, keys: np.ndarray, limit: int, report: LoadReport) -> np.ndarray:
    """`keys` less those whose image does not decode: all of them checked, or a seeded sample of
    `limit` when there are more (the report says so; the rest are met, and dropped, in training)."""
    checked = keys
    if len(keys) > limit:
        checked = np.sort(np.random.default_rng(0).choice(keys, limit, replace=False))
        report.notes.append(f"decoded a sample of {limit:,} of the {len(keys):,} images (dataset.verify_limit); "
                            "an unreadable one outside it is dropped from its batch in training")
    failures = root.unreadable(checked, f"checking images of {root.path.name}")
    for key, error in failures.items():
        report.skip(UNREADABLE, f"{root.path}:image-{key:09d}: {error}")
    return keys[~np.isin(keys, list(failures))] if failures else keys


def merge_reports(total: LoadReport, part: LoadReport) -> None:
    total.kept += part.kept
    total.skipped.update(part.skipped)
    for reason, places in part.examples.items():
        shown = total.examples.setdefault(reason, [])
        shown.extend(places[: max(0, total.max_examples - len(shown))])


class LmdbWordDataset(Dataset):
    """The kept samples of one or more LMDB roots, concatenated (e.g. MJSynth + SynthText)."""

    def __init__(self, roots: list[LmdbRoot], keys: list[np.ndarray], label_filter: LabelFilter,
                 spec: ImageSpec, augment: Augmenter | None = None) -> None:
        self.roots = roots
        self.root_ids = np.concatenate([np.full(len(k), i, np.int32) for i, k in enumerate(keys)])
        self.keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        self.label_filter, self.spec, self.augment = label_filter, spec, augment

    def __len__(self) -> int:
        return len(self.keys)

    def raw(self, sample_key: int) -> RawSample:
        index = sample_key % len(self.keys)
        root, key = self.roots[self.root_ids[index]], int(self.keys[index])
        name = f"{root.path}:image-{key:09d}"
        image, label = root.get(key)
        if image is None or label is None:
            return RawSample(None, "", name)
        return RawSample(image, self.label_filter.clean(label)[0], name)

    def __getitem__(self, sample_key: int) -> Sample | None:
        image, label, name = self.raw(sample_key)
        if image is None:
            log.warning("skipping %s: image or label missing", name)
            return None
        return load_sample(image, label, name, self.spec, seeded(self.augment, sample_key))


class LmdbWriter:
    """Writes samples in the standard layout; `num-samples` goes in last, on close."""

    def __init__(self, path: str | Path, commit_every: int = 1000) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.env = lmdb.open(str(self.path), map_size=64 << 20)
        self.commit_every = commit_every
        self.count = 0
        self.pending: list[tuple[bytes, bytes]] = []

    def add(self, image: bytes, label: str) -> None:
        self.count += 1
        self.pending += [(image_key(self.count), image), (label_key(self.count), label.encode("utf-8"))]
        if len(self.pending) >= 2 * self.commit_every:
            self.flush()

    def flush(self) -> None:
        while True:
            try:
                with self.env.begin(write=True) as txn:
                    for key, value in self.pending:
                        txn.put(key, value)
                break
            except lmdb.MapFullError:
                self.env.set_mapsize(self.env.info()["map_size"] * 2)
        self.pending = []

    def close(self) -> None:
        self.pending.append((NUM_SAMPLES, str(self.count).encode()))
        self.flush()
        self.env.close()

    def __enter__(self) -> LmdbWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
