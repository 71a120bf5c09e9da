"""CTC decoders: frame scores (batch, frames, classes) to (text, confidence), in numpy.

`greedy` is best-path decoding (the charset's own). `lexicon` weighs the model's CTC scores
against a prior on what people write: a read is scored

    log P(text | image) + weight * log prior(text)

where P is the CTC probability summed over every alignment (exact, by the forward algorithm) and
the prior is the word's frequency in the lexicon, or `unknown` per character (floored) for a text
in no lexicon; punctuation around a word costs `unknown` per character either way. Only a greedy
read that is not a word is rescored, and only by words at most MAX_EDITS edits from it. The
candidates are the greedy read and the words a CTC prefix beam search ends on, growing only
prefixes of lexicon words over case-folded scores; the winner takes the casing the model scores
highest. A number, a price, a code or a random string keeps its
greedy read unless the model's own scores make a word likelier by more than the prior's margin.
Hot words (a user's list) get `hot_word_prior`, about the commonest English word's, and `closed`
reads only listed words. The weights were chosen on the development set (docs/decisions.md,
decoding against a word list).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crnn_pl.core.charset import BLANK, Charset
from crnn_pl.core.errors import ConfigError
from crnn_pl.core.lexicon import Lexicon
from crnn_pl.core.metrics import edit_distance

DECODERS = ("greedy", "lexicon")
BEAM_WIDTH = 8
# A letter scored below this in a frame does not extend a beam there: it could hardly win, and
# pruning it keeps the search within its time budget (docs/decisions.md).
PRUNE_BELOW = 1e-3
MAX_EDITS = 2              # a word replaces a read it is at most this many edits from (case folded)
MAX_SEARCH_LENGTH = 32     # a longer greedy read is a line, not a word: read greedily
BEAM_FLOOR = 1e-4          # a prefix under this share of the likeliest one's mass is dropped
MAX_CACHED_PREFIXES = 200_000
RESCALE_EVERY = 8          # frames; float64 holds a product of 8 probabilities down to 1e-38 each


@dataclass(frozen=True)
class DecoderSettings:
    """How a model reads by default (in its card) or as a user asked (crnn-predict --decoder)."""

    name: str = "greedy"
    lexicon: str | None = None          # a shipped lexicon name (en) or a word file
    # Chosen on the development set (docs/decisions.md, decoding):
    weight: float = 1.0                 # times the log prior
    unknown: float = -3.5               # log prior per character of a text in no lexicon ...
    unknown_floor: float = -18.0        # ... and no less than this (the rarest `en` word has -16.2)
    hot_words: str | None = None        # a user's word file: these win over the general lexicon ...
    hot_word_prior: float = -3.0        # ... each with this log prior (the commonest English word has -2.9)
    closed: bool = False                # read only lexicon words

    def __post_init__(self) -> None:
        if self.name not in DECODERS:
            raise ConfigError(f"decoder must be one of {', '.join(DECODERS)}, got {self.name!r}")
        for key in ("weight", "unknown", "unknown_floor", "hot_word_prior"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"decoder {key} must be a finite number, got {value!r}")
        if self.weight < 0:
            raise ConfigError(f"decoder weight must be at least 0, got {self.weight}")
        if self.name == "lexicon" and self.lexicon is None and self.hot_words is None:
            raise ConfigError("the lexicon decoder needs a lexicon (e.g. en) or hot words")

    def describe(self) -> str:
        if self.name == "greedy":
            return "greedy"
        lists = (("lexicon", self.lexicon), ("hot words", self.hot_words))
        words = " + ".join(f"{kind} {value}" for kind, value in lists if value)
        return (f"lexicon: {words}{' only' if self.closed else ''} (weight {self.weight}, unknown {self.unknown} "
                f"per character, floor {self.unknown_floor})")

    @classmethod
    def from_mapping(cls, values: dict | None, source: str) -> DecoderSettings:
        if values is None:
            return cls()
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: decoder must be a mapping, got {type(values).__name__}")
        unknown_keys = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown_keys:
            raise ConfigError(f"{source}: decoder has unknown keys {unknown_keys}")
        try:
            return cls(**values)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None


def requested_decoder(decoder: str | None = None, lexicon: str | None = None, hot_words: str | None = None,
                      lexicon_only: bool = False) -> DecoderSettings | None:
    """What a user asked for (crnn-predict --decoder/--lexicon/--hot-words/--lexicon-only, crnn-eval
    decoder= lexicon= hot_words= lexicon_only=); None: as the model card says. A word list given
    implies the lexicon decoder; the lexicon decoder with none given reads against `en`'s words."""
    wants_words = bool(lexicon or hot_words or lexicon_only)
    if decoder is None and not wants_words:
        return None
    if decoder == "greedy":
        if wants_words:
            raise ConfigError("a lexicon, hot words or lexicon-only need the lexicon decoder, not greedy")
        return DecoderSettings()
    if lexicon is None and hot_words is None:
        lexicon = "en"
    return DecoderSettings(name=decoder or "lexicon", lexicon=lexicon, hot_words=hot_words, closed=lexicon_only)


def make_decoder(settings: DecoderSettings, charset: Charset) -> GreedyDecoder:
    """The decoder `settings` names, for a model over `charset`."""
    return GreedyDecoder(charset) if settings.name == "greedy" else LexiconDecoder(charset, settings)


class GreedyDecoder:
    """Best-path decoding. `decoder(scores)`: (batch, frames, classes) scores to (text, confidence)
    per crop; `refine(read, frames)`: one crop's greedy read, given its (frames, classes) scores,
    as this decoder reads it (the Recognizer compares a crop's views greedily, then refines one)."""

    def __init__(self, charset: Charset) -> None:
        self.charset = charset

    def __call__(self, logits: np.ndarray) -> list[tuple[str, float]]:
        return self.charset.decode_greedy(logits)

    def refine(self, greedy: tuple[str, float], frames: np.ndarray) -> tuple[str, float]:
        return greedy


class LexiconDecoder(GreedyDecoder):
    """Greedy reads rescored against lexicon words (module docstring)."""

    def __init__(self, charset: Charset, settings: DecoderSettings) -> None:
        self.charset, self.settings = charset, settings
        self.lexicon = Lexicon.load(settings.lexicon) if settings.lexicon else None
        self.hot_words = Lexicon.load(settings.hot_words) if settings.hot_words else None
        self.hot_prior = settings.hot_word_prior
        self.best_prior = max(self.hot_prior if self.hot_words else -math.inf,
                              self.lexicon.best_log_frequency if self.lexicon else -math.inf)
        self.searched = [lexicon for lexicon in (self.hot_words, self.lexicon) if lexicon is not None]
        # The case-folded classes: folded[:, k] sums the scores of every character folding to the
        # k-th letter any lexicon spells with; column 0 is the blank.
        spelled = sorted(set().union(*(lexicon.alphabet for lexicon in self.searched))
                         & set(charset.characters.lower()))
        self.letters = "".join(spelled)
        fold = np.zeros((charset.num_classes, len(spelled) + 1), dtype=np.float32)
        fold[BLANK, 0] = 1.0
        for index, character in enumerate(charset.characters, 1):
            if character.lower() in spelled:
                fold[index, spelled.index(character.lower()) + 1] = 1.0
        self.fold = fold
        self.prefixes: dict[str, bool] = {}

    def __call__(self, logits: np.ndarray) -> list[tuple[str, float]]:
        if not isinstance(logits, np.ndarray):
            logits = logits.detach().float().cpu().numpy()
        reads = self.charset.decode_greedy(logits)
        return [self.refine(read, frames) for read, frames in zip(reads, logits, strict=True)]

    def refine(self, greedy: tuple[str, float], frames: np.ndarray) -> tuple[str, float]:
        text = greedy[0]
        lead, core, trail = split_affixes(text)
        if len(text) > MAX_SEARCH_LENGTH or (self.in_lexicon(core) and self.hot_words is None):
            return greedy       # a line rather than a word, or already a word with no hot word to prefer
        probabilities = softmax(frames)
        weight = self.settings.weight
        # Words and the greedy read compete case folded (a prior knows `sale`, not `SALE`)...
        scored = []
        if text:
            log_probability = self.folded_log_probability(probabilities, text)
            scored.append((log_probability + weight * self.prior(text), text))
            # No other text is likelier than 1 - P(read): past that bound no word's prior can win
            unlikely = math.log(max(-math.expm1(log_probability), 1e-300))
            if unlikely + weight * self.best_prior < scored[0][0]:
                return greedy
        for word, log_probability in self.search(probabilities @ self.fold):
            if edit_distance(word, core.lower()) > MAX_EDITS:
                continue        # a rewrite, not a misread: an unsure `2026` is not the word `a`
            scored.append((log_probability + weight * self.prior(word), word))
            if lead or trail:       # the read's punctuation around the word: `generating,` `"SCAN"`
                framed = lead + word + trail
                log_probability = self.folded_log_probability(probabilities, framed)
                scored.append((log_probability + weight * self.prior(framed), framed))
        score, best = max(scored, default=(-math.inf, ""))
        if not math.isfinite(score):
            return "", 0.0          # closed, and the model's scores allow no lexicon word
        if best == text:
            return greedy
        # ... and the winning word is written in the casing the model scores highest.
        casing, log_probability = self.best_casing(best, text, probabilities)
        return casing, math.exp(log_probability / len(casing))     # its CTC probability per character

    def in_lexicon(self, text: str) -> bool:
        return any(text.lower() in lexicon for lexicon in self.searched)

    def prior(self, text: str) -> float:
        """log prior of a read: its word's frequency, or for a word in no lexicon `unknown` per
        character but no less than `unknown_floor` (a rare real word is likelier than a random
        string of its length); plus `unknown` per character of the punctuation around it."""
        lead, core, trail = split_affixes(text)
        folded = core.lower()
        if self.hot_words is not None and folded in self.hot_words:
            word = self.hot_prior
        elif self.lexicon is not None and folded in self.lexicon:
            word = self.lexicon.log_frequency[folded]
        elif self.settings.closed:
            return -math.inf
        else:
            word = max(self.settings.unknown * len(core), self.settings.unknown_floor) if core else 0.0
        return word + self.settings.unknown * len(lead + trail)

    def starts_a_word(self, prefix: str) -> bool:
        known = self.prefixes.get(prefix)
        if known is None:
            if len(self.prefixes) > MAX_CACHED_PREFIXES:
                self.prefixes.clear()
            known = self.prefixes[prefix] = any(lexicon.starts_a_word(prefix) for lexicon in self.searched)
        return known

    def search(self, folded: np.ndarray) -> list[tuple[str, float]]:
        """The lexicon words a CTC prefix beam search over folded scores (frames, letters + 1) ends
        on, with their log probabilities. Only prefixes of lexicon words grow; each frame keeps the
        BEAM_WIDTH likeliest, less any under BEAM_FLOOR of the likeliest's mass."""
        beams: dict[str, tuple[float, float]] = {"": (1.0, 0.0)}      # prefix: (ends in blank, ends in its letter)
        log_scale = 0.0
        hopeful = folded[:, 1:] > PRUNE_BELOW
        for row, letter_indices in zip(folded.tolist(), hopeful.tolist(), strict=True):
            blank = row[0]
            letters = [(self.letters[k], row[k + 1]) for k, hope in enumerate(letter_indices) if hope]
            if not letters:         # no letter here: every prefix stays, ending in a blank
                if blank == 0:
                    return []
                log_scale += math.log(blank)
                beams = {prefix: (b + n, 0.0) for prefix, (b, n) in beams.items()}
                continue
            grown: dict[str, list[float]] = {}
            for prefix, (ends_blank, ends_letter) in beams.items():
                total = ends_blank + ends_letter
                entry = grown.setdefault(prefix, [0.0, 0.0])
                entry[0] += total * blank
                last = prefix[-1:]
                for letter, probability in letters:
                    if letter == last:
                        entry[1] += ends_letter * probability      # the same letter, not a new one
                        mass = ends_blank * probability            # a double letter needs a blank between
                    else:
                        mass = total * probability
                    longer = prefix + letter
                    if self.starts_a_word(longer):
                        grown.setdefault(longer, [0.0, 0.0])[1] += mass
            kept = sorted(grown.items(), key=lambda item: -(item[1][0] + item[1][1]))[:BEAM_WIDTH]
            top = kept[0][1][0] + kept[0][1][1]     # rescaled each frame: no underflow on long crops
            if top == 0:
                return []
            log_scale += math.log(top)
            beams = {prefix: (b / top, n / top) for prefix, (b, n) in kept if b + n >= BEAM_FLOOR * top}
        return [(prefix, math.log(b + n) + log_scale) for prefix, (b, n) in beams.items()
                if b + n > 0 and self.in_lexicon(prefix)]

    def folded_log_probability(self, probabilities: np.ndarray, text: str) -> float:
        """log P(text | frames) with each letter's case variants counted as one."""
        columns = [self.charset.encode(variant) for variant in {text.lower(), text.upper()}
                   if len(variant) == len(text) and self.charset.can_encode(variant)]
        if not columns:
            return -math.inf
        emissions = np.zeros((len(probabilities), len(text)))
        for index in range(len(text)):
            for column in {c[index] for c in columns}:
                emissions[:, index] += probabilities[:, column]
        return float(ctc_log_likelihood(probabilities[:, BLANK], emissions[None], label_repeats(text)[None])[0])

    def best_casing(self, word: str, read: str, probabilities: np.ndarray) -> tuple[str, float]:
        """`word` in the casing the model scores highest (as the read had it, lower, Title, UPPER),
        with that casing's CTC log probability."""
        lead, core, trail = split_affixes(word)
        cores = {core.lower(), core.capitalize(), core.upper()}
        read_core = split_affixes(read)[1]
        if len(read_core) == len(core):
            cores.add("".join(c.upper() if r.isupper() else c.lower() for r, c in zip(read_core, core, strict=True)))
        casings = sorted(lead + casing + trail for casing in cores)
        casings = [casing for casing in casings if len(casing) == len(word) and self.charset.can_encode(casing)]
        if not casings:
            return word, -math.inf
        emissions = np.stack([probabilities[:, self.charset.encode(casing)] for casing in casings])
        repeats = np.stack([label_repeats(casing) for casing in casings])
        log_probabilities = ctc_log_likelihood(probabilities[:, BLANK], emissions, repeats)
        best = int(np.argmax(log_probabilities))
        return casings[best], float(log_probabilities[best])


def split_affixes(text: str) -> tuple[str, str, str]:
    """A read as (leading punctuation, the word, trailing punctuation): `"SCAN"` -> `"`, `SCAN`, `"`."""
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[:start], text[start:end], text[end:]


def softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float64)
    exponentials = np.exp(scores - scores.max(-1, keepdims=True))
    return exponentials / exponentials.sum(-1, keepdims=True)


def label_repeats(text: str) -> np.ndarray:
    """Per letter: whether it repeats the letter before it (case folded), so CTC needs a blank between."""
    folded = text.lower()
    return np.array([i > 0 and folded[i] == folded[i - 1] for i in range(len(folded))], dtype=bool)


def ctc_log_likelihood(blank: np.ndarray, emissions: np.ndarray, repeats: np.ndarray) -> np.ndarray:
    """log P(label | frames) for K labels of one length L, by the CTC forward algorithm in
    probability space, rescaled each frame. `blank`: (T,) the blank's probability per frame;
    `emissions`: (K, T, L) each label letter's probability per frame; `repeats`: (K, L) as
    label_repeats gives. Returns (K,)."""
    count, frames, length = emissions.shape
    if length == 0:
        return np.full(count, float(np.log(blank).sum()))
    states = 2 * length + 1
    # emission per state: the blank at even states, the letters at odd ones
    per_state = np.empty((count, frames, states))
    per_state[:, :, 0::2] = blank[None, :, None]
    per_state[:, :, 1::2] = emissions
    # a letter's state may be entered from the letter before it, skipping their blank, unless they repeat
    skip = np.zeros((count, states))
    skip[:, 3::2] = ~repeats[:, 1:]
    per_frame = np.ascontiguousarray(per_state.transpose(1, 0, 2))
    alpha = np.zeros((count, states))
    alpha[:, :2] = per_frame[0, :, :2]
    log_scale = np.zeros(count)
    for t in range(1, frames):
        moved = alpha.copy()
        moved[:, 1:] += alpha[:, :-1]
        moved[:, 2:] += skip[:, 2:] * alpha[:, :-2]
        alpha = moved * per_frame[t]
        if t % RESCALE_EVERY == 0 or t == frames - 1:    # often enough that no product underflows
            total = alpha.sum(1)
            total[total == 0] = 1.0
            alpha /= total[:, None]
            log_scale += np.log(total)
    with np.errstate(divide="ignore"):
        return np.log(alpha[:, -1] + alpha[:, -2]) + log_scale
