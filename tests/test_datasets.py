"""ICDAR 2015 folders and LMDBs from files on disk, bad inputs included, through the DataModules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lmdb
import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_train
from crnn_pl.core.charset import Charset
from crnn_pl.data.datamodule import Icdar15DataModule, LmdbDataModule
from crnn_pl.data.ground_truth import format_icdar15_line
from crnn_pl.data.labels import (
    EMPTY_LABEL,
    MALFORMED,
    MISSING_FILE,
    OUTSIDE_CHARSET,
    TOO_LONG,
    UNREADABLE,
    DataError,
    LabelFilter,
)
from crnn_pl.data.lmdb_store import LmdbRoot, LmdbWriter
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.data.words import collate_words

ALNUM36 = "0123456789abcdefghijklmnopqrstuvwxyz"
PRINTABLE94 = Charset.preset("printable94").characters
PLAIN_WORDS = ["street", "coffee", "open", "exit", "hotel", "bank", "sale", "taxi"]
SHARED_ICDAR15 = REPO.parent / "shared" / "data" / "icdar15" / "ch4_training_word_images_gt"
TINY_MODEL = ("model.conv_channels=[16,32,48,48,96,96,96]", "model.hidden_size=64")


def render(text: str, index: int) -> np.ndarray:
    renderer = WordRenderer(Charset.preset("printable94"), RenderSettings.from_config({"max_length": 30}))
    return renderer.render(text, np.random.default_rng([3, index]))


@pytest.fixture(scope="session")
def icdar_folder(tmp_path_factory) -> Path:
    """An ICDAR 2015-format folder with every kind of trouble a real one has (see gt lines)."""
    folder = tmp_path_factory.mktemp("icdar15")
    gray = np.asarray(Image.fromarray(render("sixteen", 6)).convert("L"), np.uint16) * 257
    images = {
        "word_1.png": Image.fromarray(render("Genaxis", 1)),
        "word_2.png": Image.fromarray(render('"SCAN"', 2)),
        "word_3.png": Image.fromarray(render("62,03", 3)),
        "word_4.png": Image.fromarray(render("CAFE", 4)),
        "word_6.png": Image.fromarray(gray),                                  # 16-bit grayscale
        "word_7.png": Image.fromarray(render("alpha", 7)).convert("RGBA"),    # RGBA
        "word_10.png": Image.fromarray(render("x", 10)),
        "word_11.png": Image.fromarray(render("a" * 3, 11)),
        "word_12.png": Image.fromarray(render("palette", 12)).convert("P"),  # palette
    }
    for number, word in enumerate(PLAIN_WORDS, 14):
        images[f"word_{number}.png"] = Image.fromarray(render(word, number))
    for name, image in images.items():
        image.save(folder / name)
    assert Image.open(folder / "word_6.png").mode.startswith("I;16")
    good = (folder / "word_1.png").read_bytes()
    (folder / "word_5.png").write_bytes(good[: len(good) // 2])               # truncated PNG
    (folder / "word_13.png").write_bytes(b"")                                  # zero-size file
    lines = [
        'word_1.png, "Genaxis"',
        'word_2.png, "\\"SCAN\\""',          # escaped quotes
        'word_3.png, "62,03"',               # comma inside the label
        'word_4.png, "CAFÉ"',                # non-ASCII
        'word_5.png, "truncated"',
        'word_6.png, "sixteen"',
        'word_7.png, "alpha"',
        'word_8.png, "missing"',             # no such file
        'word_9.png "no comma"',             # malformed
        'word_10.png, ""',                   # empty label
        f'word_11.png, "{"ab" * 14}"',       # 28 characters: more than 26 frames
        'word_12.png, "palette"',
        'word_13.png, "zero"',
    ] + [f'word_{number}.png, "{word}"' for number, word in enumerate(PLAIN_WORDS, 14)]
    text = "\ufeff" + "\r\n".join(lines) + "\r\n"
    (folder / "gt.txt").write_bytes(text.encode("utf-8"))
    return folder


@pytest.fixture(scope="session")
def fixture_lmdb(icdar_folder, tmp_path_factory) -> tuple[Path, str]:
    """The fixture folder converted by the real `crnn-make-lmdb` console script."""
    output = tmp_path_factory.mktemp("lmdb") / "words"
    command = [str(Path(sys.executable).parent / "crnn-make-lmdb"), str(output), "--icdar15", str(icdar_folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return output, result.stdout


def icdar_module(folder: Path, charset: str = ALNUM36, **options) -> Icdar15DataModule:
    return Icdar15DataModule(charset=charset, train_dir=str(folder), val_fraction=0.25, batch_size=4,
                             num_workers=0, **options)


def test_icdar15_folder_keeps_and_skips_exactly(icdar_folder):
    module = icdar_module(icdar_folder)
    module.setup("fit")
    report = module.reports["train"]
    assert report.kept == 12
    assert dict(report.skipped) == {OUTSIDE_CHARSET: 3, UNREADABLE: 2, MISSING_FILE: 1, MALFORMED: 1,
                                    EMPTY_LABEL: 1, TOO_LONG: 1}
    assert "gt.txt:9" in report.examples[MALFORMED][0]
    assert "word_8.png" in report.examples[MISSING_FILE][0]
    assert len(module.datasets["train"]) == 9 and len(module.datasets["val"]) == 3
    labels = sorted(label for _, label in module.datasets["train"].samples + module.datasets["val"].samples)
    assert labels == sorted(["genaxis", "sixteen", "alpha", "palette", *PLAIN_WORDS])
    batch = next(iter(module.train_dataloader()))
    assert batch.images.shape == (4, 1, 32, 100) and batch.dropped == 0


def test_a_wider_charset_holds_out_more_crops_never_other_ones(tmp_path):
    """printable94 fine-tuned from alnum36 `en` must be scored on crops neither trained on: its
    held-out crops are alnum36's plus a share of the punctuated ones alnum36 skips."""
    words = [f"word{i}" for i in range(60)] + [f"${i}.99" for i in range(20)] + [f"SALE{i}%" for i in range(20)]
    image = Image.new("RGB", (60, 20), "white")
    lines = []
    for index, word in enumerate(words):
        image.save(tmp_path / f"word_{index}.png")
        lines.append(format_icdar15_line(f"word_{index}.png", word))
    (tmp_path / "gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    held = {}
    for name, charset, case_sensitive in (("alnum36", ALNUM36, False), ("printable94", PRINTABLE94, True)):
        module = Icdar15DataModule(charset=charset, case_sensitive=case_sensitive, train_dir=str(tmp_path),
                                   val_fraction=0.1, num_workers=0, verify_images=False)
        module.setup("fit")
        held[name] = {path.name for path, _ in module.datasets["val"].samples}
        trained = {path.name for path, _ in module.datasets["train"].samples}
        assert not held[name] & trained
    assert len(held["alnum36"]) == 6 and held["alnum36"] < held["printable94"]
    assert len(held["printable94"] - held["alnum36"]) == 4        # a tenth of the 40 punctuated crops


def test_evaluation_holds_out_the_crops_training_held_out_with_labels_as_written(icdar_folder):
    """crnn-eval (labels_as_written) must score the very crops training kept out of its training
    split, whatever it keeps elsewhere, and compare them with their labels as the file writes them."""
    training, evaluation = icdar_module(icdar_folder), icdar_module(icdar_folder, labels_as_written=True)
    training.setup("validate")
    evaluation.setup("validate")
    held_out, scored = training.datasets["val"].samples, evaluation.datasets["val"].samples
    assert [path for path, _ in scored] == [path for path, _ in held_out] and len(held_out) == 3
    assert [label.lower() for _, label in scored] == [label for _, label in held_out]
    assert any(label != label.lower() for _, label in evaluation.datasets["train"].samples + scored)   # as written
    every = icdar_module(icdar_folder, test_dir=str(icdar_folder), test_gt_name="gt.txt", labels_as_written=True)
    every.setup("test")
    assert every.reports["test"].kept > training.reports["train"].kept    # outside the charset: still scored


def test_case_sensitive_charset_keeps_quotes_and_commas(icdar_folder):
    module = icdar_module(icdar_folder, charset=PRINTABLE94, case_sensitive=True)
    module.setup("fit")
    report = module.reports["train"]
    assert report.kept == 14 and report.skipped[OUTSIDE_CHARSET] == 1     # only CAFÉ
    labels = {label for _, label in module.datasets["train"].samples + module.datasets["val"].samples}
    assert {'"SCAN"', "62,03", "Genaxis"} <= labels


def test_strict_mode_names_the_first_bad_line(icdar_folder):
    module = icdar_module(icdar_folder, strict=True)
    with pytest.raises(DataError, match=r"gt\.txt:2: .*characters outside the charset"):
        module.setup("fit")


def test_missing_ground_truth_and_folder_are_clear_errors(icdar_folder, tmp_path):
    with pytest.raises(DataError, match="no ground-truth file"):
        icdar_module(tmp_path).setup("fit")
    with pytest.raises(DataError, match="folder not found"):
        icdar_module(tmp_path / "nowhere").setup("fit")
    with pytest.raises(DataError, match="nope.txt: ground-truth file not found"):
        icdar_module(icdar_folder, train_gt=str(tmp_path / "nope.txt")).setup("fit")


def test_fold_case_policy_maps_to_the_charset_case():
    lower_only = Charset("abc", case_sensitive=True)
    drop = LabelFilter(lower_only, max_frames=26, unknown_characters="drop")
    fold = LabelFilter(lower_only, max_frames=26, unknown_characters="fold_case")
    assert drop.clean("CAB") == (None, OUTSIDE_CHARSET)
    assert fold.clean("CAB") == ("cab", None)
    assert fold.clean("CAD") == (None, OUTSIDE_CHARSET)
    assert fold.clean("aa" * 13)[1] == TOO_LONG          # 26 chars + 13 blanks between repeats


def test_make_lmdb_verifies_and_reports(fixture_lmdb):
    _, output = fixture_lmdb
    assert "kept 16 of 21 samples" in output
    assert "skipped 2: unreadable image" in output
    assert "skipped 1: missing image file" in output
    assert "skipped 1: malformed ground-truth line" in output
    assert "skipped 1: empty label" in output
    assert "wrote 16 samples" in output


def test_lmdb_datamodule_filters_once_and_caches(fixture_lmdb, tmp_path, monkeypatch):
    root, _ = fixture_lmdb
    cache = tmp_path / "cache"
    scans = []
    scan = LmdbRoot.labels

    def counted(self):
        scans.append(self.path)
        return scan(self)

    monkeypatch.setattr(LmdbRoot, "labels", counted)
    for setup in range(2):      # the second setup reads the cached index, with the same counts
        module = LmdbDataModule(charset=ALNUM36, train_roots=[str(root)], val_roots=[str(root)],
                                cache_dir=str(cache), batch_size=4, num_workers=0)
        module.setup("fit")
        report = module.reports["train"]
        assert report.kept == 12
        assert dict(report.skipped) == {OUTSIDE_CHARSET: 3, TOO_LONG: 1}
        assert len(list(cache.glob("*.npz"))) == 1
        if setup == 0:
            assert scans == [root]      # train scanned the labels; val, the same filter, hit the cache
            scans.clear()
    assert scans == [], "the second setup scanned the labels again instead of reading the cache"
    labels = sorted(module.datasets["train"][i][1] for i in range(len(module.datasets["train"])))
    assert labels == sorted(["genaxis", "sixteen", "alpha", "palette", *PLAIN_WORDS])


def test_two_workers_read_one_lmdb_each_sample_once(fixture_lmdb):
    root, _ = fixture_lmdb
    module = LmdbDataModule(charset=ALNUM36, train_roots=[str(root)], val_roots=[str(root)],
                            batch_size=3, num_workers=2)
    module.setup("validate")
    labels = [label for batch in module.val_dataloader() for label in batch.labels]
    assert sorted(labels) == sorted(["genaxis", "sixteen", "alpha", "palette", *PLAIN_WORDS])


def test_undecodable_lmdb_image_is_dropped_in_the_batch_not_raised(tmp_path):
    """An image not decoded at setup (verify_images=false, or outside verify_limit's sample) that
    fails in a worker is dropped from its batch and counted."""
    good = tmp_path / "good.png"
    Image.fromarray(render("fine", 0)).save(good)
    with LmdbWriter(tmp_path / "db") as writer:
        writer.add(good.read_bytes(), "fine")
        writer.add(b"\x89PNG not really", "broken")
        writer.add(good.read_bytes(), "fine")
    module = LmdbDataModule(charset=ALNUM36, val_roots=[str(tmp_path / "db")], batch_size=3, num_workers=2,
                            verify_images=False)
    module.setup("validate")
    batches = list(module.val_dataloader())
    assert len(batches) == 1
    assert batches[0].labels == ["fine", "fine"] and batches[0].dropped == 1


def test_lmdb_without_num_samples_is_a_clear_error(tmp_path):
    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"image-000000001", b"x")
        txn.put(b"label-000000001", b"x")
    env.close()
    module = LmdbDataModule(charset=ALNUM36, train_roots=[str(tmp_path / "db")], val_roots=[str(tmp_path / "db")])
    with pytest.raises(DataError, match=r"db: no 'num-samples' key"):
        module.setup("fit")
    with pytest.raises(DataError, match="no LMDB database here"):
        LmdbDataModule(charset=ALNUM36, train_roots=[str(tmp_path)], val_roots=[]).setup("fit")


def test_collate_counts_dropped_samples():
    batch = collate_words([None, None])
    assert batch.labels == [] and batch.dropped == 2


@pytest.mark.slow
def test_train_py_on_an_icdar15_folder(icdar_folder, tmp_path):
    result = run_train("dataset=icdar15", f"dataset.train_dir={icdar_folder}", "dataset.val_fraction=0.25",
                       "debug=fast", *TINY_MODEL, f"hydra.run.dir={tmp_path}")
    output = result.stdout + result.stderr
    assert "kept 12 of 21 samples" in output
    assert "val/acc" in output


@pytest.mark.slow
def test_train_py_on_an_lmdb(fixture_lmdb, tmp_path):
    root, _ = fixture_lmdb
    result = run_train("dataset=lmdb", f"dataset.train_roots=[{root}]", f"dataset.val_roots=[{root}]",
                       f"dataset.cache_dir={tmp_path / 'cache'}", "debug=fast", *TINY_MODEL,
                       f"hydra.run.dir={tmp_path}")
    output = result.stdout + result.stderr
    assert "kept 12 of 16 samples" in output
    assert "val/acc" in output


@pytest.mark.skipif(not SHARED_ICDAR15.is_dir(), reason="ICDAR 2015 training set not present")
def test_real_icdar15_training_set_loads_every_line():
    module = Icdar15DataModule(charset=ALNUM36, train_dir=str(SHARED_ICDAR15), batch_size=64, num_workers=0)
    module.setup("fit")
    report = module.reports["train"]
    assert report.total == 4468
    assert set(report.skipped) <= {OUTSIDE_CHARSET, TOO_LONG}      # no malformed line, no bad file
    assert report.kept > 3500
    batch = next(iter(module.train_dataloader()))
    assert batch.images.shape == (64, 1, 32, 100) and batch.dropped == 0


def test_make_lmdb_reads_tab_separated_lists_and_mjsynth_annotations(icdar_folder, tmp_path, capsys):
    from crnn_pl.cli import make_lmdb
    from crnn_pl.data.lmdb_store import LmdbRoot

    (tmp_path / "list.tsv").write_text(
        f"{icdar_folder}/word_1.png\tGenaxis\n{icdar_folder}/word_14.png\tstreet\nno tab here\n"
        f"{icdar_folder}/word_99.png\tghost\n", encoding="utf-8")
    assert make_lmdb.main([str(tmp_path / "tsv_db"), "--tsv", str(tmp_path / "list.tsv")]) == 0
    output = capsys.readouterr().out
    assert "kept 2 of 4 samples" in output and "list.tsv:3" in output and "word_99.png" in output

    crops = tmp_path / "mj" / "2425" / "1"
    crops.mkdir(parents=True)
    (crops / "115_Lube_45484.png").write_bytes((icdar_folder / "word_15.png").read_bytes())
    (tmp_path / "mj" / "annotation.txt").write_text("./2425/1/115_Lube_45484.png 45484\n./bad.png 3\n",
                                                    encoding="utf-8")
    assert make_lmdb.main([str(tmp_path / "mj_db"), "--mjsynth", str(tmp_path / "mj" / "annotation.txt")]) == 0
    assert "kept 1 of 2 samples" in capsys.readouterr().out
    root = LmdbRoot.shared(tmp_path / "mj_db")
    assert root.num_samples() == 1 and root.get(1)[1] == "Lube"
    # it exists: replaced only with --overwrite
    assert make_lmdb.main([str(tmp_path / "mj_db"), "--mjsynth", str(tmp_path / "mj" / "annotation.txt")]) == 1
