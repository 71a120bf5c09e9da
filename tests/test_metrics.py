"""Word metrics on imperfect reads, against values worked out by hand."""

import pytest

from crnn_pl.core.metrics import alnum36, edit_distance, one_minus_ned
from crnn_pl.training.metrics import WordMetrics


def test_alnum36_folds_case_and_drops_everything_but_letters_and_digits():
    assert alnum36("Hello, World!") == "helloworld"
    assert alnum36('"CAFÉ-42"') == "caf42"          # É is not in 0-9a-z: dropped, not folded to e
    assert alnum36("...") == ""


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("hello", "hallo", 1),       # one substitution
    ("helo", "hello", 1),        # one insertion needed
    ("helloo", "hello", 1),      # one deletion needed
    ("kitten", "sitting", 3),    # k->s, e->i, +g
    ("", "abc", 3),
    ("abc", "", 3),
    ("", "", 0),
    ("ab", "ba", 2),             # no transpositions in Levenshtein
])
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


@pytest.mark.parametrize(("prediction", "label", "expected"), [
    ("hello", "hello", 1.0),
    ("hallo", "hello", 0.8),          # 1 edit / 5
    ("helo", "hello", 0.8),           # 1 edit / max(4, 5)
    ("helloo", "hello", 1 - 1 / 6),   # 1 edit / max(6, 5): normalised by the longer string
    ("", "hello", 0.0),               # nothing read
    ("xyz", "ab", 0.0),               # nothing right: 3 edits / 3
    ("", "", 1.0),
])
def test_one_minus_ned(prediction, label, expected):
    assert one_minus_ned(prediction, label) == pytest.approx(expected)


def compute(predictions, labels):
    metrics = WordMetrics()
    metrics.update(predictions, labels)
    return metrics.compute()


def test_one_substitution():
    result = compute(["hallo"], ["hello"])
    assert result == pytest.approx({"acc": 0.0, "acc36": 0.0, "cer": 0.2, "ned": 0.8})


def test_insertion_and_deletion():
    inserted = compute(["helloo"], ["hello"])
    assert inserted["cer"] == pytest.approx(1 / 5)           # CER divides by the label's length
    assert inserted["ned"] == pytest.approx(1 - 1 / 6)       # 1-NED by the longer of the two
    deleted = compute(["helo"], ["hello"])
    assert deleted["cer"] == pytest.approx(1 / 5)
    assert deleted["ned"] == pytest.approx(0.8)


def test_empty_prediction():
    result = compute([""], ["abc"])
    assert result == pytest.approx({"acc": 0.0, "acc36": 0.0, "cer": 1.0, "ned": 0.0})


def test_acc36_ignores_case_and_punctuation_but_acc_does_not():
    result = compute(["Hello!", "cafe", "street", "o0"], ["hello", "CAFE", "street", "oo"])
    assert result["acc"] == pytest.approx(1 / 4)        # only "street" is exact
    assert result["acc36"] == pytest.approx(3 / 4)      # "o0" vs "oo" stays wrong
    # CER compares the raw strings: H/h and the extra "!" (2 edits), c/C a/A f/F e/E (4), 0/o (1).
    assert result["cer"] == pytest.approx((2 + 4 + 0 + 1) / (5 + 4 + 6 + 2))


def test_cer_is_pooled_over_characters_and_ned_averaged_over_words():
    result = compute(["hallo", ""], ["hello", "abc"])
    assert result["cer"] == pytest.approx((1 + 3) / (5 + 3))     # 0.5, not the mean of 0.2 and 1.0
    assert result["ned"] == pytest.approx((0.8 + 0.0) / 2)
    assert result["acc"] == 0.0 and result["acc36"] == 0.0


def test_updates_accumulate_until_reset():
    metrics = WordMetrics()
    metrics.update(["hello"], ["hello"])
    metrics.update(["hallo"], ["hello"])
    assert metrics.compute() == pytest.approx({"acc": 0.5, "acc36": 0.5, "cer": 0.1, "ned": 0.9})
    for metric in (metrics.acc, metrics.acc36, metrics.cer, metrics.ned):
        metric.reset()
    metrics.update(["hallo"], ["hello"])
    assert metrics.compute() == pytest.approx({"acc": 0.0, "acc36": 0.0, "cer": 0.2, "ned": 0.8})


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        WordMetrics().update(["a", "b"], ["a"])
