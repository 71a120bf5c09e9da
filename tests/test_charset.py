import pytest
import torch

from crnn_pl.charset import BLANK, Charset, build_charset


def test_blank_is_zero_and_class_count_includes_it():
    charset = Charset.preset("alnum36")
    assert charset.blank == BLANK == 0
    assert len(charset) == 36
    assert charset.num_classes == 37
    assert Charset.preset("printable94").num_classes == 95


@pytest.mark.parametrize("preset,text", [("alnum36", "hello42"), ("printable94", "Hi,World!")])
def test_encode_decode_round_trip(preset, text):
    charset = Charset.preset(preset)
    indices = charset.encode(text)
    assert BLANK not in indices
    assert charset.decode_indices(indices) == charset.normalize(text)


def test_case_insensitive_charset_folds_labels():
    charset = Charset.preset("alnum36")
    assert charset.encode("ABC") == charset.encode("abc")
    assert charset.normalize("Hello") == "hello"


def test_unknown_character_is_reported():
    charset = Charset.preset("alnum36")
    assert charset.unknown_characters("a-b!") == {"-", "!"}
    assert not charset.can_encode("a-b")
    with pytest.raises(ValueError, match="'-'"):
        charset.encode("a-b")


def test_encode_batch_concatenates_targets():
    charset = Charset("abc")
    targets, lengths = charset.encode_batch(["ab", "c", "cab"])
    assert targets.tolist() == [1, 2, 3, 3, 1, 2]
    assert lengths.tolist() == [2, 1, 3]


def one_hot_logits(classes: list[int], num_classes: int, confidence: float = 10.0) -> torch.Tensor:
    logits = torch.zeros(len(classes), num_classes)
    logits[torch.arange(len(classes)), torch.tensor(classes)] = confidence
    return logits


def test_greedy_decode_collapses_repeats_and_drops_blanks():
    charset = Charset("abl")  # a=1, b=2, l=3
    # frames: a a _ b b _ b l l _  -> "abbl" (the blank separates the repeated b)
    frames = [1, 1, 0, 2, 2, 0, 2, 3, 3, 0]
    batch = torch.stack([one_hot_logits(frames, 4), one_hot_logits([0] * 10, 4)])
    (text, confidence), (empty, blank_confidence) = charset.decode_greedy(batch)
    assert text == "abbl"
    assert empty == ""
    assert 0.99 < confidence <= 1.0
    assert 0.99 < blank_confidence <= 1.0


def test_greedy_confidence_drops_with_uncertain_frames():
    charset = Charset("ab")
    sure = one_hot_logits([1, 0, 2], 3, confidence=10.0)
    unsure = one_hot_logits([1, 0, 2], 3, confidence=0.5)
    (_, high), (_, low) = charset.decode_greedy(torch.stack([sure, unsure]))
    assert low < 0.6 < 0.99 < high


def test_charset_from_file_one_character_per_line(tmp_path):
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("\ufeffа\r\nб\r\nв\r\n", encoding="utf-8")
    charset = build_charset(path=str(dictionary))
    assert charset.characters == "абв"
    assert charset.decode_indices(charset.encode("ваб")) == "ваб"


def test_charset_file_with_bad_line_names_file_and_line(tmp_path):
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("a\nbc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dict.txt:2"):
        Charset.from_file(dictionary)


def test_duplicate_characters_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        Charset("abca")
