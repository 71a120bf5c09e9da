"""A progress bar for long, one-off work (checking images, indexing LMDBs, exporting)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TypeVar

from rich.progress import track

T = TypeVar("T")

MIN_ITEMS = 2_000   # below this the work takes a blink; a bar would only add noise


def progress(items: Sequence[T], description: str, total: int | None = None) -> Iterator[T]:
    total = len(items) if total is None else total
    if total < MIN_ITEMS or not sys.stderr.isatty():
        yield from items
        return
    yield from track(items, description=description, total=total, transient=True)
