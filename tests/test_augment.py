"""Train-time augmentation policies, built from conf/augment/ as train.py builds them."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from conftest import REPO
from crnn_pl.core.errors import ConfigError
from crnn_pl.data.augment import Augmenter, RandAugmenter, build_augment


def config(name: str, **changes) -> dict:
    return {**OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "augment" / f"{name}.yaml")), **changes}


def word_image() -> np.ndarray:
    image = np.full((32, 96), 230, np.uint8)
    image[8:24, 10:86:12] = 20                  # dark strokes on a light ground
    return image


@pytest.mark.parametrize(("name", "kind"), [("light", Augmenter), ("heavy", Augmenter),
                                            ("randaugment", RandAugmenter)])
def test_each_preset_builds_its_policy(name, kind):
    assert type(build_augment(config(name))) is kind
    assert build_augment(config("none")) is None


def test_randaugment_changes_every_crop_reproducibly_when_prob_is_one():
    augment = build_augment(config("randaugment", prob=1.0))
    image = word_image()
    outputs = [augment(image, seed=seed) for seed in range(12)]
    for output in outputs:
        assert output.dtype == np.uint8 and output.ndim == 2
        assert output.shape != image.shape or not np.array_equal(output, image)
    assert all(np.array_equal(augment(image, seed=s), outputs[s]) for s in (0, 5, 11))
    assert len({o.tobytes() for o in outputs}) == len(outputs)      # a different draw per key


def test_randaugment_prob_leaves_the_rest_as_they_were():
    augment = build_augment(config("randaugment", prob=0.5))
    image = word_image()
    kept = sum(np.array_equal(augment(image, seed=s), image) for s in range(200))
    assert 60 < kept < 140


def test_magnitude_zero_leaves_geometry_alone_and_ten_moves_it():
    image = word_image()
    weak = build_augment(config("randaugment", prob=1.0, magnitude=0, num_ops=16))
    strong = build_augment(config("randaugment", prob=1.0, magnitude=10, num_ops=16))
    assert weak(image, seed=1).shape == image.shape        # no rotation, shear or perspective at 0
    assert strong(image, seed=1).shape != image.shape      # fit_output grows the canvas when turned


@pytest.mark.parametrize(("changes", "message"), [
    ({"policy": "autoaugment"}, r"augment.policy='autoaugment': choose from \['fixed', 'randaugment'\]"),
    ({"num_opps": 2}, r"augment \(policy randaugment\): .*num_opps"),
])
def test_a_misspelt_augment_config_is_a_config_error(changes, message):
    with pytest.raises(ConfigError, match=message):
        build_augment(config("randaugment", **changes))
