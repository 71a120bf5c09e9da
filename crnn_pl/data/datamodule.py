"""The synthetic-word DataModule: the default dataset, needing no download."""

from __future__ import annotations

import logging

import lightning as L
from torch.utils.data import DataLoader, Dataset

from crnn_pl.charset import Charset
from crnn_pl.data.preprocess import ImageSpec
from crnn_pl.data.synth.dataset import SynthWordDataset
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.model.crnn import CRNN

log = logging.getLogger(__name__)


def word_loader(dataset: Dataset, batch_size: int, num_workers: int, shuffle: bool) -> DataLoader:
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
        persistent_workers=num_workers > 0, drop_last=shuffle,
    )


class SynthDataModule(L.LightningDataModule):
    """Words rendered on the fly with bundled fonts: `train_size` fresh words per epoch and a
    fixed, seeded validation (and test) set of `val_size` words."""

    def __init__(
        self,
        charset: str,
        case_sensitive: bool = False,
        height: int = 32,
        width: int = 100,
        channels: int = 1,
        mean: float = 0.5,
        std: float = 0.5,
        train_size: int = 20_000,
        val_size: int = 2_000,
        val_seed: int = 1234,
        batch_size: int = 64,
        num_workers: int = 1,
        render: dict | None = None,
    ) -> None:
        super().__init__()
        self.charset = Charset(charset, case_sensitive)
        self.spec = ImageSpec(height=height, width=width, channels=channels, mean=mean, std=std)
        settings = RenderSettings.from_config(render)
        frames = CRNN.num_frames(width)
        if settings.max_length >= frames:
            # CTC needs a frame per character, plus a blank between repeated characters.
            raise ValueError(f"dataset.render.max_length={settings.max_length} is too long for "
                             f"width {width} ({frames} frames); use at most {frames - 1}")
        self.settings = settings
        self.train_size, self.val_size, self.val_seed = train_size, val_size, val_seed
        self.batch_size, self.num_workers = batch_size, num_workers

    def setup(self, stage: str | None = None) -> None:
        renderer = WordRenderer(self.charset, self.settings)
        self.train_set = SynthWordDataset(renderer, self.spec, self.train_size)
        self.val_set = SynthWordDataset(renderer, self.spec, self.val_size, seed=self.val_seed)
        log.info("synth: %d fonts, %d vocabulary words, %d train words per epoch, %d validation",
                 len(renderer.fonts), len(renderer.vocabulary), self.train_size, self.val_size)

    def train_dataloader(self) -> DataLoader:
        return word_loader(self.train_set, self.batch_size, self.num_workers, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return word_loader(self.val_set, self.batch_size, self.num_workers, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()
