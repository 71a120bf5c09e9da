"""What the file-writing tools share: refuse to overwrite unless asked."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def claim_output(path: Path, overwrite: bool) -> bool:
    """True when `path` is free (removed first with --overwrite); else print why not."""
    if path.exists():
        if not overwrite:
            print(f"error: {path} exists; pass --overwrite to replace it", file=sys.stderr)
            return False
        shutil.rmtree(path)
    return True
