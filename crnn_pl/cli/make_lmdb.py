"""`crnn-make-lmdb`: word crops and their labels -> one text-recognition LMDB.

    crnn-make-lmdb OUT --icdar15 DIR [--gt FILE]     ICDAR 2015-format folder (gt.txt inside)
    crnn-make-lmdb OUT --tsv FILE [--root DIR]       lines of path<TAB>label
    crnn-make-lmdb OUT --mjsynth FILE [--root DIR]   MJSynth annotation (label in the file name)

Every image is decoded before it is written; what is skipped is counted and printed with the
file and line it came from. Labels are stored as they are (UTF-8): the charset is applied when
a DataModule reads the database, so one LMDB serves every charset. The database is written beside
OUT and moved into place only when complete; --overwrite replaces only a database this tool wrote
(crnn_pl.cli.output), never a folder that holds the source or anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crnn_pl.cli.arguments import Parser
from crnn_pl.cli.output import check_output, fresh_output, run_tool
from crnn_pl.data.ground_truth import Entry, check_entries, read_icdar15, read_mjsynth, read_tsv
from crnn_pl.data.labels import DataError, LoadReport
from crnn_pl.data.lmdb_store import LmdbWriter
from crnn_pl.data.progress import progress

TOOL = "crnn-make-lmdb"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog=TOOL, description=__doc__.split("\n")[0])
    parser.add_argument("output", type=Path, help="LMDB folder to create")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--icdar15", type=Path, metavar="DIR", help="folder of crops with an ICDAR 2015 gt file")
    source.add_argument("--tsv", type=Path, metavar="FILE", help="path<TAB>label lines")
    source.add_argument("--mjsynth", type=Path, metavar="FILE", help="MJSynth annotation file")
    parser.add_argument("--gt", type=Path, help="ICDAR 2015 ground truth (default: DIR/gt.txt)")
    parser.add_argument("--root", type=Path, help="folder image paths are relative to (default: the list's folder)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUTPUT if this tool wrote it (never a folder holding anything else)")
    return parser.parse_args(argv)


def read_source(args: argparse.Namespace, report: LoadReport) -> list[Entry]:
    if args.icdar15 is not None:
        return check_entries(read_icdar15(args.gt or args.icdar15 / "gt.txt", args.icdar15), report)
    if args.tsv is not None:
        return check_entries(read_tsv(args.tsv, args.root), report)
    return check_entries(read_mjsynth(args.mjsynth, args.root), report)


def write_lmdb(entries: list[Entry], output: Path, name: str) -> int:
    with LmdbWriter(output) as writer:
        for entry in progress(entries, f"writing {name}"):
            writer.add(entry.path.read_bytes(), entry.label)
        return writer.count


def convert(args: argparse.Namespace) -> str:
    source = args.icdar15 or args.tsv or args.mjsynth
    given = [path for path in (source, args.gt, args.root) if path is not None]
    check_output(args.output, args.overwrite, TOOL, given)     # before the (long) read of the source
    report = LoadReport(str(source))
    entries = read_source(args, report)
    print(report.summary())
    if not entries:
        raise DataError(f"{source}: no sample to write (every one skipped, above)")
    folders = given + sorted({entry.path.parent for entry in entries})
    with fresh_output(args.output, args.overwrite, TOOL, folders) as staging:
        count = write_lmdb(entries, staging, args.output.name)
    return f"wrote {count:,} samples to {args.output}"


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    return run_tool(args.output, lambda: convert(args))


if __name__ == "__main__":
    sys.exit(main())
