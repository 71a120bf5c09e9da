"""Train-time augmentation of real word crops (`augment=none|light|heavy` in conf/augment/).

Applied to the decoded uint8 image before the one resize-and-pad, so the model sees augmented
and clean crops the same way. The photometric part is shared with the synthetic renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

import albumentations as A
import cv2
import numpy as np


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
    """Knobs of conf/augment/*.yaml; each yaml documents its choices."""

    enabled: bool = False
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


def build_augment(values: dict | None) -> Augmenter | None:
    """An augmenter from a plain dict such as the `augment` config node; None when disabled."""
    settings = AugmentSettings(**(values or {}))
    return Augmenter(settings) if settings.enabled else None
