"""Your alphabet, your text: charsets in NFC, the user's corpus and patterns, the user's fonts and
their coverage, and the language recipes (docs/train_your_language.md)."""

from __future__ import annotations

import re
import shutil
import string
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from crnn_pl.core.charset import Charset, CharsetError, preset_names
from crnn_pl.core.errors import ConfigError
from crnn_pl.data.synth.fonts import SHIPPED_FONT_DIR, check_coverage, package_font_paths, read_font
from crnn_pl.data.synth.patterns import parse_pattern
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.data.synth.text import TextSampler

VI = Charset.preset("vi")
VIETNAMESE_WORDS = ["Việt", "Nam", "nước", "người", "đường", "phở", "Hà", "Nội", "tiếng", "ngữ"]


def latin_only_font() -> Path:
    """A shipped Latin WOFF subset: no Vietnamese letters beyond ASCII."""
    return SHIPPED_FONT_DIR / "abril-fatface" / "abril-fatface-latin-400-normal.woff"


def dejavu_sans() -> Path:
    return next(p for p in package_font_paths() if p.name == "DejaVuSans.ttf")


def decomposed(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- NFC --------------------------------------------------------------------------------------------

def test_precomposed_and_combining_letters_are_one_character(tmp_path):
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("\n".join(decomposed(c) for c in "aệờđ") + "\n", encoding="utf-8")
    charset = Charset.from_file(dictionary)
    assert charset.characters == "aệờđ"                       # each line was one letter, typed decomposed
    assert charset.encode(decomposed("ệờ")) == charset.encode("ệờ") == [2, 3]
    assert VI.can_encode(decomposed("Việt Nam".replace(" ", "")))


def test_a_charset_file_error_names_the_file_and_line(tmp_path):
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("a\nb\nab\n", encoding="utf-8")
    with pytest.raises(CharsetError, match=r"dict.txt:3: expected one character per line, got 'ab'"):
        Charset.from_file(dictionary)
    with pytest.raises(CharsetError, match="missing.txt: no such charset file"):
        Charset.from_file(tmp_path / "missing.txt")


def test_the_shipped_dictionaries_are_presets():
    assert {"vi", "ru", "meter"} <= set(preset_names())
    assert len(VI) == 229 and "ệ" in VI.characters and "Ệ" in VI.characters and "₫" in VI.characters
    assert "ё" in Charset.preset("ru").characters and set("0123456789.:") <= set(Charset.preset("meter").characters)
    with pytest.raises(CharsetError, match="unknown charset preset 'xx'"):
        Charset.preset("xx")


# --- the corpus -------------------------------------------------------------------------------------

def corpus_renderer(corpus: Path, charset: Charset = VI, **text) -> WordRenderer:
    settings = {"text": {"vocabulary": str(corpus), "shares": {"word": 1.0}, **text}, "max_length": 10,
                "heldout_fonts": [], "font_sources": ["packages"]}
    return WordRenderer(charset, RenderSettings.from_config(settings))


def test_corpus_entries_outside_the_charset_are_skipped_and_counted(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(decomposed(w) for w in VIETNAMESE_WORDS)
                      + "\n中文 Straße\nquáquáquáquá\n", encoding="utf-8")
    renderer = corpus_renderer(corpus)
    assert set(renderer.vocabulary) == set(VIETNAMESE_WORDS)        # decomposed in the file, NFC here
    report = "\n".join(renderer.report_lines)
    assert f"corpus {corpus}: 10 entries drawn; skipped:" in report
    assert "2 with characters outside the charset" in report and "1 longer than max_length" in report
    labels = [renderer.sample(np.random.default_rng(i))[1] for i in range(40)]
    assert all(VI.can_encode(label) for label in labels if label)
    assert any(set(label) - set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for label in labels)


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_an_empty_corpus_is_an_error_naming_the_file(tmp_path, content):
    corpus = tmp_path / "empty corpus.txt"
    corpus.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"empty corpus.txt: the corpus is empty"):
        corpus_renderer(corpus)


def test_a_corpus_with_nothing_in_the_charset_is_an_error_naming_the_file(tmp_path):
    corpus = tmp_path / "chinese.txt"
    corpus.write_text("中文\n汉字\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"chinese.txt: no entry of the corpus can be drawn in the train split "
                                          r"\(corpus .*: 0 entries drawn; skipped: 2 with characters outside"):
        corpus_renderer(corpus)


def test_a_corpus_that_is_not_utf8_is_an_error_naming_the_file(tmp_path):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("Straße café\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.txt: the corpus is not UTF-8 text"):
        corpus_renderer(corpus)


def test_lines_are_phrases_cut_at_a_space_to_what_the_width_holds(tmp_path):
    corpus = tmp_path / "phrases.txt"
    corpus.write_text("Phở Hà Nội ngon\nđường\n", encoding="utf-8")
    with_space = Charset(VI.characters + " ")
    renderer = corpus_renderer(corpus, with_space, corpus_unit="line", case_shares={"as_listed": 1.0})
    assert set(renderer.vocabulary) == {"Phở Hà Nội", "đường"}      # 15 characters cut to 10 at a space


def test_frequency_draws_follow_the_corpus_counts(tmp_path):
    corpus = tmp_path / "running_text.txt"
    corpus.write_text("phở " * 9 + "nước\n", encoding="utf-8")
    settings = RenderSettings.from_config({"text": {"vocabulary": str(corpus), "draw": "frequency",
                                                    "shares": {"word": 1.0}, "case_shares": {"as_listed": 1.0}}})
    sampler = TextSampler(settings.text, VI.characters, 10)
    rng = np.random.default_rng(0)
    counts = Counter(sampler.sample(rng) for _ in range(2000))
    assert 0.87 < counts["phở"] / 2000 < 0.93 and counts["nước"] > 0


# --- patterns ---------------------------------------------------------------------------------------

def test_patterns_write_their_shape():
    pattern = parse_pattern(r"[A-Z]{2}\d{2} [A-Z]{3}-\d{1,3}\.\d", VI.characters + " ")
    rng = np.random.default_rng(0)
    texts = {pattern.sample(rng) for _ in range(200)}
    assert len(texts) > 150
    assert all(re.fullmatch(r"[A-Z]{2}\d{2} [A-Z]{3}-\d{1,3}\.\d", t) for t in texts)


@pytest.mark.parametrize(("spec", "message"), [("[0-9", "cannot read"), ("[9-0]", "runs backwards"),
                                                ("\\d{3,1}", "most below its least"),
                                                ("[A-Z]{2}", "writes 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', outside")])
def test_a_bad_pattern_is_an_error_naming_it(spec, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_pattern(spec, Charset.preset("meter").characters)


# --- fonts ------------------------------------------------------------------------------------------

def test_coverage_counts_only_letters_a_font_draws_as_themselves(tmp_path):
    """A glyph mapped to `.notdef` (a box), to nothing (no ink) or to its base letter's glyph (an `ệ`
    drawn as `e`) is missing."""
    font = TTFont(dejavu_sans())
    cmap = font.getBestCmap()
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap[ord("ệ")] = cmap[ord("e")]          # drawn as another letter
            table.cmap[ord("ờ")] = ".notdef"                # drawn as a box
            table.cmap[ord("ạ")] = cmap[ord(" ")]           # drawn as nothing
    broken = tmp_path / "broken.ttf"
    font.save(broken)
    checked = check_coverage(read_font(broken), VI.characters)
    assert {"e", "o", "a", "ế", "ở", "ả"} <= checked.characters
    assert not {"ệ", "ờ", "ạ"} & checked.characters
    assert {"ệ", "ờ", "ạ"} <= check_coverage(read_font(dejavu_sans()), VI.characters).characters


def test_the_start_up_report_names_a_font_without_the_charsets_letters(tmp_path):
    fonts = tmp_path / "my fonts"
    fonts.mkdir()
    shutil.copy(latin_only_font(), fonts / "latin_only.woff")
    shutil.copy(dejavu_sans(), fonts / "DejaVuSans.ttf")
    (fonts / "notes.txt").write_text("not a font", encoding="utf-8")
    (fonts / "broken.otf").write_bytes(b"OTTO not really a font")
    vietnamese_letters = Charset("ảạăằắẳẵặầấẩẫậđ")            # none in Latin-1, which the WOFF holds
    settings = RenderSettings.from_config({"font_sources": [], "font_dirs": [str(fonts)], "heldout_fonts": [],
                                           "text": {"shares": {"random": 1.0}}})
    renderer = WordRenderer(vietnamese_letters, settings)
    report = "\n".join(renderer.report_lines)
    assert "fonts: 2 files for 14 characters; they draw 1 all, 0 90-99%, 0 50-89%, 0 under 50%, 1 none" in report
    assert "fonts that draw none of the charset's letters (never used): latin_only.woff" in report
    assert f"{fonts / 'broken.otf'}: not a readable font" in report
    assert [f.name for f in renderer.fonts] == ["DejaVuSans.ttf"]
    shutil.move(fonts / "DejaVuSans.ttf", tmp_path / "elsewhere.ttf")
    with pytest.raises(ConfigError, match=r"no font of dataset.render.font_sources=\[\] or font_dirs=.*my fonts.* "
                                          "draws this charset's letters"):
        WordRenderer(vietnamese_letters, settings)


def test_words_are_drawn_only_in_fonts_that_draw_them(tmp_path):
    """With a Latin-only font beside a Vietnamese one, `đường` is drawn only in the Vietnamese one,
    and ASCII words in both; a word no font draws is skipped and counted."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(latin_only_font(), fonts / "latin_only.woff")
    shutil.copy(dejavu_sans(), fonts / "DejaVuSans.ttf")
    settings = RenderSettings.from_config({"font_sources": [], "font_dirs": [str(fonts)], "heldout_fonts": []})
    renderer = WordRenderer(VI, settings, vocabulary=("đường", "Nam"))
    rng = np.random.default_rng(0)
    assert {renderer._pick_font("đường", rng).name for _ in range(30)} == {"DejaVuSans.ttf"}
    assert {renderer._pick_font("Nam", rng).name for _ in range(30)} == {"DejaVuSans.ttf", "latin_only.woff"}
    (fonts / "DejaVuSans.ttf").unlink()
    latin_only = WordRenderer(VI, settings, vocabulary=("đường", "Nam"))
    assert latin_only.vocabulary == ("Nam",)
    assert "1 that no font draws" in latin_only.text.report()
    assert "characters no font draws (never rendered, so never learnt)" in "\n".join(latin_only.report_lines)


def test_a_missing_font_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"font_dirs: .*nowhere: no such folder"):
        WordRenderer(VI, RenderSettings.from_config({"font_dirs": [str(tmp_path / "nowhere")]}))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"font_dirs: .*empty: no font file"):
        WordRenderer(VI, RenderSettings.from_config({"font_dirs": [str(tmp_path / "empty")]}))


def test_woff2_fonts_are_read_and_drawn(tmp_path):
    font = TTFont(dejavu_sans())
    font.flavor = "woff2"
    folder = tmp_path / "woff2"
    folder.mkdir()
    font.save(folder / "DejaVuSans.woff2")
    settings = RenderSettings.from_config({"font_sources": [], "font_dirs": [str(folder)], "heldout_fonts": []})
    renderer = WordRenderer(VI, settings, vocabulary=("đường",))
    image = renderer.render("đường", np.random.default_rng(0))
    assert image.ndim == 3 and image.std() > 5


# --- the recipes' text ------------------------------------------------------------------------------

@pytest.mark.parametrize("recipe", ["vi", "ru", "meter"])
def test_each_recipe_renders_its_own_script(recipe):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from crnn_pl.cli.train import CONFIG_DIR, charset_from_config

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose("config", overrides=[f"experiment={recipe}"])
    render = OmegaConf.to_container(cfg.dataset.render, resolve=True)
    charset = charset_from_config(cfg)
    renderer = WordRenderer(charset, RenderSettings.from_config(render))
    heldout = WordRenderer(charset, RenderSettings.from_config(render | {"split": "heldout"}))
    assert not {f.family for f in renderer.fonts} & {f.family for f in heldout.fonts}
    labels = [label for _, label in renderer.samples(200, seed=0) if label]
    assert all(charset.can_encode(label) for label in labels)
    own = set("0123456789") if recipe == "meter" else set(charset.characters) - set(string.printable)
    assert sum(bool(set(label) & own) for label in labels) > 0.3 * len(labels)    # en: none


def test_crnn_make_synth_writes_vietnamese_words(tmp_path):
    from crnn_pl.cli.make_synth import main

    assert main([str(tmp_path / "vi"), "--count", "40", "--charset", "vi", "--vocabulary", "wordfreq:vi"]) == 0
    labels = [line.split(", ", 1)[1].strip('"') for line in
              (tmp_path / "vi" / "gt.txt").read_text(encoding="utf-8").splitlines()]
    assert len(labels) == 40 and all(VI.can_encode(label) for label in labels)
    assert sum(bool(set(label) - set(string.printable)) for label in labels) >= 8


def test_a_combining_mark_on_a_line_of_its_own_stays_a_character(tmp_path):
    """Some dictionaries list combining marks as characters: normalising the whole dictionary at once
    would fuse them with the letter above them and shift every index after."""
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("e\n\u0301\nx\n", encoding="utf-8")
    charset = Charset.from_file(dictionary)
    assert len(charset) == 3 and charset.encode("x") == [3]
