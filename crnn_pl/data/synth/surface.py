"""Surface and light: the cut-out masks painted onto a background, then lit unevenly.

Backgrounds are flat, gradients, smooth noise, stripes or fractal textures (stone, paper, bark,
grain); the text colour is drawn against the background's brightness so the word stays legible
(down to low_contrast_prob's faint text), and may be painted into the surface's texture rather
than pasted over it. Lighting gradients and glare come last, over text and surface alike.
"""

from __future__ import annotations

import cv2
import numpy as np

from crnn_pl.data.synth.settings import RenderSettings
from crnn_pl.data.synth.typeset import TextLayers


def composite(layers: TextLayers, settings: RenderSettings, rng: np.random.Generator) -> np.ndarray:
    """The layers coloured onto a random background: shadow, outline, then the word and its
    neighbours, pasted or (blend_prob) painted into the surface. RGB uint8."""
    s = settings
    height, width = layers.word.shape
    background = random_background(height, width, rng, s.texture_prob)
    background_level = float(background.mean())
    contrast = rng.uniform(20, s.min_contrast) if rng.random() < s.low_contrast_prob else s.min_contrast
    text_colour = contrasting_colour(background_level, contrast, rng)
    mask = layers.word if layers.extra is None else np.maximum(layers.word, layers.extra)
    image = background
    if rng.random() < s.shadow_prob:
        offset = int(rng.integers(1, max(2, height // 12) + 1))
        shadow = np.zeros_like(mask)
        shadow[offset:, offset:] = mask[:-offset, :-offset]
        image = blend(image, shadow, contrasting_colour(background_level, 30, rng) * 0.6)
    if layers.outline is not None:
        image = blend(image, layers.outline, contrasting_colour(float(text_colour.mean()), 80, rng))
    if rng.random() < s.blend_prob:
        # Paint on a surface: the text keeps the background's texture (multiplied, not pasted).
        shading = background / max(background_level, 1.0)
        return np.clip(blend(image, mask, text_colour) * (1 - mask[..., None] / 255.0)
                       + np.clip(text_colour * shading, 0, 255) * (mask[..., None] / 255.0),
                       0, 255).astype(np.uint8)
    return blend(image, mask, text_colour).astype(np.uint8)


def blend(image: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> np.ndarray:
    weight = (alpha.astype(np.float32) / 255.0)[..., None]
    return image * (1.0 - weight) + colour[None, None, :] * weight


def contrasting_colour(level: float, min_contrast: float, rng: np.random.Generator) -> np.ndarray:
    """An RGB colour whose brightness differs from `level` by at least `min_contrast`."""
    darker_possible = level - min_contrast >= 0
    lighter_possible = level + min_contrast <= 255
    go_dark = darker_possible and (not lighter_possible or rng.random() < 0.6)
    target = rng.uniform(0, level - min_contrast) if go_dark else rng.uniform(level + min_contrast, 255)
    tint = rng.normal(0, 25, 3) if rng.random() < 0.5 else np.zeros(3)
    return np.clip(target + tint, 0, 255).astype(np.float32)


def random_background(height: int, width: int, rng: np.random.Generator,
                      texture_prob: float = 0.0) -> np.ndarray:
    """Solid, gradient, smooth noise or stripes, or (texture_prob) a fractal texture:
    float32 (H, W, 3) in 0..255."""
    base = rng.uniform(0, 255, 3)
    if rng.random() < texture_prob:
        return fractal_texture(height, width, base, rng)
    kind = rng.random()
    if kind < 0.35:
        background = np.broadcast_to(base, (height, width, 3)).astype(np.float32)
    elif kind < 0.6:
        other = rng.uniform(0, 255, 3)
        ramp = np.linspace(0, 1, width if rng.random() < 0.7 else height, dtype=np.float32)
        ramp = ramp[None, :, None] if ramp.size == width else ramp[:, None, None]
        background = base * (1 - ramp) + other * ramp
        background = np.broadcast_to(background, (height, width, 3)).astype(np.float32)
    elif kind < 0.85:
        coarse = rng.normal(0, rng.uniform(10, 50), (int(rng.integers(2, 6)), int(rng.integers(2, 12)), 3))
        smooth = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
        background = smooth + base.astype(np.float32)
    else:
        period = rng.uniform(4, 20)
        phase = np.arange(width if rng.random() < 0.5 else height, dtype=np.float32)
        wave = (np.sin(phase * 2 * np.pi / period) * rng.uniform(10, 40)).astype(np.float32)
        wave = wave[None, :, None] if wave.size == width else wave[:, None, None]
        background = np.broadcast_to(base + wave, (height, width, 3)).astype(np.float32)
    # Brightness statistics steer the text colour: keep them inside the valid range.
    return np.clip(background, 0, 255).astype(np.float32)


def fractal_texture(height: int, width: int, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Octaves of smooth noise with 1/f amplitudes (stone, paper, bark, foliage-like), sometimes
    bent into grain; tinted per channel so surfaces are not grey."""
    field = np.zeros((height, width), np.float32)
    amplitude = 1.0
    for octave in range(int(rng.integers(3, 6))):
        cells = (max(2, height >> max(0, 4 - octave)), max(2, width >> max(0, 4 - octave)))
        coarse = rng.normal(0, 1, cells).astype(np.float32)
        field += amplitude * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        amplitude *= rng.uniform(0.45, 0.7)
    if rng.random() < 0.3:                       # grain: wood, brushed metal
        period = rng.uniform(3, 12)
        axis = np.arange(height, dtype=np.float32)[:, None] if rng.random() < 0.5 else \
            np.arange(width, dtype=np.float32)[None, :]
        field = np.sin(axis * 2 * np.pi / period + 2.0 * field)
    field = (field - field.mean()) / (field.std() + 1e-6)
    strength = rng.uniform(10, 45)
    tint = rng.uniform(0.6, 1.4, 3).astype(np.float32)
    texture = base.astype(np.float32) + field[..., None] * strength * tint
    return np.clip(texture, 0, 255).astype(np.float32)


def uneven_light(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A lighting gradient across the crop and, half the time, a glare spot."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * xs / max(width, 1) + np.sin(direction) * ys / max(height, 1))
    ramp = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
    low, high = rng.uniform(0.45, 0.9), rng.uniform(1.0, 1.3)
    lit = image.astype(np.float32) * (low + (high - low) * ramp)[..., None]
    if rng.random() < 0.5:
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.15, 0.5) * width
        spot = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius ** 2))
        lit += spot[..., None] * rng.uniform(60, 160)
    return np.clip(lit, 0, 255).astype(np.uint8)
