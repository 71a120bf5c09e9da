"""Degradation: the finished crop made to look photographed, as real detections do.

Tiny detections are imitated by rendering small and scaling back up (tiny_prob); blur, noise,
JPEG artefacts, down-scaling and brightness/contrast come from the photometric transforms that
train-time augmentation shares (crnn_pl.data.augment), seeded per sample from the renderer's
generator so a fixed seed still gives a fixed crop.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

from crnn_pl.data.augment import photometric_transforms
from crnn_pl.data.synth.settings import RenderSettings


def shrink_and_upscale(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render at 8-20 px high and scale back up, as a detector's tiny crops look."""
    height, width = image.shape[:2]
    target = int(rng.integers(8, 21))
    if height <= target:
        return image
    small = cv2.resize(image, (max(1, round(width * target / height)), target), interpolation=cv2.INTER_AREA)
    method = cv2.INTER_LINEAR if rng.random() < 0.5 else cv2.INTER_CUBIC
    return cv2.resize(small, (width, height), interpolation=method)


def build_degradations(settings: RenderSettings) -> A.Compose:
    s = settings
    transforms = photometric_transforms(s.blur_prob, s.downscale_prob, s.noise_prob, s.jpeg_prob,
                                        brightness_contrast_prob=0.3)
    return A.Compose(transforms, seed=0)
