"""Train-time augmentation of word crops (`augment=none|light|heavy|randaugment` in conf/augment/).

Applied to the decoded uint8 image before the one resize-and-pad, so the model sees augmented
and clean crops the same way. The photometric part is shared with the synthetic renderer.
Two policies: `fixed` (light, heavy: each transform with its own probability, for real crops) and
`randaugment` (Cubuk et al. 2020, as PARSeq trains: `num_ops` operations drawn per crop from one
list, each at most `magnitude` strong; for rendered and real crops alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import albumentations as A
import cv2
import numpy as np

from crnn_pl.core.errors import ConfigError


def photometric_transforms(blur_prob: float, downscale_prob: float, noise_prob: float,
                           jpeg_prob: float, brightness_contrast_prob: float) -> list[A.BasicTransform]:
    """Blur, low resolution, sensor noise, lighting and compression: what cameras do to text."""
    return [
        A.OneOf([
            A.GaussianBlur(blur_limit=(3, 5), sigma_limit=(0.3, 1.2)),
            A.MotionBlur(blur_limit=(3, 5)),
        ], p=blur_prob),
        A.Downscale(scale_range=(0.5, 0.8), p=downscale_prob),
        A.GaussNoise(std_range=(0.02, 0.08), p=noise_prob),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=brightness_contrast_prob),
        A.ImageCompression(quality_range=(30, 90), p=jpeg_prob),
    ]


@dataclass(frozen=True)
class AugmentSettings:
    """Knobs of conf/augment/{light,heavy}.yaml (policy `fixed`); each yaml documents its choices."""

    enabled: bool = False
    policy: str = "fixed"
    rotation_degrees: float = 0.0
    shear_degrees: float = 0.0
    perspective: float = 0.0
    geometric_prob: float = 0.0
    blur_prob: float = 0.0
    downscale_prob: float = 0.0
    noise_prob: float = 0.0
    jpeg_prob: float = 0.0
    brightness_contrast_prob: float = 0.0
    invert_prob: float = 0.0


class Augmenter:
    """A picklable uint8 -> uint8 callable (DataLoader workers receive a copy)."""

    def __init__(self, settings: AugmentSettings) -> None:
        s = settings
        border = dict(border_mode=cv2.BORDER_REPLICATE)
        geometric = [
            A.Affine(rotate=(-s.rotation_degrees, s.rotation_degrees),
                     shear={"x": (-s.shear_degrees, s.shear_degrees), "y": (0, 0)},
                     fit_output=True, p=1.0, **border),
        ]
        if s.perspective > 0:
            geometric.append(A.Perspective(scale=(0.0, s.perspective), fit_output=True, p=0.5, **border))
        self.pipeline = A.Compose([
            A.Sequential(geometric, p=s.geometric_prob),
            *photometric_transforms(s.blur_prob, s.downscale_prob, s.noise_prob, s.jpeg_prob,
                                    s.brightness_contrast_prob),
            A.InvertImg(p=s.invert_prob),
        ])

    def __call__(self, image: np.ndarray, seed: int | None = None) -> np.ndarray:
        """Augment one image; a `seed` (the sample's key) makes the result reproducible."""
        if seed is not None:
            self.pipeline.set_random_seed(seed % 2**31)
        return self.pipeline(image=image)["image"]


@dataclass(frozen=True)
class RandAugmentSettings:
    """Knobs of conf/augment/randaugment.yaml (no defaults here: that file is their one source)."""

    enabled: bool
    policy: str
    num_ops: int            # operations drawn per crop, without replacement
    magnitude: float        # 0-10: the strongest each operation gets; its strength is drawn up to it
    prob: float             # share of crops augmented at all


def randaugment_operations(magnitude: float) -> list[A.BasicTransform]:
    """The operation list, each scaled to `magnitude` (10: the strongest a word stays readable at)."""
    m = min(max(magnitude, 0.0), 10.0) / 10
    border = dict(border_mode=cv2.BORDER_REPLICATE, fit_output=True)
    blur = 3 + 2 * round(2 * m)         # odd kernel sizes 3 to 7
    return [
        A.Affine(rotate=(-20 * m, 20 * m), **border),
        A.Affine(shear={"x": (-30 * m, 30 * m), "y": (0, 0)}, **border),
        A.Affine(shear={"x": (0, 0), "y": (-8 * m, 8 * m)}, **border),
        A.Perspective(scale=(0.0, 0.1 * m), **border),
        A.GaussianBlur(blur_limit=(3, blur), sigma_limit=(0.1, 0.2 + 1.8 * m)),
        A.MotionBlur(blur_limit=(3, blur)),
        A.GaussNoise(std_range=(0.0, 0.02 + 0.13 * m)),
        A.RandomBrightnessContrast(brightness_limit=0.5 * m, contrast_limit=0.5 * m),
        A.Posterize(num_bits=(max(1, 8 - round(6 * m)), 8)),
        A.Solarize(threshold_range=(1.0 - 0.5 * m, 1.0)),
        A.ImageCompression(quality_range=(max(5, round(100 - 90 * m)), 100)),
        A.Downscale(scale_range=(1.0 - 0.7 * m, 1.0)),
        A.Sharpen(alpha=(0.0, m)),
        A.Equalize(),
        A.AutoContrast(),
        A.InvertImg(),
    ]


class RandAugmenter(Augmenter):
    """`num_ops` operations drawn per crop from `randaugment_operations(magnitude)`."""

    def __init__(self, settings: RandAugmentSettings) -> None:
        operations = randaugment_operations(settings.magnitude)
        for op in operations:
            op.p = 1.0              # a drawn operation always runs: SomeOf does the drawing
        self.pipeline = A.Compose([A.SomeOf(operations, n=settings.num_ops, replace=False, p=settings.prob)])


POLICIES = {"fixed": (AugmentSettings, Augmenter), "randaugment": (RandAugmentSettings, RandAugmenter)}


def build_augment(values: dict | None) -> Augmenter | None:
    """An augmenter from a plain dict such as the `augment` config node; None when disabled."""
    values = dict(values or {})
    policy = values.get("policy", "fixed")
    if policy not in POLICIES:
        raise ConfigError(f"augment.policy={policy!r}: choose from {sorted(POLICIES)}")
    settings_class, augmenter_class = POLICIES[policy]
    try:
        settings = settings_class(**values)
    except TypeError as error:
        raise ConfigError(f"augment (policy {policy}): {error}") from None
    return augmenter_class(settings) if settings.enabled else None
