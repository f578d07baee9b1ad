"""Pieces every procedural renderer shares: placing a drawn layer in the frame, the camera
finish (downsampling, blur, exposure, white balance, gamma, sensor noise) and the seeded,
parallel loop over labels."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter


def vertical_gradient(top: np.ndarray, bottom: np.ndarray, size: int) -> Image.Image:
    """An RGB image of ``size`` x ``size`` fading from colour ``top`` to colour ``bottom``
    (each three floats in 0..255)."""
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    column = np.clip((1 - t) * top + t * bottom, 0, 255).astype(np.uint8)  # (size, 1, 3)
    # Every row is one colour: widening one column is 2-4x faster than filling the square.
    return Image.fromarray(column, "RGB").resize((size, size), Image.NEAREST)


def place_layer(
    frame: Image.Image,
    layer: Image.Image,
    centre: tuple[float, float],
    *,
    scale: tuple[float, float],
    angle: float,
) -> None:
    """Paste the RGBA ``layer`` onto the RGB ``frame``, in place: scaled by ``scale`` (x, y),
    turned ``angle`` degrees counter-clockwise and centred on ``centre`` (frame pixels).

    One bilinear resampling straight into the frame's coordinates, over only the part of
    the frame that the layer's visible pixels can reach, instead of resizing, rotating into
    an enlarged layer and pasting that: the same picture for a fraction of the work.
    """
    turn = math.radians(angle)
    cos, sin = math.cos(turn), math.sin(turn)
    sx, sy = scale
    cx, cy = centre
    lx, ly = layer.width / 2, layer.height / 2
    bbox = layer.getbbox()  # of the pixels that are not fully transparent
    if bbox is None:
        return
    # Where the corners of the visible part land in the frame (the forward mapping).
    xs, ys = [], []
    for x in bbox[::2]:
        for y in bbox[1::2]:
            u, v = (x - lx) * sx, (y - ly) * sy
            xs.append(cx + cos * u + sin * v)
            ys.append(cy - sin * u + cos * v)
    x0, y0 = max(0, math.floor(min(xs)) - 1), max(0, math.floor(min(ys)) - 1)
    x1 = min(frame.width, math.ceil(max(xs)) + 1)
    y1 = min(frame.height, math.ceil(max(ys)) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    # For each pixel of that box, where it comes from in the layer (the inverse mapping).
    a, b = cos / sx, -sin / sx
    d, e = sin / sy, cos / sy
    ox, oy = x0 - cx, y0 - cy
    inverse = (a, b, lx + a * ox + b * oy, d, e, ly + d * ox + e * oy)
    placed = layer.transform((x1 - x0, y1 - y0), Image.AFFINE, inverse, resample=Image.BILINEAR)
    frame.paste(placed, (x0, y0), placed)


_LEVELS = np.arange(256, dtype=np.float64)[:, None] / 255.0  # (256, 1)
_CHANNEL_OFFSETS = np.array([0, 256, 512], dtype=np.intp)  # red, green, blue curves
_NOISE_TABLE_SIZE = 1 << 20


@functools.cache
def _noise_table() -> np.ndarray:
    """2**20 standard normal float32 values, the same in every process."""
    return np.random.default_rng(0x5E115).standard_normal(_NOISE_TABLE_SIZE, dtype=np.float32)


def _sensor_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal float32 noise of ``shape``: a window, at an offset drawn from ``rng``,
    of :func:`_noise_table`.

    Drawing fresh normals costs more than all the rest of the finish; a window of a table
    that is the same in every process is as good for sensor noise and as deterministic.
    """
    count = math.prod(shape)
    start = int(rng.integers(0, _NOISE_TABLE_SIZE - count))
    return _noise_table()[start : start + count].reshape(shape)


def camera_finish(
    frame: Image.Image,
    rng: np.random.Generator,
    size: int,
    *,
    max_blur: float = 1.6,
    gain: tuple[float, float] = (0.45, 1.35),
    max_noise: float = 0.05,
    light: np.ndarray | None = None,
) -> np.ndarray:
    """Downsample a square RGB frame to ``size`` x ``size``, then blur it and apply lighting
    and noise.

    ``max_blur`` is in frame pixels. ``light``, float32 (size,), scales each column's light
    (light falling from one side). Returns uint8 (size, size, 3) in 0..255.
    """
    factor = frame.width / size
    if frame.width % size == 0 and frame.height == frame.width:
        small = frame.reduce(frame.width // size)  # a box filter, in whole blocks
    else:
        small = frame.resize((size, size), Image.BOX)
    blur = rng.uniform(0.0, max_blur) / factor  # in output pixels
    if blur > 0.4 / factor:
        small = small.filter(ImageFilter.GaussianBlur(blur))

    exposure = rng.uniform(*gain)
    cast = rng.uniform(0.8, 1.2, size=3)  # white balance
    gamma = rng.uniform(0.75, 1.35)
    # Exposure, white balance and gamma map each channel's 256 levels: look them up. (The
    # 768 powers are taken in float64: the same bits on every CPU, whatever its SIMD.)
    curves = (np.clip(_LEVELS * (exposure * cast), 0.0, 1.0) ** gamma).astype(np.float32)
    pixels = curves.T.ravel()[np.asarray(small) + _CHANNEL_OFFSETS]  # float32 (size, size, 3)
    if light is not None:
        pixels *= (light.astype(np.float64) ** gamma).astype(np.float32)[None, :, None]
    noise = np.float32(rng.uniform(0.0, max_noise))
    pixels += noise * _sensor_noise(rng, pixels.shape)
    return np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8)


RENDER_WORKERS_ENV_VAR = "KERAS_COURSE_RENDER_WORKERS"
CHUNK = 100  # images per random stream; fixed, so the images never depend on the workers


def render_workers() -> int:
    """Processes to render with: ``$KERAS_COURSE_RENDER_WORKERS`` when set, else the CPUs
    this process may use."""
    value = os.environ.get(RENDER_WORKERS_ENV_VAR, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"{RENDER_WORKERS_ENV_VAR} must be a positive integer, found {value!r}."
            )
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def render_splits(
    render_one: Callable[[int, np.random.Generator, int], np.ndarray],
    splits: list[tuple[np.ndarray, int | np.random.SeedSequence]],
    size: int,
) -> list[np.ndarray]:
    """Render one image per label with ``render_one(label, rng, size)`` for each
    ``(labels, seed)`` split; ``labels``: int (N,). Returns one uint8 (N, size, size, 3)
    array per split.

    Every run of :data:`CHUNK` labels draws from its own stream spawned from its split's
    seed, so all the chunks of all the splits render at once, in this process and in
    parallel worker processes (see :func:`render_workers`), and the images are the same
    whatever the number of processes. ``render_one`` must be a module-level function of
    this package (workers import it by name).
    """
    # Imported here: at the top it would load the worker's module with the package, and
    # `python -m data_loaders._render_worker` would then run a second copy of it.
    from data_loaders._render_worker import render_chunks, render_in_workers

    pairs: list[tuple[np.ndarray, np.random.SeedSequence]] = []
    for labels, seed in splits:
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        # A fresh copy, so that spawning does not depend on what was spawned from it before.
        root = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key)
        chunks = [labels[start : start + CHUNK] for start in range(0, len(labels), CHUNK)]
        pairs += zip(chunks, root.spawn(len(chunks)), strict=True)
    workers = min(render_workers(), len(pairs))
    if workers <= 1:
        images = render_chunks(render_one, pairs, size)
    else:
        # Ceiling division: this process, which starts at once, takes the larger share.
        bounds = [-(-w * len(pairs) // workers) for w in range(workers + 1)]
        groups = [pairs[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        images = np.concatenate(render_in_workers(render_one, groups, size, first_here=True))
    ends = np.cumsum([len(labels) for labels, _ in splits])
    return np.split(images, ends[:-1])
