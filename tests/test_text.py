"""The renderer's text (crnn_pl/data/synth/text.py): kinds, case styles, the held-out split, labels
for charsets that cannot write everything drawn, and the one source of render defaults."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import yaml

from crnn_pl.core.charset import Charset
from crnn_pl.core.errors import ConfigError
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.data.synth.settings import SYNTH_CONFIG
from crnn_pl.data.synth.text import KINDS, TextSampler, is_heldout

PRINTABLE94 = Charset.preset("printable94")


@pytest.fixture(scope="module")
def printable_renderer() -> WordRenderer:
    return WordRenderer(PRINTABLE94, RenderSettings.from_config({"max_length": 16}))


def test_the_vocabulary_holds_over_100k_distinct_words(printable_renderer):
    words = printable_renderer.vocabulary
    assert len(set(words)) >= 100_000
    assert all(1 <= len(w) <= 16 and PRINTABLE94.can_encode(w) for w in words[:5000])


def test_every_kind_writes_what_the_charset_holds():
    patterns = ["[A-Z]{2}[0-9]{2}-[A-Z]{3}", r"\d{3,5}\.\d"]
    text = {"shares": {kind: 1.0 for kind in KINDS}, "patterns": patterns}
    settings = RenderSettings.from_config({"text": text}).text
    sampler = TextSampler(settings, PRINTABLE94.characters, 16,
                          vocabulary=("coffee", "street", "hotel", "exit", "Mall", "sale"))
    rng = np.random.default_rng(0)
    for kind, draw in KINDS.items():
        texts = [draw(sampler, rng) for _ in range(50)]
        assert all(texts), kind
        assert len(set(texts)) > 5, f"{kind} draws little variety: {texts[:10]}"
    texts = [sampler.sample(rng) for _ in range(2000)]
    assert all(1 <= len(t) <= 16 and PRINTABLE94.can_encode(t) for t in texts)
    assert any("$" in t for t in texts) and any("%" in t for t in texts) and any("@" in t for t in texts)
    assert any(t.isupper() for t in texts) and any(t[:1].isupper() and t[1:].islower() for t in texts)


def test_words_come_in_the_configured_case_shares():
    text = {"shares": {"word": 1.0}, "case_shares": {"upper": 0.5, "title": 0.3, "lower": 0.2}}
    settings = RenderSettings.from_config({"text": text}).text
    sampler = TextSampler(settings, PRINTABLE94.characters, 16, vocabulary=("coffee", "street", "hotel"))
    rng = np.random.default_rng(1)
    styles = Counter("upper" if w.isupper() else "title" if w[0].isupper() else "lower"
                     for w in (sampler.sample(rng) for _ in range(3000)))
    assert abs(styles["upper"] / 3000 - 0.5) < 0.03 and abs(styles["title"] / 3000 - 0.3) < 0.03


def test_heldout_words_and_font_families_never_reach_training():
    both_sources = {"max_length": 16, "font_sources": ["packages", "shipped"]}
    train = WordRenderer(PRINTABLE94, RenderSettings.from_config(both_sources))
    heldout = WordRenderer(PRINTABLE94, RenderSettings.from_config(both_sources | {"split": "heldout"}))
    assert heldout.vocabulary and not set(train.vocabulary) & set(heldout.vocabulary)
    assert all(is_heldout(w) for w in heldout.vocabulary[:1000])
    train_families, heldout_families = {f.family for f in train.fonts}, {f.family for f in heldout.fonts}
    assert heldout_families and not train_families & heldout_families
    # about a tenth of the words is held out
    assert 0.07 < len(heldout.vocabulary) / (len(train.vocabulary) + len(heldout.vocabulary)) < 0.13


def test_a_split_its_fonts_cannot_fill_is_a_config_error(printable_renderer):
    """Never a silent fallback to training's fonts: a held-out set drawn in them would measure nothing."""
    training_fonts = printable_renderer.fonts[:3]
    with pytest.raises(ConfigError, match=r"dataset.render.split=heldout: none of the 3 fonts of font_sources="):
        WordRenderer(PRINTABLE94, RenderSettings.from_config({"split": "heldout"}), fonts=training_fonts)


def test_a_charset_without_punctuation_labels_what_it_can_write():
    """alnum36 draws "$4.00" but labels it "400", as the benchmark protocol reads it."""
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config({"max_length": 16}))
    assert renderer.label_of("$4.00") == "400" and renderer.label_of("SALE!") == "sale"
    labels = [renderer.sample(np.random.default_rng(i))[1] for i in range(300)]
    assert all(label == "" or Charset.preset("alnum36").can_encode(label) for label in labels)


def test_turned_crops_are_labelled_empty_and_stacked_words_lie_in_a_row():
    renderer = WordRenderer(PRINTABLE94, RenderSettings.from_config({"turned_prob": 1.0, "variety": 0.0}))
    turned = [renderer.sample(np.random.default_rng(i)) for i in range(20)]
    assert all(label == "" for _, label in turned)
    stacked = WordRenderer(PRINTABLE94, RenderSettings.from_config({"stacked_prob": 1.0, "variety": 0.0,
                                                                    "rotation_degrees": 0.0, "perspective": 0.0}))
    image = stacked.render("EXIT", np.random.default_rng(0))
    assert image.shape[1] > 2 * image.shape[0], "four stacked letters turned a quarter lie in a row"


def test_render_defaults_have_one_source():
    """Export verification, int8 calibration and crnn-make-synth render with synth.yaml's settings."""
    values = yaml.safe_load(SYNTH_CONFIG.read_text(encoding="utf-8"))["render"]
    settings = RenderSettings.from_config({"max_length": 10})
    assert settings.texture_prob == values["texture_prob"] > 0
    assert settings.text.shares == values["text"]["shares"]
    assert RenderSettings.from_config({"text": {"vocabulary": "bundled"}}).text.shares == values["text"]["shares"]


@pytest.mark.parametrize(("values", "named"), [({"text": {"shares": {"poems": 1.0}}}, "poems"),
                                               ({"colour": "red"}, "colour"),
                                               ({"split": "test"}, "split")])
def test_unknown_text_settings_are_named(values, named):
    with pytest.raises(ConfigError, match=named):
        WordRenderer(PRINTABLE94, RenderSettings.from_config(values))


def test_a_word_list_file_and_its_errors(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("Straße\ncafe\nbar\n", encoding="utf-8")
    renderer = WordRenderer(PRINTABLE94, RenderSettings.from_config({"text": {"vocabulary": str(words)}}))
    assert set(renderer.vocabulary) == {"cafe", "bar"}          # Straße: not in printable94
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty.txt"):
        WordRenderer(PRINTABLE94, RenderSettings.from_config({"text": {"vocabulary": str(empty)}}))
    with pytest.raises(ConfigError, match="missing.txt: no such file"):
        WordRenderer(PRINTABLE94, RenderSettings.from_config({"text": {"vocabulary": str(tmp_path / "missing.txt")}}))


def test_crnn_make_synth_writes_only_words_to_read():
    """A turned crop's empty label is for training on the fly; a written dataset holds words."""
    from crnn_pl.cli.make_synth import render

    labels = [label for _, _, label in render(200, Charset.preset("alnum36"), seed=0, max_length=10)]
    assert all(labels)


def test_export_verification_images_are_written_whatever_the_labels(tmp_path):
    """printable94 draws dates, URLs and turned crops: `12/05/2026` or an empty label must not
    become a file name (the export after a printable94 run once stopped here)."""
    from crnn_pl.core.card import ModelCard
    from crnn_pl.export.exporter import verification_images

    card = ModelCard.from_hparams({"charset": PRINTABLE94.characters, "case_sensitive": True, "height": 32,
                                   "width": 100, "channels": 1, "mean": 0.5, "std": 0.5})
    paths = verification_images(None, tmp_path / "verify", card, count=64)
    assert len(paths) == 64 and all(p.is_file() and p.parent == tmp_path / "verify" for p in paths)
