"""Ground-truth formats of word-crop folders, read line by line with every problem located.

- ICDAR 2015 Challenge 4: `word_1.png, "Genaxis Theatre"` per line; UTF-8 with or without a
  byte-order mark, LF or CRLF, `\\"` and `\\\\` escaped inside the quotes, commas allowed.
- Tab-separated `path<TAB>label` (PaddleOCR's recognition lists), paths relative to the file.
- MJSynth annotations: `./2425/1/115_Lube_45484.jpg 45484`, the label is the file name's middle.

Readers yield `Entry(path, label, where)` or `Malformed(where)` in file order; `check_entries`
keeps the readable entries and records each skipped one in a LoadReport with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from crnn_pl.core.decode import to_array
from crnn_pl.core.textfile import read_text, text_lines
from crnn_pl.data.labels import (
    EMPTY_LABEL,
    MALFORMED,
    MISSING_FILE,
    UNREADABLE,
    DataError,
    LabelFilter,
    LoadReport,
)
from crnn_pl.data.progress import progress

QUOTED_LABEL = re.compile(r'"(?P<label>(?:[^"\\]|\\.)*)"\s*')
ESCAPE = re.compile(r"\\(.)")


class Entry(NamedTuple):
    path: Path
    label: str
    where: str                  # "gt.txt:12", for messages
    written: str | None = None  # the label as the file writes it, once `label` is normalised for a charset


class Malformed(NamedTuple):
    where: str          # "gt.txt:12: 'the line' (what was expected)"


def read_lines(path: Path) -> list[str]:
    """A text file's lines without BOM or line endings; a clear error if it is missing."""
    return text_lines(read_text(path, DataError, f"{path}: ground-truth file not found", "the ground-truth file"))


def numbered_lines(path: Path) -> Iterator[tuple[str, str]]:
    """("file:line", text) of every non-blank line."""
    for line_number, line in enumerate(read_lines(path), 1):
        if line.strip():
            yield f"{path}:{line_number}", line


def read_icdar15(gt_path: Path, image_dir: Path) -> Iterator[Entry | Malformed]:
    for where, line in numbered_lines(gt_path):
        parsed = parse_icdar15_line(line)
        if parsed is None:
            yield Malformed(f"{where}: {line[:60]!r}")
            continue
        yield Entry(image_dir / parsed[0], parsed[1], where)


def parse_icdar15_line(line: str) -> tuple[str, str] | None:
    """(file name, label) of `name, "label"`, or None. The name runs to the comma before the first
    quote, so it may hold commas; scanned once, never backtracking, however long the line."""
    quote = line.find('"')
    head = line[:quote].rstrip() if quote > 0 else ""
    match = QUOTED_LABEL.fullmatch(line, quote) if head.endswith(",") else None
    name = head[:-1].strip()
    if match is None or not name:
        return None
    return name, ESCAPE.sub(r"\1", match["label"])


def format_icdar15_line(file_name: str, label: str) -> str:
    escaped = label.replace("\\", "\\\\").replace('"', '\\"')
    return f'{file_name}, "{escaped}"'


def read_tsv(list_path: Path, root: Path | None = None) -> Iterator[Entry | Malformed]:
    root = root or list_path.parent
    for where, line in numbered_lines(list_path):
        name, tab, label = line.partition("\t")
        if not tab or not name.strip():
            yield Malformed(f"{where}: {line[:60]!r} (expected path<TAB>label)")
            continue
        yield Entry(root / name.strip(), label, where)


def read_mjsynth(annotation_path: Path, root: Path | None = None) -> Iterator[Entry | Malformed]:
    root = root or annotation_path.parent
    for where, line in numbered_lines(annotation_path):
        name = line.split()[0]
        parts = Path(name).stem.split("_")
        if len(parts) != 3:
            yield Malformed(f"{where}: {line[:60]!r} (expected ./dir/N_word_N.jpg N)")
            continue
        yield Entry(root / name, parts[1], where)


def check_entries(entries: Iterable[Entry | Malformed], report: LoadReport, label_filter: LabelFilter | None = None,
                  verify_images: bool = True, description: str = "checking images") -> list[Entry]:
    """Entries whose label is usable and whose image exists (and decodes, when verifying).

    Without a label filter only empty labels are dropped (an LMDB stays charset-neutral).
    """
    kept = []
    for entry in progress(list(entries), description):
        if isinstance(entry, Malformed):
            report.skip(MALFORMED, entry.where)
            continue
        label = entry.label
        if label_filter is not None:
            label, reason = label_filter.clean(label)
            if reason:
                report.skip(reason, f"{entry.where}: {entry.label!r}")
                continue
        elif not label:
            report.skip(EMPTY_LABEL, entry.where)
            continue
        if not entry.path.is_file():
            report.skip(MISSING_FILE, f"{entry.where}: {entry.path}")
            continue
        if verify_images:
            try:
                to_array(entry.path, channels=1)
            except ValueError as error:
                report.skip(UNREADABLE, f"{entry.where}: {error}")
                continue
        report.keep()
        kept.append(Entry(entry.path, label, entry.where, entry.label))
    return kept
