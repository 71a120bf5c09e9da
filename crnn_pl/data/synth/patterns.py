"""Pattern text: strings of a fixed shape (plates, meter readings, serial numbers, codes).

The spec is a small part of regular expressions, documented where users write it
(conf/dataset/synth.yaml `render.text.patterns`, docs/train_your_language.md).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np

from crnn_pl.core.errors import ConfigError


@dataclass(frozen=True)
class Pattern:
    """Text of a fixed shape (plates, meter readings, serial numbers): a sequence of character pools,
    each repeated between a least and a most number of times."""

    spec: str
    pieces: tuple[tuple[str, int, int], ...]

    def sample(self, rng: np.random.Generator) -> str:
        out = []
        for pool, least, most in self.pieces:
            count = int(rng.integers(least, most + 1))
            out.extend(pool[i] for i in rng.integers(len(pool), size=count))
        return "".join(out)


# The pattern spec, a small part of regular expressions: `[...]` a class of characters with ranges
# (`[A-Z0-9]`), `\d` a digit, `\` before a character to take it literally, any other character
# itself, each optionally followed by `{n}` or `{m,n}`. E.g. `[A-Z]{2}[0-9]{2} [A-Z]{3}`.
PATTERN_ATOM = re.compile(r"\[(?P<cls>(?:\\.|[^\]\\])+)\]|\\(?P<escaped>.)|(?P<literal>[^\\\[\]{}])")
PATTERN_REPEAT = re.compile(r"\{(\d+)(?:,(\d+))?\}")


def parse_pattern(spec: str, alphabet: str) -> Pattern:
    """`spec` parsed; a ConfigError names the pattern when it is malformed or writes a character
    outside `alphabet`."""
    pieces, position = [], 0
    while position < len(spec):
        atom = PATTERN_ATOM.match(spec, position)
        if atom is None:
            raise ConfigError(f"dataset.render.text.patterns: {spec!r}: cannot read {spec[position:]!r} "
                              "(classes [..], \\d, literals, {n} or {m,n})")
        if atom["cls"] is not None:
            pool = expand_class(atom["cls"], spec)
        elif atom["escaped"] is not None:
            pool = string.digits if atom["escaped"] == "d" else atom["escaped"]
        else:
            pool = atom["literal"]
        position = atom.end()
        least = most = 1
        repeat = PATTERN_REPEAT.match(spec, position)
        if repeat:
            least = int(repeat[1])
            most = int(repeat[2]) if repeat[2] is not None else least
            position = repeat.end()
            if most < least:
                raise ConfigError(f"dataset.render.text.patterns: {spec!r}: {repeat[0]} has its most below its least")
        pieces.append((pool, least, most))
    outside = sorted({c for pool, _, _ in pieces for c in pool} - set(alphabet))
    if outside:
        raise ConfigError(f"dataset.render.text.patterns: {spec!r} writes {''.join(outside)!r}, outside the charset")
    return Pattern(spec, tuple(pieces))


def expand_class(body: str, spec: str) -> str:
    """The characters of a class body such as `A-Z0-9_`; a backslash takes `-`, `]` or itself literally."""
    characters, index = [], 0
    while index < len(body):
        escaped = body[index] == "\\"
        character = body[index + 1] if escaped else body[index]
        index += 2 if escaped else 1
        if index + 1 < len(body) and body[index] == "-":
            end = body[index + 1]
            if ord(end) < ord(character):
                raise ConfigError(f"dataset.render.text.patterns: {spec!r}: range {character}-{end} runs backwards")
            characters.extend(chr(c) for c in range(ord(character), ord(end) + 1))
            index += 2
        else:
            characters.append(character)
    return "".join(dict.fromkeys(characters))
