"""Geometry: the typeset masks tilted and cut out as a text detector would box them.

Rotation, shear and perspective are one homography, so the word and its outline and neighbours
move together without resampling twice; the crop then follows the word's own ink plus a margin,
loose or detector-tight, cutting neighbouring fragments wherever it falls.
"""

from __future__ import annotations

import cv2
import numpy as np

from crnn_pl.data.synth.settings import RenderSettings
from crnn_pl.data.synth.typeset import TextLayers


def warp(layers: TextLayers, settings: RenderSettings, rng: np.random.Generator) -> TextLayers:
    """Rotation, shear and perspective as one homography around the canvas centre, onto a
    canvas grown to hold the warped corners (a long word rotated 15 degrees keeps its ends)."""
    s = settings
    height, width = layers.word.shape
    degrees = s.large_rotation_degrees if rng.random() < s.large_rotation_prob else s.rotation_degrees
    angle = np.deg2rad(rng.uniform(-degrees, degrees))
    shear = rng.uniform(-s.shear, s.shear)
    cos, sin = np.cos(angle), np.sin(angle)
    centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
    linear = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]]) @ np.array(
        [[1, shear, 0], [0, 1, 0], [0, 0, 1]])
    projective = np.eye(3)
    projective[2, :2] = rng.uniform(-s.perspective, s.perspective, 2) / np.array([width, height])
    matrix = centre @ projective @ linear @ np.linalg.inv(centre)
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=float).T
    warped = matrix @ corners
    warped = warped[:2] / warped[2]
    low, high = np.floor(warped.min(1)), np.ceil(warped.max(1))
    matrix = np.array([[1, 0, -low[0]], [0, 1, -low[1]], [0, 0, 1]]) @ matrix
    size = (int(high[0] - low[0]), int(high[1] - low[1]))

    def apply(channel: np.ndarray) -> np.ndarray:
        return cv2.warpPerspective(channel, matrix, size, flags=cv2.INTER_LINEAR)

    return layers.map(apply)


def crop_with_margin(layers: TextLayers, size: int, tight_crop_prob: float,
                     rng: np.random.Generator) -> TextLayers:
    """The word's ink box plus a random margin, as detectors cut it: loose, or (tight_crop_prob)
    shaving a few percent of the glyphs' edges. Neighbouring fragments are cut where it falls."""
    ink = layers.word if layers.outline is None else np.maximum(layers.word, layers.outline)
    rows = np.flatnonzero(ink.max(1) > 32)
    cols = np.flatnonzero(ink.max(0) > 32)
    if rows.size == 0 or cols.size == 0:
        rows, cols = np.arange(ink.shape[0]), np.arange(ink.shape[1])
    if rng.random() < tight_crop_prob:
        vertical, horizontal = (-0.08, 0.02), (-0.04, 0.02)
    else:
        vertical, horizontal = (0.0, 0.25), (0.0, 0.4)
    top = max(0, rows[0] - int(rng.uniform(*vertical) * size))
    bottom = min(ink.shape[0], rows[-1] + 1 + int(rng.uniform(*vertical) * size))
    left = max(0, cols[0] - int(rng.uniform(*horizontal) * size))
    right = min(ink.shape[1], cols[-1] + 1 + int(rng.uniform(*horizontal) * size))
    if bottom - top < 4 or right - left < 4:        # never cut a crop to nothing
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return layers.map(lambda channel: channel[top:bottom, left:right])
