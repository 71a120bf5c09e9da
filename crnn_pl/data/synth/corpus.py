"""The corpus: the words or short phrases the renderer writes, from wordfreq or the user's file.

Every entry is NFC (crnn_pl.core.charset.nfc) and carries how often its source holds it, the
weight of `draw: frequency`. Which entries a charset and the fonts can draw is the sampler's
business (crnn_pl.data.synth.text.TextSampler), which skips and counts the others.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from crnn_pl.core.charset import nfc
from crnn_pl.core.errors import ConfigError
from crnn_pl.core.textfile import read_text

CORPUS_UNITS = ("word", "line")     # a file's entries: its whitespace-separated words, or its lines
BUNDLED_WORDS = Path(__file__).with_name("words.txt")


@dataclass(frozen=True)
class Corpus:
    """Distinct entries (words or short phrases, NFC) and how often the source holds each."""

    source: str
    entries: tuple[str, ...]
    counts: tuple[float, ...]


@lru_cache(maxsize=8)
def load_corpus(source: str, size: int, unit: str = "word") -> Corpus:
    """`wordfreq:<language>` (its `size` most frequent words, weighted by frequency), `bundled` (the
    29,685-word SCOWL list shipped before wordfreq) or a UTF-8 text file: a word list or running
    text, cut into words or lines by `unit`, each distinct entry weighted by how often it occurs."""
    if source.startswith("wordfreq:"):
        return wordfreq_corpus(source.split(":", 1)[1], size)
    path = BUNDLED_WORDS if source == "bundled" else Path(source)
    text = nfc(read_text(path, ConfigError, f"dataset.render.text.vocabulary={source}: no such file", "the corpus"))
    if unit == "word":
        pieces = text.split()
    else:
        pieces = [" ".join(line.split()) for line in text.splitlines()]
    counts = Counter(piece for piece in pieces if piece)
    if not counts:
        raise ConfigError(f"{path}: the corpus is empty (no {unit} to draw)")
    entries = tuple(counts)[:size]          # first-seen order: a frequency-sorted list keeps its top
    return Corpus(str(path), entries, tuple(float(counts[e]) for e in entries))


def wordfreq_corpus(language: str, size: int) -> Corpus:
    try:
        import wordfreq
    except ImportError:
        raise ConfigError("dataset.render.text.vocabulary=wordfreq:...: wordfreq is not installed; "
                          "pip install 'crnn_pl[train]'") from None
    available = wordfreq.available_languages(wordlist="best")
    if language not in available:
        raise ConfigError(f"dataset.render.text.vocabulary=wordfreq:{language}: wordfreq has no list for "
                          f"{language!r}; it has {sorted(available)}")
    # "best": the large list where wordfreq has one (en, ru), else the small one (vi, el)
    frequencies = wordfreq.get_frequency_dict(language, wordlist="best")
    words = wordfreq.top_n_list(language, size, wordlist="best")
    return Corpus(f"wordfreq:{language}", tuple(nfc(w) for w in words), tuple(frequencies.get(w, 0.0) for w in words))


def cut_to_length(entry: str, max_length: int) -> str:
    """A phrase cut at its last space that keeps it within `max_length` ("" if its first word is
    longer); a single word is kept whole or not at all."""
    if len(entry) <= max_length:
        return entry
    head = entry[:max_length + 1]
    return head[:head.rfind(" ")].rstrip() if " " in head else ""
