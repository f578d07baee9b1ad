"""Pieces every procedural renderer shares: the camera finish (blur, downsampling,
exposure, white balance, gamma, sensor noise) and the seeded loop over labels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter


def vertical_gradient(top: np.ndarray, bottom: np.ndarray, size: int) -> Image.Image:
    """An RGB image of ``size`` x ``size`` fading from colour ``top`` to colour ``bottom``
    (each three floats in 0..255)."""
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    grad = np.broadcast_to((1 - t) * top + t * bottom, (size, size, 3))
    return Image.fromarray(np.clip(grad, 0, 255).astype(np.uint8), "RGB")


def camera_finish(
    frame: Image.Image,
    rng: np.random.Generator,
    size: int,
    *,
    max_blur: float = 1.6,
    gain: tuple[float, float] = (0.45, 1.35),
    max_noise: float = 0.05,
) -> np.ndarray:
    """Blur, downsample to ``size`` x ``size`` and apply lighting and noise to an RGB frame.

    Returns uint8 (size, size, 3) in 0..255.
    """
    blur = rng.uniform(0.0, max_blur)
    if blur > 0.4:
        frame = frame.filter(ImageFilter.GaussianBlur(blur))
    frame = frame.resize((size, size), Image.BOX)

    pixels = np.asarray(frame, dtype=np.float32) / 255.0
    exposure = rng.uniform(*gain)
    cast = rng.uniform(0.8, 1.2, size=3)  # white balance
    gamma = rng.uniform(0.75, 1.35)
    pixels = np.clip(pixels * exposure * cast, 0.0, 1.0) ** gamma
    pixels += rng.normal(0.0, rng.uniform(0.0, max_noise), pixels.shape)
    return np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8)


def render_dataset(
    render_one: Callable[[int, np.random.Generator, int], np.ndarray],
    labels: np.ndarray,
    seed: int | np.random.SeedSequence,
    size: int,
) -> np.ndarray:
    """Render one image per label with ``render_one(label, rng, size)``, from one seeded
    stream. ``labels``: int (N,); returns uint8 (N, size, size, 3)."""
    rng = np.random.default_rng(seed)
    images = np.empty((len(labels), size, size, 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i] = render_one(int(label), rng, size)
    return images
