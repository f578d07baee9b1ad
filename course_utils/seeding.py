"""Reproducible runs: one call seeds Python, NumPy and the Keras backend."""

from __future__ import annotations

import os

SEED_ENV_VAR = "KERAS_COURSE_SEED"


def seed_everything(seed: int = 42) -> int:
    """Seed Python's ``random``, NumPy and TensorFlow through ``keras.utils.set_random_seed``.

    ``$KERAS_COURSE_SEED``, when set, overrides ``seed`` (the benchmarks use it to run a
    lesson under several seeds). Returns the seed used.
    """
    override = os.environ.get(SEED_ENV_VAR)
    if override is not None:
        try:
            seed = int(override)
        except ValueError:
            raise ValueError(f"{SEED_ENV_VAR} must be an integer, found {override!r}") from None
    import keras

    keras.utils.set_random_seed(seed)
    return seed
