"""Write the shipped English lexicon, crnn_pl/core/lexicons/en.tsv.gz, from wordfreq (the train extra).

    python scripts/make_lexicon.py

Its 100,000 commonest English words made of letters (an apostrophe inside allowed: `don't`), each
with its frequency per billion words. Numbers, codes and names with digits are left out on purpose:
the decoder must keep their reads as the model gives them.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crnn_pl.cli.arguments import Parser, number_in  # noqa: E402
from crnn_pl.core.lexicon import LEXICON_DIR  # noqa: E402

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", default="en")
    parser.add_argument("--words", type=number_in(1), default=100_000, help="how many of the commonest words")
    parser.add_argument("--output", type=Path, help="default: crnn_pl/core/lexicons/<language>.tsv.gz")
    args = parser.parse_args(argv)
    import wordfreq

    output = args.output or LEXICON_DIR / f"{args.language}.tsv.gz"
    rows = []
    for word in wordfreq.iter_wordlist(args.language):
        if WORD.fullmatch(word):
            rows.append(f"{word}\t{max(1, round(wordfreq.word_frequency(word, args.language) * 1e9))}\n")
            if len(rows) == args.words:
                break
    # mtime 0: the same words give the same bytes, so the file changes in git only when they do
    output.write_bytes(gzip.compress("".join(rows).encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {output}: {len(rows):,} words, {output.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
