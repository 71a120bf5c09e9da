"""How every entry point shows a mistake the user can fix: `error: <message>` on one line, exit 1.
`HYDRA_FULL_ERROR=1` shows the traceback instead, for a bug report."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping

from crnn_pl.core.errors import UserError


@contextlib.contextmanager
def exit_on_user_errors() -> Iterator[None]:
    try:
        yield
    except UserError as error:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


def refuse_renamed(cfg: Mapping, renamed: Mapping[str, str]) -> None:
    """Old spellings of a key, kept in the config only to say what they are called now."""
    for old, new in renamed.items():
        if cfg.get(old) is not None:
            raise UserError(f"{old}= is now {new}= (the same spelling in every tool): {new}={cfg.get(old)}")
