"""The lexicon decoder: exact CTC scores, words corrected, codes and strangers' strings kept, hot
words first, one-line errors for bad word files, and the same choice through every entry point."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from crnn_pl.core.card import CardError, ModelCard
from crnn_pl.core.charset import Charset
from crnn_pl.core.ctc import (
    DecoderSettings,
    LexiconDecoder,
    ctc_log_likelihood,
    label_repeats,
    make_decoder,
    requested_decoder,
    softmax,
    split_affixes,
)
from crnn_pl.core.errors import ConfigError
from crnn_pl.core.lexicon import Lexicon, LexiconError

CHARSET = Charset.preset("printable94")
LEXICON = DecoderSettings(name="lexicon", lexicon="en")


def frames_for(spelling: list[dict[str, float]], charset: Charset = CHARSET) -> np.ndarray:
    """Logits (1, frames, classes) whose softmax is, frame by frame, the given probabilities (a
    letter or "" for the blank), with a blank frame between letter frames; the rest share 1e-6."""
    rows = []
    for frame in spelling:
        for probabilities in (frame, {"": 1.0}):
            row = np.full(charset.num_classes, 1e-6)
            for character, probability in probabilities.items():
                row[charset.encode(character)[0] if character else 0] = probability
            rows.append(np.log(row / row.sum()))
    return np.array(rows, dtype=np.float32)[None]


def sure(text: str) -> list[dict[str, float]]:
    return [{character: 0.995} for character in text]


def read(decoder, logits: np.ndarray) -> str:
    return decoder(logits)[0][0]


def test_forward_matches_torch_ctc_loss():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(1, 12, CHARSET.num_classes)) * 3
    probabilities = softmax(scores[0])
    for label in ("ab", "aab", "see", "x", "hello"):
        codes = CHARSET.encode(label)
        emissions = probabilities[:, codes][None]
        ours = ctc_log_likelihood(probabilities[:, 0], emissions, label_repeats(label)[None])[0]
        theirs = -torch.nn.functional.ctc_loss(
            torch.log_softmax(torch.tensor(scores, dtype=torch.float64), -1).transpose(0, 1),
            torch.tensor([codes]), torch.tensor([12]), torch.tensor([len(codes)]), reduction="sum")
        assert ours == pytest.approx(float(theirs), abs=1e-9), label


def test_beam_search_finds_the_exact_probability_of_a_word():
    """The search's score for a word is its CTC probability over case-folded scores, summed over
    every alignment, as the forward algorithm (checked against torch above) gives it."""
    decoder = LexiconDecoder(CHARSET, DecoderSettings(name="lexicon", lexicon="en"))
    logits = frames_for([{"T": 0.4, "t": 0.2, "f": 0.4}, {"o": 0.7, "a": 0.3}, {"o": 0.5, "": 0.5}])[0]
    probabilities = softmax(logits)
    words = dict(decoder.search(probabilities @ decoder.fold))
    assert {"to", "too", "fa"} <= set(words)
    for word in ("to", "too", "fa"):
        assert words[word] == pytest.approx(decoder.folded_log_probability(probabilities, word), abs=1e-4)


def test_a_word_misread_by_one_letter_is_corrected_in_its_casing():
    decoder = make_decoder(LEXICON, CHARSET)
    theatre = sure("Th") + [{"o": 0.55, "e": 0.45}] + sure("atre")
    assert read(make_decoder(DecoderSettings(), CHARSET), frames_for(theatre)) == "Thoatre"      # greedy
    assert read(decoder, frames_for(theatre)) == "Theatre"
    city = [{"G": 0.6, "C": 0.4}] + sure("ITY")
    assert read(decoder, frames_for(city)) == "CITY"
    market = sure("MA") + [{"D": 0.7, "R": 0.3}] + sure("KET")
    assert read(decoder, frames_for(market)) == "MARKET"
    # punctuation around the word stays where the model read it
    assert read(decoder, frames_for(sure('"') + theatre + sure('!"'))) == '"Theatre!"'


@pytest.mark.parametrize("text", ["X7Q-42", "$4.99", "12:45", "qzvtk", "www.ab3.io", "MYP", "B9", "9", "D%"])
def test_codes_prices_and_random_strings_keep_their_read(text):
    decoder = make_decoder(LEXICON, CHARSET)
    assert read(decoder, frames_for(sure(text))) == text


def test_the_models_own_scores_can_still_make_a_word():
    """A letter the model barely prefers over another does not keep a non-word from a word; a
    letter it is sure of does (`Thoatre` above, and here the same word read with certainty)."""
    decoder = make_decoder(LEXICON, CHARSET)
    assert read(decoder, frames_for(sure("Thoatre"))) == "Thoatre"


def test_hot_words_win_over_the_general_lexicon(tmp_path):
    general = tmp_path / "general.txt"
    general.write_text("bolt\t500\nthe\t100000\nof\t50000\nand\t40000\n", encoding="utf-8")
    hot = tmp_path / "hot.txt"
    hot.write_text("volt\n", encoding="utf-8")
    spelling = [{"b": 0.55, "v": 0.45}] + sure("olt")
    plain = make_decoder(DecoderSettings(name="lexicon", lexicon=str(general)), CHARSET)
    assert read(plain, frames_for(spelling)) == "bolt"
    with_hot = make_decoder(DecoderSettings(name="lexicon", lexicon=str(general), hot_words=str(hot)), CHARSET)
    assert read(with_hot, frames_for(spelling)) == "volt"
    # a hot word the model's scores rule out is not forced on a read...
    assert read(with_hot, frames_for(sure("bolt"))) == "bolt"
    # ... unless the list is closed: then only its words are read, or nothing
    closed = make_decoder(DecoderSettings(name="lexicon", hot_words=str(hot), closed=True), CHARSET)
    assert read(closed, frames_for(spelling)) == "volt"
    assert closed(frames_for(sure("zzz")))[0] == ("", 0.0)


@pytest.mark.parametrize(("content", "message"), [
    (b"good\t3\nbad\tmany\n", ":2: the count after the tab must be a positive number, got 'many'"),
    (b"good\t3\nzero\t0\n", ":2: the count after the tab must be a positive number, got '0'"),
    (b"ok\n\t5\n", ":2: a word of 1 to 64 characters is needed"),
    (b"caf\xe9\n", ": lexicon is not UTF-8 text (invalid continuation byte at byte 3)"),
    (b"\n\n", ": lexicon holds no word"),
])
def test_bad_lexicon_files_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "words.txt"
    path.write_bytes(content)
    with pytest.raises(LexiconError) as error:
        Lexicon.load(str(path))
    assert str(error.value) == f"{path}{message}" or str(error.value).startswith(f"{path}{message}")
    assert "\n" not in str(error.value)


def test_a_missing_lexicon_names_the_shipped_ones(tmp_path):
    with pytest.raises(LexiconError, match=r"no such lexicon file \(shipped lexicons: en\)"):
        Lexicon.load(str(tmp_path / "nope.txt"))


def test_requested_decoder_follows_what_the_user_typed():
    assert requested_decoder() is None                                     # the card's
    assert requested_decoder("greedy") == DecoderSettings()
    assert requested_decoder("lexicon").lexicon == "en"
    assert requested_decoder(hot_words="h.txt") == DecoderSettings(name="lexicon", hot_words="h.txt")
    with pytest.raises(ConfigError, match="need the lexicon decoder, not greedy"):
        requested_decoder("greedy", lexicon="en")


def test_a_card_names_only_a_shipped_lexicon():
    card = dict(charset="ab", case_sensitive=False, blank=0, height=32, width=100, channels=1, mean=0.5, std=0.5)
    assert ModelCard(**card, decoder={"name": "lexicon", "lexicon": "en"}).decoder_settings().lexicon == "en"
    for decoder in ({"name": "lexicon", "lexicon": "/etc/passwd"}, {"name": "lexicon", "hot_words": "/dev/zero"},
                    {"name": "beam"}, {"name": "lexicon", "lexicon": "en", "weight": "heavy"}, ["lexicon"]):
        with pytest.raises(CardError):
            ModelCard(**card, decoder=decoder)


def test_a_trained_model_carries_its_default_decoder_into_its_card_and_weights_file(tmp_path):
    """model.decoder in the recipe -> the module's hyper-parameters -> the card of its checkpoint,
    safetensors (whose card every export copies); a decoder no card may name fails when the module
    is built, not at export."""
    from crnn_pl.model.weights import read_weights, write_safetensors
    from crnn_pl.runtime.recognizer import Recognizer
    from crnn_pl.training.module import CRNNModule

    small = dict(charset="abc", conv_channels=[4, 4, 4, 4, 4, 4, 4], hidden_size=8)
    module = CRNNModule(**small, decoder={"name": "lexicon", "lexicon": "en"})
    assert module.recognizer().decoder_in_use() == LEXICON
    assert CRNNModule(**small).recognizer().decoder_in_use() == DecoderSettings()
    path = tmp_path / "model.safetensors"
    write_safetensors(path, module.model.state_dict(), dict(module.hparams))
    assert read_weights(path)[1]["decoder"] == {"name": "lexicon", "lexicon": "en"}
    assert Recognizer(path).decoder_in_use() == LEXICON
    with pytest.raises(CardError, match="shipped lexicon"):
        CRNNModule(**small, decoder={"name": "lexicon", "lexicon": "/etc/passwd"})


def test_split_affixes():
    assert split_affixes('"SCAN"') == ('"', "SCAN", '"')
    assert split_affixes("generating,") == ("", "generating", ",")
    assert split_affixes("...") == ("...", "", "")


@pytest.mark.slow
def test_en_keeps_rendered_codes_and_prices_and_reads_them_the_same_everywhere(tmp_path):
    """`en` with the lexicon decoder reads rendered codes, prices and numbers as greedy does;
    crnn-predict --decoder lexicon gives the Recognizer's reads."""
    from PIL import Image

    from crnn_pl import Recognizer
    from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer

    greedy = Recognizer("en", decoder=DecoderSettings())
    lexicon = Recognizer("en", decoder=LEXICON)
    shares = {kind: 0 for kind in ("word", "punctuated", "random", "percent", "date", "time", "phone", "url",
                                   "email", "pattern")}
    settings = RenderSettings.from_config({"font_sources": ["packages"], "turned_prob": 0.0, "stacked_prob": 0.0,
                                           "text": {"shares": shares | {"code": 0.4, "price": 0.3, "number": 0.3}}})
    rendered = WordRenderer(greedy.charset, settings).samples(60, seed=11)
    samples = [(image, label) for image, label in rendered if any(c.isdigit() for c in label)]
    assert len(samples) >= 40, [label for _, label in samples]     # a code may be letters only: not these
    images = [image for image, _ in samples]
    assert [text for text, _ in lexicon.read(images)] == [text for text, _ in greedy.read(images)]
    for index, image in enumerate(images[:8]):
        Image.fromarray(image).save(tmp_path / f"crop_{index}.png")
    result = subprocess.run([sys.executable, "-m", "crnn_pl.predict", str(tmp_path), "--decoder", "lexicon"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = dict(line.split("\t")[:2] for line in result.stdout.splitlines())
    paths = sorted(tmp_path.glob("*.png"))
    assert [rows[str(path)] for path in paths] == [text for text, _ in lexicon.read(paths)]


def test_predict_names_a_bad_lexicon_line_and_exits_1(tmp_path, word_files):
    paths, _ = word_files
    words = tmp_path / "words.txt"
    words.write_text("fine\nsoup\t-4\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "crnn_pl.predict", str(paths[0]), "--lexicon", str(words)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {words}:2: the count after the tab must be a positive number, got '-4'"]
