"""Data the grader holds: the held-out test splits, preprocessed as the lessons teach."""

from __future__ import annotations

import functools

import numpy as np


def scale_images(x: np.ndarray) -> np.ndarray:
    """Scale uint8 images (N, H, W, C) to float32 in [-0.5, 0.5], as lessons 01-05 teach."""
    return x.astype(np.float32) / 255.0 - 0.5


@functools.lru_cache(maxsize=1)
def traffic_sign_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The embedded traffic-sign test split: float32 (1000, 32, 32, 3) in [-0.5, 0.5] and
    int64 labels (1000,)."""
    from data_loaders import load_traffic_signs

    _, (x_test, y_test) = load_traffic_signs()
    return scale_images(x_test), y_test


def unit_scale(x: np.ndarray) -> np.ndarray:
    """Scale uint8 images (N, H, W, C) to float32 in [0, 1], as lessons 06 and 07 teach."""
    return x.astype(np.float32) / 255.0


@functools.lru_cache(maxsize=1)
def happy_faces_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The embedded happy-faces test split: float32 (300, 64, 64, 3) in [0, 1] and int64
    labels (300,), 1 for smiling."""
    from data_loaders import load_happy_faces

    _, (x_test, y_test) = load_happy_faces()
    return unit_scale(x_test), y_test


@functools.lru_cache(maxsize=1)
def hand_signs_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The embedded hand-signs test split: float32 (120, 64, 64, 3) in [0, 1] and int64
    labels (120,), the number of raised fingers."""
    from data_loaders import load_hand_signs

    _, (x_test, y_test) = load_hand_signs()
    return unit_scale(x_test), y_test
