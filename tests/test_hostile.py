"""What a hostile test of the tools found (issue 26), one test per defect, run as a user runs them:
nothing of the user's is deleted, nothing hangs, no small file takes gigabytes, a model file that
describes itself wrongly is refused at load in one line, and the Python API fails per image."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from crnn_pl.core.errors import ConfigError, UserError
from crnn_pl.pretrained import PRETRAINED_DIR
from crnn_pl.runtime.engines.base import ModelLoadError
from crnn_pl.runtime.recognizer import Recognizer

BIN = Path(sys.executable).parent
EN_ONNX, EN_WEIGHTS = PRETRAINED_DIR / "en.onnx", PRETRAINED_DIR / "en.safetensors"


def crafting():
    """scripts/bench_untrusted.py: it crafts the same hostile files to measure what they cost."""
    spec = importlib.util.spec_from_file_location("bench_untrusted", REPO / "scripts" / "bench_untrusted.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CRAFT = crafting()
png_declaring, safetensors_with, onnx_with, with_hparams = (
    CRAFT.png_declaring, CRAFT.safetensors_with, CRAFT.onnx_with, CRAFT.with_hparams)


def tool(*arguments: str, cwd: Path, timeout: int = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / arguments[0]), *arguments[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_error_line(result: subprocess.CompletedProcess, status: int, *fragments: str) -> str:
    """The run stopped with `status` and one `error:` line holding every fragment, no traceback."""
    assert result.returncode == status, result.stdout[-2000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and all(f in errors[0] for f in fragments), result.stderr[-3000:]
    return errors[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def crops(word_files, tmp_path) -> Path:
    """A user's folder: ICDAR 2015-format crops with their gt.txt, and a notes file beside them."""
    paths, labels = word_files
    folder = tmp_path / "project" / "crops"
    folder.mkdir(parents=True)
    lines = []
    for path, label in zip(paths[:6], labels[:6], strict=True):
        shutil.copy(path, folder / path.name)
        lines.append(f'{path.name}, "{label}"')
    (folder / "gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "project" / "notes.txt").write_text("a user's own file", encoding="utf-8")
    return folder


# 1. Data loss ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_make_lmdb_never_deletes_its_source_or_a_folder_it_did_not_write(crops, tmp_path):
    project = crops.parent
    before = snapshot(project)
    one_error_line(tool("crnn-make-lmdb", str(crops), "--icdar15", str(crops), "--overwrite", cwd=tmp_path), 1,
                   str(crops), "holds the source")
    one_error_line(tool("crnn-make-lmdb", str(project), "--icdar15", str(crops), "--overwrite", cwd=tmp_path), 1,
                   str(project), "holds the source")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("months of work", encoding="utf-8")
    one_error_line(tool("crnn-make-lmdb", str(mine), "--icdar15", str(crops), "--overwrite", cwd=tmp_path), 1,
                   "not written by crnn-make-lmdb")
    assert snapshot(project) == before and (mine / "thesis.tex").read_text(encoding="utf-8") == "months of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "project"], "no staging folder left behind"


@pytest.mark.slow
def test_make_lmdb_replaces_only_its_own_database_and_only_once_the_new_one_is_written(crops, tmp_path):
    from crnn_pl.data.lmdb_store import LmdbRoot

    database = tmp_path / "db"
    assert tool("crnn-make-lmdb", str(database), "--icdar15", str(crops), cwd=tmp_path).returncode == 0
    written = snapshot(database)
    one_error_line(tool("crnn-make-lmdb", str(database), "--icdar15", str(crops), cwd=tmp_path), 1,
                   "exists; pass --overwrite")
    # a missing source: the existing database stays as it was
    one_error_line(tool("crnn-make-lmdb", str(database), "--icdar15", str(tmp_path / "gone"), "--overwrite",
                        cwd=tmp_path), 1, "ground-truth file not found")
    assert snapshot(database) == written
    # its own database is replaced
    (crops / "gt.txt").write_text((crops / "gt.txt").read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    result = tool("crnn-make-lmdb", str(database), "--icdar15", str(crops), "--overwrite", cwd=tmp_path)
    assert result.returncode == 0 and "wrote 5 samples" in result.stdout, result.stderr
    assert LmdbRoot(database).num_samples() == 5
    # once the user put a file of their own in it, it is theirs too
    (database / "README").write_text("what this database is", encoding="utf-8")
    one_error_line(tool("crnn-make-lmdb", str(database), "--icdar15", str(crops), "--overwrite", cwd=tmp_path), 1,
                   "did not write (README)")
    assert (database / "README").exists()


@pytest.mark.slow
def test_make_synth_refuses_counts_below_one_and_a_failed_run_leaves_the_old_output(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(b"a user's photo")
    for count in ("-1", "0"):
        one_error_line(tool("crnn-make-synth", str(folder), "--count", count, "--overwrite", cwd=tmp_path), 2,
                       "--count", "at least 1")
    one_error_line(tool("crnn-make-synth", str(folder), "--count", "3", "--overwrite", cwd=tmp_path), 1,
                   "not written by crnn-make-synth")
    assert snapshot(folder) == {"photo.jpg": b"a user's photo"}
    synth = tmp_path / "synth"
    assert tool("crnn-make-synth", str(synth), "--count", "3", cwd=tmp_path).returncode == 0
    written = snapshot(synth)
    assert sorted(written) == [".crnn_pl-output.json", "gt.txt", "word_1.png", "word_2.png", "word_3.png"]
    one_error_line(tool("crnn-make-synth", str(synth), "--count", "3", "--overwrite", "--vocabulary",
                        str(tmp_path / "missing.txt"), cwd=tmp_path), 1, "missing.txt")
    assert snapshot(synth) == written
    assert tool("crnn-make-synth", str(synth), "--count", "2", "--overwrite", cwd=tmp_path).returncode == 0
    assert "word_3.png" not in snapshot(synth)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "synth"]


# 2. Silent success on nothing, and every numeric option range-checked ------------------------------

@pytest.mark.parametrize("option, value", [("--batch-size", "0"), ("--batch-size", "-1"), ("--workers", "-1"),
                                           ("--min-confidence", "1.5"), ("--max-pixels", "0"),
                                           ("--batch-size", "ten")])
def test_crnn_predict_refuses_an_option_out_of_range_in_one_line(word_files, tmp_path, option, value):
    result = tool("crnn-predict", str(word_files[0][0]), option, value, cwd=tmp_path)
    one_error_line(result, 2, f"argument {option}:", value)
    assert result.stdout == ""


def test_recognizer_refuses_a_batch_size_or_workers_out_of_range(word_files):
    recognizer = Recognizer(EN_ONNX)
    with pytest.raises(ConfigError, match="batch_size=0"):
        recognizer.read(word_files[0][:2], batch_size=0)
    with pytest.raises(ConfigError, match="workers=-1"):
        recognizer.read(word_files[0][:2], workers=-1)
    with pytest.raises(ConfigError, match="max_pixels=0"):
        Recognizer(EN_ONNX, max_pixels=0)


# 3. Hangs ----------------------------------------------------------------------------------------

def test_a_fifo_given_or_in_a_folder_is_an_error_line_and_the_rest_is_read(word_files, tmp_path):
    folder = tmp_path / "crops"
    folder.mkdir()
    shutil.copy(word_files[0][0], folder / "good.png")
    os.mkfifo(folder / "pipe.png")
    result = tool("crnn-predict", str(folder), str(folder / "pipe.png"), cwd=tmp_path, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.count("good.png\t") == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {folder / 'pipe.png'}: not a regular file (a FIFO); only image files are read"] * 2


def many_words(word_files, tmp_path: Path, count: int) -> Path:
    """A folder of `count` word files (links to the fixture's sixteen), w0000.png on."""
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(count):
        os.link(word_files[0][index % 16], folder / f"w{index:04d}.png")
    return folder


@pytest.mark.slow
def test_ctrl_c_stops_at_once_with_what_was_read_printed(word_files, tmp_path):
    folder = many_words(word_files, tmp_path, 3000)
    process = subprocess.Popen([str(BIN / "crnn-predict"), str(folder), "--batch-size", "4"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    assert first.startswith(str(folder / "w0000.png")), first
    process.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    out, err = process.stdout.read(), process.stderr.read()
    process.wait()
    watchdog.cancel()
    assert time.monotonic() - stopped < 10, "Ctrl-C must stop the run at once"
    assert process.returncode == 130 and "Traceback" not in err, err[-3000:]
    printed = 1 + len(out.splitlines())
    assert f"interrupted: read {printed} images" in err and printed < 3000


# 4. Formats that are not raster images -----------------------------------------------------------

def test_a_postscript_file_named_png_never_reaches_ghostscript(word_files, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "ghostscript_ran"
    (fake_bin / "gs").write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    (fake_bin / "gs").chmod(0o755)
    postscript = tmp_path / "word.png"
    postscript.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 32\n(x) show\nshowpage\n%%EOF\n")
    shutil.copy(word_files[0][0], tmp_path / "good.png")
    environment = dict(os.environ, PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    result = tool("crnn-predict", "word.png", "good.png", cwd=tmp_path, env=environment)
    one_error_line(result, 1, "word.png: cannot read image: not a PNG, JPEG, BMP, TIFF, WebP, GIF or PNM image")
    assert result.stdout.startswith("good.png\t") and not marker.exists()


# 5. A small file takes gigabytes -----------------------------------------------------------------

def peak_memory_mb(code: str, cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Run `code` in a fresh interpreter; its peak resident memory (MB) and the result."""
    probe = (f"import resource, sys\n{code}\n"
             "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return float(result.stderr.rsplit("peak ", 1)[1]), result


@pytest.mark.slow
def test_a_small_png_declaring_144_million_pixels_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(12_000, 12_000))
    assert bomb.stat().st_size < 1_000_000
    code = ("from crnn_pl.runtime.recognizer import Recognizer\n"
            "reads = list(Recognizer('en').read_stream(['bomb.png'] * 2, workers=2))\n"
            "print(reads[0].error)")
    baseline, _ = peak_memory_mb("from crnn_pl.runtime.recognizer import Recognizer\nRecognizer('en')", tmp_path)
    peak, result = peak_memory_mb(code, tmp_path)
    assert result.stdout.strip() == ("bomb.png: 12000 x 12000 pixels, more than a word crop's 10,000,000 "
                                     "(max_pixels); crop the word first")
    size = bomb.stat().st_size
    assert peak < baseline + 100, f"{peak:.0f} MB to refuse a {size:,} byte file (baseline {baseline:.0f})"


@pytest.mark.slow
def test_a_safetensors_file_claiming_a_huge_network_is_refused_before_it_is_built(tmp_path):
    from crnn_pl.model.weights import ModelFileError, load_crnn

    wide = safetensors_with(tmp_path, "wide", with_hparams(hidden_size=3000))
    code = (f"from crnn_pl.model.weights import ModelFileError, load_crnn\n"
            f"try:\n    load_crnn({str(wide)!r})\nexcept ModelFileError as error:\n    print(error)")
    baseline, _ = peak_memory_mb(f"from crnn_pl.model.weights import load_crnn\nload_crnn({str(EN_WEIGHTS)!r})",
                                 tmp_path)
    peak, result = peak_memory_mb(code, tmp_path)
    assert "weights do not fit the network its hyper-parameters describe" in result.stdout
    assert peak < baseline + 200, f"{peak:.0f} MB to refuse it (a good file: {baseline:.0f})"
    huge = safetensors_with(tmp_path, "huge", with_hparams(conv_channels=[1_000_000] * 7))
    started = time.monotonic()
    with pytest.raises(ModelFileError, match="conv_channels must be 7 whole numbers from 1 to 4096"):
        load_crnn(huge)
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_a_card_asking_for_a_billion_pixels_wide_read_is_clamped(tmp_path):
    onnx_with(tmp_path, "wide", {"read_max_width": 10**9})
    code = ("import numpy as np\nfrom crnn_pl.runtime.recognizer import Recognizer\n"
            "recognizer = Recognizer('wide.onnx')\n"
            "print(recognizer.spec.read_max_width, recognizer.read([np.tile([0, 255], (1, 15000)).astype(np.uint8)]))")
    baseline, _ = peak_memory_mb("from crnn_pl.runtime.recognizer import Recognizer\nRecognizer('wide.onnx')", tmp_path)
    peak, result = peak_memory_mb(code, tmp_path)
    assert result.stdout.startswith("1024 [(")
    assert peak < baseline + 300, f"{peak:.0f} MB to read one 30,000 x 1 crop (baseline {baseline:.0f})"


# 6. Model files are checked against what they say of themselves ------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name, change, message", [
    ("no_channels", {"channels": 0}, "channels must be 1 (grey) or 3 (RGB), got 0"),
    ("rgb_card", {"channels": 3}, "the model does not read the input its card describes (3 x 32 x 100)"),
    ("short_charset", {"charset": "0123456789"}, "its card's charset needs (1, frames, 11)"),
    ("no_height", {"height": 0}, "height must be a whole number from 1 to 512, got 0"),
    ("tall_card", {"height": 48}, "the model does not read the input its card describes (1 x 48 x 100)"),
    ("text_mean", {"mean": "0.5"}, "mean must be a number, got '0.5'"),
    ("no_std", {"std": 0}, "std must be above 0, got 0"),
])
def test_an_onnx_card_that_does_not_describe_its_model_is_refused_at_load(tmp_path, word_files, name, change, message):
    path = onnx_with(tmp_path, name, change)
    with pytest.raises(ModelLoadError if "model" in message else UserError) as raised:
        Recognizer(path)
    assert message in str(raised.value) and str(path) in str(raised.value)
    one_error_line(tool("crnn-predict", str(word_files[0][0]), "--model-path", str(path), cwd=tmp_path), 1, message)


@pytest.mark.slow
def test_an_onnx_model_without_a_logits_output_is_refused_at_load(tmp_path, word_files):
    path = onnx_with(tmp_path, "renamed", output="scores")
    one_error_line(tool("crnn-predict", str(word_files[0][0]), "--model-path", str(path), cwd=tmp_path), 1,
                   str(path), "expected an input `images` and an output `logits`")


@pytest.mark.slow
@pytest.mark.parametrize("name, change, message", [
    ("bad_json", lambda text: text[:-5], "hyper_parameters metadata is not JSON"),
    ("a_list", lambda text: json.dumps([1, 2]), "hyper_parameters metadata is a JSON list, not an object"),
    ("no_charset", lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "charset"}),
     "hyper-parameters lack charset"),
    ("huge_lstm", with_hparams(num_lstm_layers=10**6), "num_lstm_layers must be a whole number from 1 to 8"),
])
def test_safetensors_hyper_parameters_are_checked_at_load(tmp_path, word_files, name, change, message):
    path = safetensors_with(tmp_path, name, change)
    one_error_line(tool("crnn-predict", str(word_files[0][0]), "--model-path", str(path), cwd=tmp_path), 1,
                   str(path), message)


@pytest.mark.slow
def test_a_checkpoint_whose_state_dict_is_a_list_and_a_junk_paddle_folder_are_refused(tmp_path, word_files):
    import torch

    hparams = json.loads(json.dumps({"charset": "abc", "case_sensitive": False, "height": 32, "width": 100,
                                     "channels": 1, "mean": 0.5, "std": 0.5}))
    torch.save({"state_dict": [1, 2, 3], "hyper_parameters": hparams}, tmp_path / "list.ckpt")
    one_error_line(tool("crnn-predict", str(word_files[0][0]), "--model-path", "list.ckpt", cwd=tmp_path), 1,
                   "list.ckpt: not a crnn_pl checkpoint (its state_dict is not a mapping of tensors)")
    junk = tmp_path / "paddle_model"
    junk.mkdir()
    (junk / "inference.json").write_text("{not a program", encoding="utf-8")
    (junk / "inference.pdiparams").write_bytes(b"\x00junk" * 100)
    (junk / "card.json").write_text(json.dumps(hparams | {"blank": 0}), encoding="utf-8")
    one_error_line(tool("crnn-predict", str(word_files[0][0]), "--model-path", str(junk), cwd=tmp_path, timeout=300),
                   1, f"{junk}: not a readable Paddle model")


# 7. Corrupt LMDB images are found at setup ----------------------------------------------------------

def lmdb_of(path: Path, images: list[bytes], labels: list[str], extra: dict[bytes, bytes] | None = None) -> Path:
    import lmdb

    environment = lmdb.open(str(path), map_size=16 << 20)
    with environment.begin(write=True) as txn:
        for index, (image, label) in enumerate(zip(images, labels, strict=True), 1):
            txn.put(b"image-%09d" % index, image)
            txn.put(b"label-%09d" % index, label.encode())
        for key, value in (extra or {}).items():
            txn.put(key, value)
        txn.put(b"num-samples", str(len(images)).encode())
    environment.close()
    return path


def test_an_lmdb_of_corrupt_images_is_refused_at_setup_and_strict_counts_them(word_files, tmp_path):
    from crnn_pl.data.datamodule import LmdbDataModule
    from crnn_pl.data.labels import DataError

    corrupt = lmdb_of(tmp_path / "corrupt", [b"\x89PNG\r\n\x1a\n broken"] * 70, ["word"] * 70)
    module = LmdbDataModule(charset="abcdefghijklmnopqrstuvwxyz", train_roots=[str(corrupt)],
                            val_roots=[str(corrupt)], batch_size=4, num_workers=0)
    with pytest.raises(DataError, match="the train split holds no usable sample .*all 70 skipped"):
        module.setup("fit")
    assert module.reports["train"].skipped["unreadable image"] == 70
    good = word_files[0][0].read_bytes()
    mixed = lmdb_of(tmp_path / "mixed", [good, b"GIF89a junk", good], ["word"] * 3)
    strict = LmdbDataModule(charset="abcdefghijklmnopqrstuvwxyz", val_roots=[str(mixed)], batch_size=2,
                            num_workers=0, strict=True)
    with pytest.raises(DataError, match=r"mixed:image-000000002: <11 bytes>: cannot read image.*strict=true"):
        strict.setup("validate")


def test_lmdb_keys_outside_the_layout_and_a_huge_sample_count_are_no_traceback_or_hang(word_files, tmp_path):
    from crnn_pl.data.datamodule import LmdbDataModule

    good = word_files[0][0].read_bytes()
    path = lmdb_of(tmp_path / "odd", [good, good], ["word", "fine"], {b"label-xyz": b"odd", b"image-xyz": good})
    module = LmdbDataModule(charset="abcdefghijklmnopqrstuvwxyz", val_roots=[str(path)], batch_size=2, num_workers=0)
    module.setup("validate")
    assert len(module.datasets["val"]) == 2
    import lmdb

    environment = lmdb.open(str(path))
    with environment.begin(write=True) as txn:
        txn.put(b"num-samples", b"1000000000000")
    environment.close()
    started = time.monotonic()
    module = LmdbDataModule(charset="abcdefghijklmnopqrstuvwxyz", val_roots=[str(path)], batch_size=2, num_workers=0)
    module.setup("validate")
    assert time.monotonic() - started < 10
    assert module.reports["val"].skipped["missing label"] == 10**12 - 2 and len(module.datasets["val"]) == 2


# 8. The Python API and the edges ---------------------------------------------------------------------

def test_arrays_of_two_or_five_channels_and_nan_are_per_image_errors(word_files):
    recognizer = Recognizer(EN_ONNX)
    word = np.asarray(Image.open(word_files[0][0]).convert("L"))
    opaque = np.dstack([word, np.full_like(word, 255)])
    images = [np.zeros((32, 100, 5), np.uint8), word, np.full((32, 100), np.nan), opaque]
    for workers in (0, 2):
        reads = list(recognizer.read_stream(images, workers=workers))
        assert [read.error is None for read in reads] == [False, True, False, True]
        assert "got shape (32, 100, 5)" in reads[0].error and "NaN" in reads[2].error
        assert reads[1].text == reads[3].text == recognizer.read([word])[0][0] != ""


def test_alpha_is_composited_the_same_for_arrays_and_pil_images(word_files):
    """Text drawn in the alpha channel only (black everywhere, opaque where the ink is)."""
    recognizer = Recognizer(EN_ONNX)
    ink = 255 - np.asarray(Image.open(word_files[0][1]).convert("L"))
    rgba = np.dstack([np.zeros_like(ink)] * 3 + [ink])
    as_array, as_image = recognizer.read([rgba, Image.fromarray(rgba, "RGBA")])
    assert as_array[0] == as_image[0] == word_files[1][1]


def test_one_path_or_image_given_to_read_says_pass_a_list(word_files):
    recognizer = Recognizer(EN_ONNX)
    for single in (str(word_files[0][0]), word_files[0][0], Image.open(word_files[0][0]), np.zeros((32, 100))):
        with pytest.raises(TypeError, match=r"read\(\) takes a list of images.*pass \[image\]"):
            recognizer.read(single)


def test_an_error_raised_by_the_input_generator_comes_after_the_reads_before_it(word_files):
    recognizer = Recognizer(EN_ONNX)

    def images():
        yield from word_files[0] * 10            # 160 images: three batches of 64 were pulled ahead
        raise OSError("the camera went away")

    for workers in (0, 2):
        reads = []
        with pytest.raises(OSError, match="the camera went away"):
            for read in recognizer.read_stream(images(), batch_size=64, workers=workers):
                reads.append(read)
        assert len(reads) == 160 and all(read.error is None for read in reads)


@pytest.mark.slow
def test_odd_file_names_keep_one_line_of_three_columns_under_a_strict_utf8_stdout(word_files, tmp_path):
    folder = tmp_path / "crops"
    folder.mkdir()
    names = [b"caf\xe9.png", b"tab\there.png", b"new\nline.png", b"plain.png"]
    for name in names:
        shutil.copy(word_files[0][0], os.path.join(os.fsencode(folder), name))
    environment = dict(os.environ, PYTHONIOENCODING="utf-8:strict")
    result = tool("crnn-predict", str(folder), cwd=tmp_path, env=environment)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [len(row) for row in rows] == [3] * 4
    assert sorted(Path(row[0]).name for row in rows) == ["caf\\xe9.png", "new\\nline.png", "plain.png",
                                                         "tab\\there.png"]
    jsonl = tool("crnn-predict", str(folder), "--jsonl", cwd=tmp_path, env=environment)
    assert jsonl.returncode == 0 and len([json.loads(line) for line in jsonl.stdout.splitlines()]) == 4


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(word_files, tmp_path):
    folder = many_words(word_files, tmp_path, 400)
    result = subprocess.run(f"{BIN / 'crnn-predict'} {folder} --batch-size 8 | head -1", shell=True, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_a_model_that_cannot_be_read_exits_1_as_documented(word_files, tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not onnx")
    one_error_line(tool("crnn-predict", str(word_files[0][0]), "--model-path", "model.onnx", cwd=tmp_path), 1,
                   "model.onnx: not a readable ONNX model")


def test_a_glob_gives_the_images_a_folder_argument_gives(word_files, tmp_path):
    from crnn_pl.cli.predict import expand

    folder = tmp_path / "crops"
    (folder / "nested.png").mkdir(parents=True)
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    shutil.copy(word_files[0][0], folder / "a.png")
    assert expand([str(folder)]) == expand([f"{folder}/*"]) == ([folder / "a.png"], [])


def test_ground_truth_lines_are_split_at_line_feeds_only_and_names_may_hold_commas(tmp_path):
    from crnn_pl.data.ground_truth import Malformed, read_icdar15

    gt = tmp_path / "gt.txt"
    gt.write_text('word_1.png, "page\u2028break"\r\nword_2.png, "form\ffeed"\nnot a line\n'
                  'scan, 2024.png, "comma"\n', encoding="utf-8")
    entries = list(read_icdar15(gt, tmp_path))
    assert [(e.path.name, e.label) for e in entries if not isinstance(e, Malformed)] == [
        ("word_1.png", "page\u2028break"), ("word_2.png", "form\ffeed"), ("scan, 2024.png", "comma")]
    assert [e.where for e in entries if isinstance(e, Malformed)] == [f"{gt}:3: 'not a line'"]
