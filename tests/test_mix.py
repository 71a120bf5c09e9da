"""dataset=mix: several datasets in one seeded, resumable, sharded training stream."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from crnn_pl.data import sampling
from crnn_pl.data.datamodule import Icdar15DataModule
from crnn_pl.data.labels import DataError
from crnn_pl.data.mix import MixDataModule, MixedWordDataset
from crnn_pl.data.sampling import EpochSampler

ALNUM36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class Labelled:
    """A stand-in source: sample k of source `name` is (k, name)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getitem__(self, key: int):
        return key, self.name


def test_each_source_gets_its_share_and_a_key_always_reads_the_same_sample():
    mix = MixedWordDataset([Labelled("synth"), Labelled("real")], [0.8, 0.2], size=1000, seed=3)
    counts = Counter(mix[key][1] for key in range(20_000))
    assert abs(counts["real"] / 20_000 - 0.2) < 0.01
    again = MixedWordDataset([Labelled("synth"), Labelled("real")], [4, 1], size=1000, seed=3)  # weights, not sums
    assert [again[key] for key in range(500)] == [mix[key] for key in range(500)]
    other_seed = MixedWordDataset([Labelled("synth"), Labelled("real")], [0.8, 0.2], size=1000, seed=4)
    assert [other_seed[key] for key in range(500)] != [mix[key] for key in range(500)]


@pytest.fixture(scope="module")
def crops(word_files, tmp_path_factory) -> Path:
    paths, labels = word_files
    folder = tmp_path_factory.mktemp("crops")
    lines = []
    for copy in range(5):      # 80 crops: enough for a batch after 10% are held out
        for path, label in zip(paths, labels, strict=True):
            Image.open(path).save(folder / f"{copy}_{path.name}")
            lines.append(f'{copy}_{path.name}, "{label}"\n')
    (folder / "gt.txt").write_text("".join(lines))
    return folder


def mix_module(crops: Path, **overrides) -> MixDataModule:
    sources = {"synth": {"_target_": "crnn_pl.data.datamodule.SynthDataModule", "share": 1, "val_size": 8},
               "real": {"_target_": "crnn_pl.data.datamodule.Icdar15DataModule", "share": 1,
                        "train_dir": str(crops),
                        "augment": {"enabled": True, "rotation_degrees": 3.0, "geometric_prob": 1.0}}}
    return MixDataModule(ALNUM36, sources=sources, **{"train_size": 64, "batch_size": 16, "num_workers": 0,
                                                      **overrides})


def test_the_stream_mixes_rendered_and_real_words_reproducibly(crops, word_files):
    _, labels = word_files
    first, second = mix_module(crops), mix_module(crops)
    first.setup("fit")
    second.setup("fit")
    assert isinstance(first.sources["real"], Icdar15DataModule)
    assert first.sources["real"].augment is not None and first.sources["synth"].augment is None
    batch = next(iter(first.train_dataloader()))
    assert batch.images.shape == (16, 1, 32, 100)
    stream = [first.datasets["train"][key][1] for key in range(64)]
    assert stream == [second.datasets["train"][key][1] for key in range(64)]
    real = sum(label in labels for label in stream)
    assert 16 <= real <= 48, real                 # about half from the real folder
    validation = first.datasets["val"]
    assert len(validation) == 8 + 8                # the synth words and the held-out crops
    # evaluation keys grow with the epoch (epoch * size + position), as for every dataset
    assert [validation[2 * 16 + i][1] for i in range(16)] == [validation[i][1] for i in range(16)]


def test_a_resumed_epoch_and_each_rank_read_their_part_of_the_same_stream(crops, monkeypatch):
    module = mix_module(crops)
    module.setup("fit")
    whole = list(EpochSampler(64, seed=0))
    resumed = EpochSampler(64, seed=0)
    resumed.skip(32)
    assert list(resumed) == whole[32:]
    shards = []
    for rank in (0, 1):
        monkeypatch.setattr(sampling, "rank_and_world", lambda rank=rank: (rank, 2))
        shards.append(list(EpochSampler(64, seed=0)))
    assert sorted(shards[0] + shards[1]) == sorted(whole) and not set(shards[0]) & set(shards[1])
    mixed = module.datasets["train"]
    assert [mixed[key][1] for key in shards[1]] == [mixed[key][1] for key in whole[1::2]]


def test_bad_mix_settings_are_clear_errors(crops):
    with pytest.raises(DataError, match=r"dataset.sources.real._target_='nowhere.Module'"):
        MixDataModule(ALNUM36, sources={"real": {"_target_": "nowhere.Module", "share": 1}})
    with pytest.raises(DataError, match=r"dataset.sources.synth.share=0"):
        MixDataModule(ALNUM36, sources={"synth": {"_target_": "crnn_pl.data.datamodule.SynthDataModule", "share": 0}})
    with pytest.raises(DataError, match=r"unknown sources \['icdar'\]"):
        mix_module(crops, val_sources=["icdar"])
