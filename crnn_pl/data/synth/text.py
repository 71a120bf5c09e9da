"""What the renderer writes: the text real signs, shop fronts and documents show.

A `TextSampler` draws one string at a time from a mix of kinds (`dataset.render.text.shares`):
dictionary words in the case styles signs use (ALL CAPS, Title, lower), words with punctuation
attached, numbers, prices, percentages, dates, times, phone numbers, codes mixing letters and
digits, URLs, e-mail addresses, random character strings (so that the model reads letters rather
than a lexicon) and the user's patterns (patterns.py: plates, meter readings, serial numbers). Every
choice draws from the `numpy.random.Generator` passed in.

The words (the corpus, corpus.py) come from wordfreq's list for a language (a PyPI package; word lists CC BY-SA
4.0, see docs/decisions.md), or from the user's file: a word list or running text, cut into words
or into lines (short phrases), drawn uniformly or by frequency. Every entry is NFC; one the charset
cannot write, or longer than fits, is skipped and counted (`TextSampler.report`). A fixed tenth of
the entries, chosen by a hash, never appears in training: the `heldout` split renders only those
(in font families also held out, crnn_pl.data.synth.fonts), which tells reading letters from
recalling a word list.
"""

from __future__ import annotations

import string
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from crnn_pl.core.charset import nfc
from crnn_pl.core.errors import ConfigError
from crnn_pl.data.synth.corpus import CORPUS_UNITS, Corpus, cut_to_length, load_corpus
from crnn_pl.data.synth.patterns import parse_pattern

SPLITS = ("train", "heldout")
HELDOUT_BUCKETS = 10          # one bucket in ten (by hash) of words and font families is held out


def is_heldout(name: str) -> bool:
    """Whether a word or font family belongs to the held-out tenth (stable across machines)."""
    return zlib.crc32(name.lower().encode("utf-8")) % HELDOUT_BUCKETS == 0


@dataclass(frozen=True)
class TextSettings:
    """Knobs of the text: conf/dataset/synth.yaml's `render.text` documents each and is their one
    source of defaults (crnn_pl.data.synth.settings.RenderSettings.from_config fills them)."""

    vocabulary: str
    vocabulary_size: int
    corpus_unit: str
    draw: str
    patterns: tuple[str, ...]
    shares: dict[str, float]
    case_shares: dict[str, float]

    @classmethod
    def from_config(cls, values: dict | None) -> TextSettings:
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"dataset.render.text: unknown setting(s) {sorted(unknown)}; "
                              f"known: {sorted(cls.__dataclass_fields__)}")
        for name, allowed in (("corpus_unit", CORPUS_UNITS), ("draw", DRAWS)):
            if values.get(name) not in allowed:
                raise ConfigError(f"dataset.render.text.{name}={values.get(name)!r}: choose from {list(allowed)}")
        values["patterns"] = tuple(values.get("patterns") or ())
        return cls(**values)


DRAWS = ("uniform", "frequency")    # entries drawn alike, or as often as the corpus holds them
# The kinds that write corpus entries: without a share for one of them no corpus is loaded.
CORPUS_KINDS = ("word", "punctuated", "url", "email")


class TextSampler:
    """Draws strings the `alphabet` can write: one kind by its share, then its text.

    Corpus entries that cannot be drawn are skipped and counted (`skipped`, `report`): characters
    outside the charset's `writable` ones (default: the alphabet), longer than `max_length`, or
    (`can_draw`) no font that draws them all.
    """

    def __init__(self, settings: TextSettings, alphabet: str, max_length: int, split: str = "train",
                 vocabulary: Sequence[str] | None = None,
                 can_draw: Callable[[str], bool] | None = None, writable: str | None = None) -> None:
        if split not in SPLITS:
            raise ConfigError(f"dataset.render.split={split!r}: choose from {list(SPLITS)}")
        self.alphabet, self.max_length = alphabet, max_length
        self.alphabet_set = frozenset(alphabet)
        self.kinds, self.kind_weights = self._weights(settings.shares, KINDS, "shares")
        self.cases, self.case_weights = self._weights(settings.case_shares, CASES, "case_shares")
        self.digits = "".join(c for c in alphabet if c in string.digits)
        self.letters = "".join(c for c in alphabet if c.isalpha())
        self.punctuation = "".join(c for c in alphabet if not c.isalnum())
        self.patterns = tuple(parse_pattern(p, alphabet) for p in settings.patterns)
        if "pattern" in self.kinds and not self.patterns:
            raise ConfigError("dataset.render.text.shares.pattern > 0 needs dataset.render.text.patterns")
        self.source, self.words, self.cumulative = "(no corpus: no kind writes one)", (), None
        self.skipped: Counter[str] = Counter()
        if vocabulary is not None:
            corpus = Corpus("the given vocabulary", tuple(nfc(w) for w in vocabulary), (1.0,) * len(vocabulary))
        elif set(self.kinds) & set(CORPUS_KINDS):
            corpus = load_corpus(settings.vocabulary, settings.vocabulary_size, settings.corpus_unit)
        else:
            return
        self._keep(corpus, split == "heldout", settings.draw, can_draw, set(writable or alphabet))

    def _keep(self, corpus: Corpus, heldout: bool, draw: str, can_draw: Callable[[str], bool] | None,
              allowed: set[str]) -> None:
        self.source = corpus.source
        words, counts = [], []
        for entry, count in zip(corpus.entries, corpus.counts, strict=True):
            if is_heldout(entry) != heldout:
                continue                    # the other split's entry: not a skip
            entry = cut_to_length(entry, self.max_length)
            if not entry:
                self.skipped["longer than max_length"] += 1
            elif not set(entry) <= allowed:
                self.skipped["with characters outside the charset"] += 1
            elif can_draw is not None and not can_draw(entry):
                self.skipped["that no font draws"] += 1
            else:
                words.append(entry)
                counts.append(count)
        self.words = tuple(words)
        if not words:
            raise ConfigError(f"{corpus.source}: no entry of the corpus can be drawn in the "
                              f"{SPLITS[heldout]} split ({self.report()})")
        if draw == "frequency":
            self.cumulative = np.cumsum(np.asarray(counts, dtype=float))

    def report(self) -> str:
        """One line: how many corpus entries are drawn, and how many were skipped and why."""
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        return f"corpus {self.source}: {len(self.words)} entries drawn; skipped: {skipped}"

    @staticmethod
    def _weights(shares: dict[str, float], known: dict, name: str) -> tuple[tuple[str, ...], np.ndarray]:
        unknown = set(shares) - set(known)
        if unknown:
            raise ConfigError(f"dataset.render.text.{name}: unknown kind(s) {sorted(unknown)}; known: {sorted(known)}")
        kinds = tuple(k for k, v in shares.items() if v > 0)
        weights = np.array([shares[k] for k in kinds], dtype=float)
        if not kinds:
            raise ConfigError(f"dataset.render.text.{name}: every share is 0")
        return kinds, weights / weights.sum()

    def sample(self, rng: np.random.Generator) -> str:
        """A string of 1..max_length characters, all in the alphabet."""
        kind = self.kinds[rng.choice(len(self.kinds), p=self.kind_weights)]
        text = KINDS[kind](self, rng)
        if not text or len(text) > self.max_length or not set(text) <= self.alphabet_set:
            text = self.random_string(rng)     # this alphabet cannot write that kind, or it ran long
        return text

    # -- the kinds -------------------------------------------------------------------------------

    def word(self, rng: np.random.Generator) -> str:
        if not self.words:
            return self.random_string(rng)
        if self.cumulative is None:
            word = self.words[rng.integers(len(self.words))]
        else:
            word = self.words[int(np.searchsorted(self.cumulative, rng.random() * self.cumulative[-1], "right"))]
        case = self.cases[rng.choice(len(self.cases), p=self.case_weights)]
        styled = CASES[case](word, rng)
        # a charset without some capitals (or lower case) writes the word as listed
        return styled if set(styled) <= self.alphabet_set else word

    def pattern(self, rng: np.random.Generator) -> str:
        return self.patterns[rng.integers(len(self.patterns))].sample(rng)

    def punctuated(self, rng: np.random.Generator) -> str:
        before, after = PUNCTUATION_AROUND[rng.integers(len(PUNCTUATION_AROUND))]
        return f"{before}{self.word(rng)}{after}"

    def random_string(self, rng: np.random.Generator) -> str:
        length = int(rng.integers(1, min(10, self.max_length) + 1))
        pools = [p for p in (self.alphabet, self.digits, self.letters,
                             self.letters + self.digits + self.punctuation[:4]) if p]
        pool = pools[rng.integers(len(pools))]
        return "".join(pool[i] for i in rng.integers(len(pool), size=length))

    def number(self, rng: np.random.Generator) -> str:
        value = int(10 ** rng.uniform(0, 6))
        style = rng.random()
        if style < 0.2 and value >= 1000:
            return f"{value:,}"
        if style < 0.4:
            return f"{rng.uniform(0, 100):.{rng.integers(1, 3)}f}"
        return str(value)

    def price(self, rng: np.random.Generator) -> str:
        amount = 10 ** rng.uniform(-0.5, 4)
        cents = rng.random() < 0.6
        figure = f"{amount:,.2f}" if cents else f"{int(amount):,}"
        if rng.random() < 0.15:         # European style: 1.299,99
            figure = figure.replace(",", "_").replace(".", ",").replace("_", ".")
        return f"${figure}" if rng.random() < 0.75 else figure

    def percent(self, rng: np.random.Generator) -> str:
        value = int(rng.integers(1, 100)) if rng.random() < 0.8 else round(float(rng.uniform(0, 100)), 1)
        sign = "-" if rng.random() < 0.25 else ""
        return f"{sign}{value}%" + ("!" if rng.random() < 0.1 else "")

    def date(self, rng: np.random.Generator) -> str:
        day, month, year = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1950, 2040))
        style = int(rng.integers(5))
        separator = "/-."[rng.integers(3)]
        if style == 0:
            return f"{day:02d}{separator}{month:02d}{separator}{year}"
        if style == 1:
            return f"{year}-{month:02d}-{day:02d}"
        if style == 2:
            return f"{day}{separator}{month}{separator}{year % 100:02d}"
        if style == 3:
            return f"{MONTHS[month - 1]}{day}" if rng.random() < 0.5 else f"{day}{MONTHS[month - 1].upper()}"
        return f"{day}{('st', 'nd', 'rd', 'th')[min(day % 10, 4) - 1] if day % 10 else 'th'}"

    def time(self, rng: np.random.Generator) -> str:
        hour, minute = int(rng.integers(0, 24)), int(rng.choice([0, 15, 30, 45, rng.integers(60)]))
        style = int(rng.integers(4))
        if style == 0:
            return f"{hour}:{minute:02d}"
        if style == 1:
            return f"{hour % 12 or 12}:{minute:02d}{('am', 'pm', 'AM', 'PM')[rng.integers(4)]}"
        if style == 2:
            start = int(rng.integers(1, 12))
            return f"{start}-{start + int(rng.integers(1, 6))}{('pm', 'am', 'PM')[rng.integers(3)]}"
        return f"{hour:02d}{minute:02d}" + ("hrs" if rng.random() < 0.5 else "H")

    def phone(self, rng: np.random.Generator) -> str:
        def digits(n: int) -> str:
            return "".join(str(d) for d in rng.integers(10, size=n))
        style = int(rng.integers(4))
        if style == 0:
            return f"{digits(4)}-{digits(4)}"
        if style == 1:
            return f"+{digits(2)}-{digits(4)}-{digits(4)}"
        if style == 2:
            return f"({digits(2)}){digits(4)}-{digits(4)}"
        return f"{digits(3)}.{digits(3)}.{digits(4)}"

    def code(self, rng: np.random.Generator) -> str:
        pattern = CODE_PATTERNS[rng.integers(len(CODE_PATTERNS))]
        out = []
        for symbol in pattern:
            if symbol == "A":
                out.append(string.ascii_uppercase[rng.integers(26)])
            elif symbol == "9":
                out.append(str(rng.integers(10)))
            else:
                out.append(symbol)
        return "".join(out)

    def url(self, rng: np.random.Generator) -> str:
        host = self.word(rng).lower()
        prefix = "www." if rng.random() < 0.5 else ""
        suffix = TLDS[rng.integers(len(TLDS))]
        text = f"{prefix}{host}{suffix}"
        return text.upper() if rng.random() < 0.15 else text

    def email(self, rng: np.random.Generator) -> str:
        user = ("info", "sales", "hello", "contact", "shop", "admin")[rng.integers(6)]
        return f"{user}@{self.word(rng).lower()}{TLDS[rng.integers(len(TLDS))]}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TLDS = (".com", ".org", ".net", ".co", ".sg", ".uk", ".io", ".edu.sg", ".com.sg", ".co.uk", ".de", ".info")
# Codes as signs and labels write them: A = a capital letter, 9 = a digit, anything else as is.
CODE_PATTERNS = ("A99", "AA99", "A9A", "999A", "AA-999", "#99-99", "#9", "No.9", "99A", "A9", "AAA9",
                 "9AA", "A-99", "AA9A", "AAA-9999", "9A", "A99A", "99-99", "A.A.", "9/9", "AA99AA")
# Punctuation as real labels carry it (ICDAR 2015: `NOW!`, `(65)`, `"FREE"`, `Kim's`, `#1`, `Inc.`).
PUNCTUATION_AROUND = (("", "."), ("", ","), ("", "!"), ("", ":"), ("", "?"), ("", "'s"), ("(", ")"),
                      ('"', '"'), ("'", "'"), ("#", ""), ("@", ""), ("", ";"), ("", "-"), ("-", ""),
                      ("&", ""), ("", "*"), ("*", ""), ("", "..."), ("", "&"), ("", "/"))

KINDS: dict[str, Callable[[TextSampler, np.random.Generator], str]] = {
    "word": TextSampler.word, "punctuated": TextSampler.punctuated, "random": TextSampler.random_string,
    "number": TextSampler.number, "price": TextSampler.price, "percent": TextSampler.percent,
    "date": TextSampler.date, "time": TextSampler.time, "phone": TextSampler.phone, "code": TextSampler.code,
    "url": TextSampler.url, "email": TextSampler.email, "pattern": TextSampler.pattern,
}
CASES: dict[str, Callable[[str, np.random.Generator], str]] = {
    "upper": lambda w, rng: w.upper(),
    "lower": lambda w, rng: w.lower(),
    "title": lambda w, rng: w[:1].upper() + w[1:].lower(),
    "as_listed": lambda w, rng: w,
    "mixed": lambda w, rng: "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in w),
}

