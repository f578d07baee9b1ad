"""What every loader shares: option checks, the cached embedded default, file pairs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils.language import translate
from data_loaders._files import cached_arrays
from data_loaders._render_common import render_splits
from data_loaders.cache import cache_dir

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class EmbeddedDataset:
    """A procedurally rendered dataset: ``render_one(label, rng, size)`` draws one uint8
    (size, size, 3) image.

    ``version`` is part of the cache name: bump it whenever the renderer changes what it
    draws, so that no old cache is read.
    """

    name: str
    version: int
    n_classes: int
    render_one: Callable[[int, np.random.Generator, int], np.ndarray]
    size: int

    def render(self, labels: np.ndarray, seed: int | np.random.SeedSequence) -> np.ndarray:
        """One image per label (int (N,)), deterministically from ``seed``: uint8
        (N, size, size, 3)."""
        return render_splits(self.render_one, [(labels, seed)], self.size)[0]

    @property
    def _cache_prefix(self) -> str:
        return f"{self.name}-v{self.version}-"  # older renderers' files are never read

    def cache_files(self) -> list[Path]:
        """Every file of the cache this renderer's version wrote (any seed and size)."""
        return sorted(cache_dir().glob(f"{self._cache_prefix}*"))

    def load(self, n_train: int, n_test: int, seed: int) -> tuple[Split, Split]:
        """Balanced, shuffled splits rendered from independent streams, cached."""
        cache_name = f"{self._cache_prefix}seed{seed}-{n_train}-{n_test}"
        arrays = cached_arrays(cache_name, lambda: self._render_splits(n_train, n_test, seed))
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])

    def _render_splits(self, n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
        train_seq, test_seq, order_seq = np.random.SeedSequence([seed, 0x7A551]).spawn(3)
        order = np.random.default_rng(order_seq)
        classes = np.arange(self.n_classes, dtype=np.int64)
        y_train = np.repeat(classes, n_train // self.n_classes)
        y_test = np.repeat(classes, n_test // self.n_classes)
        order.shuffle(y_train)
        order.shuffle(y_test)
        x_train, x_test = render_splits(
            self.render_one, [(y_train, train_seq), (y_test, test_seq)], self.size
        )
        return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def check_options(
    loader: str, n_classes: int, n_train: object, n_test: object, seed: object
) -> None:
    """Refuse sizes that are not positive multiples of the class count, and bad seeds."""
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(
                translate(
                    "{loader}: {name} must be a positive int, found {value!r}.",
                    loader=loader,
                    name=name,
                    value=value,
                )
            )
        if value % n_classes:
            raise ValueError(
                translate(
                    "{loader}: {name} must be a multiple of {n_classes} so that every class "
                    "has the same number of images, found {value}.",
                    loader=loader,
                    name=name,
                    n_classes=n_classes,
                    value=value,
                )
            )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(
            translate(
                "{loader}: seed must be a non-negative int, found {seed!r}.",
                loader=loader,
                seed=seed,
            )
        )


def wants_files(
    loader: str, train_file: str | os.PathLike | None, test_file: str | os.PathLike | None
) -> bool:
    """True when both files are given, False when neither; refuses one without the other."""
    if (train_file is None) != (test_file is None):
        raise ValueError(
            translate(
                "{loader}: pass both train_file and test_file, or neither for the embedded "
                "dataset (found train_file={train_file!r}, test_file={test_file!r}).",
                loader=loader,
                train_file=train_file,
                test_file=test_file,
            )
        )
    return train_file is not None
