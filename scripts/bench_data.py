"""Do the DataModules keep up with training? Loader rates next to model=crnn's training rate.

    python scripts/bench_data.py [--seconds 10] [--icdar15 DIR] [--lmdb DIR]

For each DataModule (synth, icdar15, lmdb) with its default config: training samples per second
out of the train DataLoader with 1 worker and with the config's workers, then the ratio to
the training rate of the paper's CRNN (model=crnn, fp32 as trainer=cpu runs it, batch 64).
A ratio >= 1 means the loader is not the bottleneck. Without --icdar15 it uses the shared ICDAR
2015 training set when present, else 2,000 rendered words written by crnn-make-synth; without
--lmdb it converts that folder with crnn-make-lmdb.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

import torch
from benchlib import CONF, rate, train_rate
from hydra import compose, initialize_config_dir

from crnn_pl.cli import make_lmdb, make_synth
from crnn_pl.cli.arguments import number_in
from crnn_pl.cli.train import build_datamodule, charset_from_config
from crnn_pl.data.datamodule import word_loader

REPO = CONF.parent
SHARED_ICDAR15 = REPO.parent / "shared" / "data" / "icdar15" / "ch4_training_word_images_gt"


def datamodule_for(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[f"dataset={name}", f"paths.root_dir={REPO}",
                                           "paths.output_dir=/tmp/bench_data", *overrides])
    datamodule = build_datamodule(cfg, charset_from_config(cfg))
    datamodule.setup("fit")
    return datamodule


def loader_rate(datamodule, workers: int, seconds: float) -> float:
    loader = word_loader(datamodule.datasets["train"], datamodule.batch_size, workers, shuffle=True)
    batches = itertools.chain.from_iterable(itertools.repeat(loader))   # epoch after epoch

    def one_batch() -> int:
        return len(next(batches).labels)

    return rate(one_batch, seconds, warmup=max(2, 2 * workers))


def prepare_sources(args: argparse.Namespace, scratch: Path) -> tuple[Path, Path]:
    icdar15 = args.icdar15 or (SHARED_ICDAR15 if SHARED_ICDAR15.is_dir() else None)
    if icdar15 is None:
        icdar15 = scratch / "synth_words"
        make_synth.main([str(icdar15), "--count", "2000"])
    lmdb_root = args.lmdb
    if lmdb_root is None:
        lmdb_root = scratch / "words_lmdb"
        make_lmdb.main([str(lmdb_root), "--icdar15", str(icdar15)])
    return icdar15, lmdb_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=number_in(0.1, kind=float), default=10.0, help="measuring time per row")
    parser.add_argument("--icdar15", type=Path, help="an ICDAR 2015-format training folder")
    parser.add_argument("--lmdb", type=Path, help="a text-recognition LMDB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        icdar15, lmdb_root = prepare_sources(args, Path(scratch))
        setups = {
            "synth": [],
            "icdar15": [f"dataset.train_dir={icdar15}", "dataset.val_fraction=0.05"],
            "lmdb": [f"dataset.train_roots=[{lmdb_root}]", f"dataset.val_roots=[{lmdb_root}]",
                     f"dataset.cache_dir={scratch}/cache"],
        }
        model_rate = train_rate("crnn", batch_size=64, seconds=args.seconds, bf16=False)
        print(f"\nmodel=crnn training, fp32, batch 64, {torch.get_num_threads()} threads: "
              f"{model_rate:.1f} images/s\n")
        print("| dataset | workers | batch | loader samples/s | / crnn training |")
        print("|---|---|---|---|---|")
        for name, overrides in setups.items():
            datamodule = datamodule_for(name, overrides)
            for workers in sorted({1, datamodule.num_workers}):
                measured = loader_rate(datamodule, workers, args.seconds)
                default = " (default)" if workers == datamodule.num_workers else ""
                print(f"| {name} | {workers}{default} | {datamodule.batch_size} | {measured:.0f} | "
                      f"{measured / model_rate:.2f}x |")


if __name__ == "__main__":
    main()
