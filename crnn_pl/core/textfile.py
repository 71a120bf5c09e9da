"""Reading a text file a user hands over (a dictionary, a corpus, ground truth): UTF-8 with or
without a BOM, and one error naming the file when it is missing or is not UTF-8."""

from __future__ import annotations

from pathlib import Path

from crnn_pl.core.errors import UserError


def read_text(path: Path, error: type[UserError], missing: str, kind: str) -> str:
    """`path`'s text. A missing file raises `error(missing)`; bytes that are not UTF-8 raise `error`
    naming the file, what it is (`kind`) and the first bad byte."""
    if not path.is_file():
        raise error(missing)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as failure:
        raise error(f"{path}: {kind} is not UTF-8 text ({failure.reason} at byte {failure.start})") from None


def text_lines(text: str) -> list[str]:
    """`text`'s lines, split at LF only (CRLF's CR dropped). A form feed, U+2028 or another character
    str.splitlines() also breaks at stays inside its line, so line numbers are the ones an editor
    and `grep -n` show."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
