import numpy as np
import pytest
import torch

from crnn_pl.core.charset import BLANK, Charset, build_charset


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
    assert blank_confidence == 0.0          # nothing read: no confidence in any word


def torch_reference_decode(charset: Charset, logits: torch.Tensor) -> list[tuple[str, float]]:
    """Greedy CTC decoding written with torch ops, to check the numpy decoder against."""
    best_probabilities, best_classes = logits.float().softmax(-1).max(-1)
    results = []
    for classes, scores in zip(best_classes.tolist(), best_probabilities.tolist(), strict=True):
        kept = [(c, s) for i, (c, s) in enumerate(zip(classes, scores, strict=True))
                if c != 0 and (i == 0 or classes[i - 1] != c)]
        text = "".join(charset.characters[c - 1] for c, _ in kept)
        results.append((text, sum(s for _, s in kept) / len(kept) if kept else 0.0))
    return results


def test_numpy_greedy_decode_agrees_with_torch_on_random_logits():
    charset = Charset.preset("alnum36")
    logits = torch.randn(64, 26, charset.num_classes, generator=torch.Generator().manual_seed(0)) * 4
    logits[:8, :, 0] += 30                  # some all-blank rows
    expected = torch_reference_decode(charset, logits)
    for given in (logits, logits.numpy(), logits.double().numpy()):
        decoded = charset.decode_greedy(given)
        assert [t for t, _ in decoded] == [t for t, _ in expected]
        assert np.allclose([c for _, c in decoded], [c for _, c in expected], atol=1e-5)
    assert sum(t == "" for t, _ in expected) >= 8 and sum(t != "" for t, _ in expected) >= 40


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
