"""Pieces every procedural renderer shares: the camera finish (blur, downsampling,
exposure, white balance, gamma, sensor noise) and the seeded, parallel loop over labels."""

from __future__ import annotations

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


def render_chunks(
    render_one: Callable[[int, np.random.Generator, int], np.ndarray],
    chunks: list[tuple[np.ndarray, np.random.SeedSequence]],
    size: int,
) -> np.ndarray:
    """Render each ``(labels, stream)`` chunk from a generator seeded with its stream, in
    order, in this process. Returns uint8 (total labels, size, size, 3)."""
    total = sum(len(labels) for labels, _ in chunks)
    images = np.empty((total, size, size, 3), dtype=np.uint8)
    i = 0
    for labels, stream in chunks:
        rng = np.random.default_rng(stream)
        for label in labels:
            images[i] = render_one(int(label), rng, size)
            i += 1
    return images


def render_splits(
    render_one: Callable[[int, np.random.Generator, int], np.ndarray],
    splits: list[tuple[np.ndarray, int | np.random.SeedSequence]],
    size: int,
) -> list[np.ndarray]:
    """Render one image per label with ``render_one(label, rng, size)`` for each
    ``(labels, seed)`` split; ``labels``: int (N,). Returns one uint8 (N, size, size, 3)
    array per split.

    Every run of :data:`CHUNK` labels draws from its own stream spawned from its split's
    seed, so all the chunks of all the splits render at once in parallel worker processes
    (see :func:`render_workers`), and the images are the same whatever the number of
    processes. ``render_one`` must be a module-level function of this package (workers
    import it by name).
    """
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
        from data_loaders._render_worker import render_in_workers

        bounds = [w * len(pairs) // workers for w in range(workers + 1)]
        groups = [pairs[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        images = np.concatenate(render_in_workers(render_one, groups, size))
    ends = np.cumsum([len(labels) for labels, _ in splits])
    return np.split(images, ends[:-1])
