import string

import numpy as np
import torch

from crnn_pl.charset import Charset
from crnn_pl.data.datamodule import SynthDataModule
from crnn_pl.data.preprocess import ImageSpec
from crnn_pl.data.synth.dataset import SynthWordDataset
from crnn_pl.data.synth.fonts import bundled_fonts
from crnn_pl.data.synth.renderer import WordRenderer


def test_fonts_come_from_python_packages_not_the_system():
    fonts = bundled_fonts()
    assert len(fonts) >= 40
    assert all("site-packages" in str(f.path) for f in fonts)
    assert len({f.path.parent for f in fonts}) >= 8   # many families


def test_validation_set_is_fixed_per_index():
    renderer = WordRenderer(Charset.preset("alnum36"))
    first = SynthWordDataset(renderer, ImageSpec(), size=8, seed=5)
    second = SynthWordDataset(WordRenderer(Charset.preset("alnum36")), ImageSpec(), size=8, seed=5)
    for index in (0, 3, 7):
        image_a, label_a = first[index]
        image_b, label_b = second[index]
        assert label_a == label_b
        assert torch.equal(image_a, image_b)
    assert len({first[i][1] for i in range(8)}) > 4


def test_training_words_are_new_every_epoch_and_reproducible_per_key():
    dataset = SynthWordDataset(WordRenderer(Charset.preset("alnum36")), ImageSpec(), size=4, seed=1,
                               fresh_every_epoch=True)
    epochs = [dataset[epoch * 4 + 2][1] for epoch in range(6)]     # position 2 of six epochs
    assert len(set(epochs)) > 3
    assert torch.equal(dataset[6][0], dataset[6][0]) and dataset[6][1] == epochs[1]


def test_labels_are_in_the_charset_and_case_follows_it():
    for preset in ("alnum36", "printable94"):
        charset = Charset.preset(preset)
        renderer = WordRenderer(charset)
        labels = [renderer.sample(np.random.default_rng(i))[1] for i in range(200)]
        assert all(charset.can_encode(label) for label in labels)
        has_upper = any(c in string.ascii_uppercase for label in labels for c in label)
        assert has_upper == charset.case_sensitive


def test_rendered_images_vary_in_size_and_colour():
    renderer = WordRenderer(Charset.preset("alnum36"))
    images = [renderer.sample(np.random.default_rng(i))[0] for i in range(50)]
    assert all(image.dtype == np.uint8 and image.ndim == 3 for image in images)
    assert len({image.shape[0] for image in images}) > 10
    assert np.std([image.mean() for image in images]) > 20


def test_datamodule_batches_have_the_model_shape():
    datamodule = SynthDataModule(charset="0123456789abcdefghijklmnopqrstuvwxyz",
                                 train_size=16, val_size=8, batch_size=8, num_workers=0)
    datamodule.setup("fit")
    images, labels, dropped = next(iter(datamodule.train_dataloader()))
    assert images.shape == (8, 1, 32, 100)
    assert len(labels) == 8 and all(isinstance(label, str) for label in labels)
    assert dropped == 0
