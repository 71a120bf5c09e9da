"""Where the dataset-writing tools (crnn-make-lmdb, crnn-make-synth) write: never over what they did
not write, and never half.

A tool writes into a new temporary folder beside OUT and swaps it in only when everything is
written, so a failure or Ctrl-C leaves OUT as it was. It leaves a marker file listing what it wrote;
`--overwrite` replaces an existing OUT only when that marker is there and OUT holds nothing else
and none of the tool's sources. Anything else (the source folder, its parent, a folder of your
own, a folder written before markers existed) is refused with one line, and nothing is deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from crnn_pl.core.errors import UserError

MARKER = ".crnn_pl-output.json"     # left in every folder a tool writes: who wrote it and which files


class OutputError(UserError):
    """An output path the tool will not write to (it exists and is not the tool's own)."""


def files_under(folder: Path) -> set[str]:
    """Every entry below `folder` that is not a folder, as relative POSIX paths."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if not path.is_dir()}


def is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output(output: Path, overwrite: bool, tool: str, sources: Iterable[Path] = ()) -> None:
    """Raise OutputError unless `output` may be written: it does not exist, is an empty folder, or
    (with `overwrite`) is a folder this tool wrote that holds nothing else and none of `sources`."""
    if not os.path.lexists(output):
        return
    if output.is_symlink():
        raise OutputError(f"{output} is a symbolic link; choose a new OUT (nothing was changed)")
    if output.is_dir() and not any(output.iterdir()):
        return
    if not overwrite:
        raise OutputError(f"{output} exists; pass --overwrite to replace it (only a folder {tool} wrote is replaced)")
    if not output.is_dir():
        raise OutputError(f"{output} is a file, not a folder {tool} wrote; it is not replaced (nothing was changed)")
    resolved = output.resolve()
    for source in sources:
        if is_within(Path(source).resolve(), resolved):
            raise OutputError(f"{output} holds the source {source}; it is not replaced: choose another OUT "
                              "(nothing was changed)")
    written = written_files(output)
    if written is None:
        raise OutputError(f"{output} was not written by {tool} (no {MARKER} in it); it is not replaced: "
                          "remove it yourself or choose another OUT (nothing was changed)")
    others = sorted(files_under(output) - written - {MARKER})
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise OutputError(f"{output} holds files {tool} did not write ({shown}); it is not replaced "
                          "(nothing was changed)")


def written_files(folder: Path) -> set[str] | None:
    """The files a tool's marker in `folder` lists, or None when there is no readable marker."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return set(record["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def fresh_output(output: Path, overwrite: bool, tool: str, sources: Iterable[Path] = ()) -> Iterator[Path]:
    """A new temporary folder beside `output` to write into. When the block ends without error the
    folder gets its marker and takes `output`'s place (the old `output`, checked again to be the
    tool's own, is removed only then); on any error or Ctrl-C it is removed and `output` is untouched."""
    sources = list(sources)
    check_output(output, overwrite, tool, sources)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.writing-{os.getpid()}"
    staging.mkdir()
    try:
        yield staging
        files = sorted(files_under(staging))
        (staging / MARKER).write_text(json.dumps({"tool": tool, "files": files}, indent=0), encoding="utf-8")
        check_output(output, overwrite, tool, sources)      # nothing of the user's crept in meanwhile
        replace_folder(staging, output)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def replace_folder(new: Path, output: Path) -> None:
    """`new` takes `output`'s place; the old `output` (already checked to be replaceable) goes after."""
    if not os.path.lexists(output):
        new.rename(output)
        return
    old = output.parent / f".{output.name}.replaced-{os.getpid()}"
    output.rename(old)
    new.rename(output)
    shutil.rmtree(old)


def run_tool(output: Path, write: Callable[[], str]) -> int:
    """A dataset tool's exit status: `write()` (returning what it wrote, printed) is 0; a mistake the
    user can fix is one error line, 1; Ctrl-C, 130, with OUT left as it was."""
    try:
        done = write()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: {output} was left as it was", file=sys.stderr)
        return 130
    print(done)
    return 0
