"""The renderer's knobs: what every stage (typesetting, geometry, surface, degradation) reads.

Their one source of defaults is conf/dataset/synth.yaml's `render` node, which documents each:
training, crnn-make-synth, export verification and int8 calibration thus render alike.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml

from crnn_pl.core.errors import ConfigError
from crnn_pl.data.synth.text import TextSettings


@dataclass(frozen=True)
class RenderSettings:
    """Knobs of the renderer. Their one source of defaults is conf/dataset/synth.yaml's `render`
    node, which documents each: `from_config` fills what a caller leaves out from there, so
    training, crnn-make-synth, export verification and int8 calibration render alike."""

    font_size: tuple[int, int]
    font_sources: tuple[str, ...]
    font_dirs: tuple[str, ...]  # the user's font folders, beside font_sources
    max_length: int
    text: TextSettings
    split: str                  # train | heldout: words and font families held out of training
    heldout_fonts: tuple[str, ...] | None   # the held-out families; None: a tenth of them by hash
    rotation_degrees: float
    shear: float
    perspective: float
    spacing_prob: float
    outline_prob: float
    shadow_prob: float
    min_contrast: int
    blur_prob: float
    noise_prob: float
    jpeg_prob: float
    downscale_prob: float
    stacked_prob: float
    turned_prob: float
    # The scene-text variety knobs: 0 turns each off, and `variety` scales all their
    # probabilities at once (0: the renderer before they existed).
    variety: float
    curve_prob: float
    curve_amount: float
    char_jitter_prob: float
    neighbour_prob: float
    tight_crop_prob: float
    large_rotation_prob: float
    large_rotation_degrees: float
    texture_prob: float
    blend_prob: float
    uneven_light_prob: float
    low_contrast_prob: float
    tiny_prob: float

    def effective(self) -> RenderSettings:
        """These settings with `variety` folded into each variety probability."""
        scaled = {name: min(1.0, getattr(self, name) * self.variety) for name in VARIETY_KNOBS}
        return replace(self, variety=1.0, **scaled)

    @classmethod
    def from_config(cls, values: dict | None = None) -> RenderSettings:
        """conf/dataset/synth.yaml's `render` values, overridden by `values` (e.g. `dataset.render`;
        YAML gives lists where tuples are meant, and `text` is merged key by key)."""
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"dataset.render: unknown setting(s) {sorted(unknown)}")
        defaults = default_render_values()
        text = TextSettings.from_config({**defaults.pop("text"), **(values.pop("text", None) or {})})
        merged = {**defaults, **values}
        return cls(text=text, **{k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()})


STACKED_MAX_LENGTH = 8         # longer stacked words are rare on signs and crowd the frames
VARIETY_KNOBS = ("curve_prob", "char_jitter_prob", "neighbour_prob", "tight_crop_prob", "large_rotation_prob",
                 "texture_prob", "blend_prob", "uneven_light_prob", "low_contrast_prob", "tiny_prob")
SYNTH_CONFIG = Path(__file__).parents[2] / "conf" / "dataset" / "synth.yaml"


def default_render_values() -> dict:
    """A fresh copy of synth.yaml's `render` node (callers may change it)."""
    return copy.deepcopy(synth_yaml_render())


@lru_cache(maxsize=1)
def synth_yaml_render() -> dict:
    with SYNTH_CONFIG.open(encoding="utf-8") as file:
        return yaml.safe_load(file)["render"]
