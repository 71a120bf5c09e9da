"""Word lists the lexicon decoder weighs reads against: words people write, with how often they do.

A lexicon file holds one entry per line, `word` or `word<TAB>count`; words are compared case
folded (`Theatre`, `THEATRE` and `theatre` are one entry) and in NFC. Counts are relative
frequencies (any positive numbers); a file without counts gives every word the same one. The
shipped `en` list is wordfreq's 100,000 commonest English words with their frequencies
(`scripts/make_lexicon.py`; data CC BY-SA 4.0, see crnn_pl/core/lexicons/NOTICE).
"""

from __future__ import annotations

import bisect
import functools
import gzip
import math
from pathlib import Path

from crnn_pl.core.charset import nfc
from crnn_pl.core.errors import UserError
from crnn_pl.core.textfile import read_text, text_lines

LEXICON_DIR = Path(__file__).with_name("lexicons")
# Past this a word list is not a lexicon but a corpus: it would take seconds and hundreds of MB
# to load, and no crop holds a word that long.
MAX_ENTRIES = 2_000_000
MAX_WORD_LENGTH = 64
MAX_FILE_BYTES = 100_000_000


class LexiconError(UserError, ValueError):
    """A lexicon (shipped name or file) that cannot be read."""


class Lexicon:
    """Case-folded words with their log relative frequency (natural log, summing to 1 over the
    list), kept sorted so that whether a prefix starts any word is a binary search."""

    def __init__(self, counts: dict[str, float], source: str) -> None:
        if not counts:
            raise LexiconError(f"{source}: lexicon holds no word")
        total = sum(counts.values())
        self.source = source
        self.log_frequency = {word: math.log(count / total) for word, count in counts.items()}
        self.sorted_words = sorted(counts)
        self.alphabet = frozenset("".join(counts))
        self.best_log_frequency = max(self.log_frequency.values())

    def __contains__(self, word: str) -> bool:
        return word in self.log_frequency

    def __len__(self) -> int:
        return len(self.sorted_words)

    def __repr__(self) -> str:
        return f"Lexicon({self.source!r}, {len(self):,} words)"

    def starts_a_word(self, prefix: str) -> bool:
        index = bisect.bisect_left(self.sorted_words, prefix)
        return index < len(self.sorted_words) and self.sorted_words[index].startswith(prefix)

    @classmethod
    def load(cls, name_or_path: str | Path) -> Lexicon:
        """A shipped lexicon by name (`en`, loaded once per process) or a word file a user wrote."""
        if isinstance(name_or_path, str) and name_or_path in shipped_names():
            return load_shipped(name_or_path)
        path = Path(name_or_path)
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise LexiconError(f"{path}: {path.stat().st_size / 1e6:.0f} MB; a lexicon file holds at most "
                               f"{MAX_FILE_BYTES / 1e6:.0f} MB")
        names = ", ".join(shipped_names())
        text = read_text(path, LexiconError, f"{path}: no such lexicon file (shipped lexicons: {names})", "lexicon")
        return cls(parse_counts(text, str(path)), str(path))


def parse_counts(text: str, source: str) -> dict[str, float]:
    """`word` or `word<TAB>count` per line; an error names the file and line of the first bad one."""
    lines = text_lines(text)
    if len(lines) > MAX_ENTRIES:
        raise LexiconError(f"{source}: {len(lines):,} lines; a lexicon holds at most {MAX_ENTRIES:,} words")
    counts: dict[str, float] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        word, tab, count_text = line.partition("\t")
        word = nfc(word.strip()).lower()
        if not word or len(word) > MAX_WORD_LENGTH:
            raise LexiconError(f"{source}:{number}: a word of 1 to {MAX_WORD_LENGTH} characters is needed, "
                               f"got {line[:80]!r}")
        count = 1.0
        if tab:
            try:
                count = float(count_text)
            except ValueError:
                count = math.nan
            if not (count > 0 and math.isfinite(count)):
                raise LexiconError(f"{source}:{number}: the count after the tab must be a positive number, "
                                   f"got {count_text[:40]!r}")
        counts[word] = counts.get(word, 0.0) + count
    return counts


@functools.cache
def load_shipped(name: str) -> Lexicon:
    text = gzip.decompress((LEXICON_DIR / f"{name}.tsv.gz").read_bytes()).decode("utf-8")
    return Lexicon(parse_counts(text, f"lexicon {name}"), f"lexicon {name}")


def shipped_names() -> list[str]:
    return sorted(path.name.removesuffix(".tsv.gz") for path in LEXICON_DIR.glob("*.tsv.gz"))
