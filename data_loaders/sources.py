"""Where each dataset's loads in this process came from.

The loaders record every load: the course's rendered default or the original files, the
class names that source gives, and its test split. Graders read the loads to measure a
model on test images of the source it was trained on, and notebooks read the class names
of the data they actually hold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from course_utils.language import translate
from data_loaders._idx import Split
from data_loaders.small import SMALL_ENV_VAR, small_data_requested, small_splits

Splits = tuple[Split, Split]


@dataclass(frozen=True, eq=False)
class LoadedSource:
    """One load of one dataset.

    ``x_train``, ``x_test``: uint8 (N, H, W, 3), or (N, 28, 28) for MNIST; ``y_train``,
    ``y_test``: int64 (N,), indexing ``class_names``.
    ``description`` names the test images, for messages: ``"the course's test images"``
    or ``"the test file test_happy.h5"``.
    """

    dataset: str
    from_files: bool
    description: str
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# dataset -> (description, test size) -> load, oldest first; a source loaded again moves
# to the end.
_LOADS: dict[str, dict[tuple[str, int], LoadedSource]] = {}


def _record(source: LoadedSource) -> None:
    loads = _LOADS.setdefault(source.dataset, {})
    key = (source.description, len(source.y_test))
    loads.pop(key, None)
    loads[key] = source


def _as_given(
    dataset: str,
    from_files: bool,
    description: str,
    class_names: tuple[str, ...],
    splits: Splits,
) -> Splits:
    """Record ``splits`` as a load and return them, or, when the small subset is asked for
    (:mod:`data_loaders.small`), record and return that subset instead: every loader returns
    what its ``record_*`` call returns, so that what a notebook holds is what was recorded."""
    if small_data_requested():
        splits = small_splits(splits)
        description = translate(
            "{description}, a small subset ({variable}=1)",
            description=description,
            variable=SMALL_ENV_VAR,
        )
    _record(LoadedSource(dataset, from_files, description, class_names, *splits[0], *splits[1]))
    return splits


def record_rendered_load(
    dataset: str,
    class_names: tuple[str, ...],
    splits: Splits,
    *,
    seed: int,
) -> Splits:
    """Record a load of the rendered default (called by the loaders); returns the splits
    the loader gives (:func:`_as_given`)."""
    if seed:
        description = translate("the course's test images (seed {seed})", seed=seed)
    else:
        description = translate("the course's test images")
    return _as_given(dataset, False, description, class_names, splits)


def record_files_load(
    dataset: str,
    class_names: tuple[str, ...],
    splits: Splits,
    *,
    test_file: str | os.PathLike,
    description: str | None = None,
) -> Splits:
    """Record a load of the original files (called by the loaders); ``description``
    names the test images, by default ``"the test file <test_file>"``. Returns the splits
    the loader gives (:func:`_as_given`)."""
    description = description or translate("the test file {path}", path=os.fspath(test_file))
    return _as_given(dataset, True, description, tuple(class_names), splits)


def loads_of(dataset: str) -> list[LoadedSource]:
    """Every distinct source of ``dataset`` (e.g. ``"traffic_signs"``) loaded in this
    process, oldest first; empty when it has not been loaded."""
    return list(_LOADS.get(dataset, {}).values())


def last_load(dataset: str) -> LoadedSource | None:
    """The most recent load of ``dataset`` in this process, or None."""
    loads = loads_of(dataset)
    return loads[-1] if loads else None


def forget_loads() -> None:
    """Forget every recorded load, as in a fresh process (tests start from here)."""
    _LOADS.clear()


def unknown_class_names(n_classes: int) -> tuple[str, ...]:
    """Names for classes whose source does not name them: ``"label 0 (name unknown)"``, ..."""
    return tuple(f"label {label} (name unknown)" for label in range(n_classes))


def loaded_class_names(dataset: str) -> tuple[str, ...]:
    """The class names of the data most recently loaded for ``dataset`` (e.g.
    ``"traffic_signs"``), indexed by label: the rendered set's names for the embedded
    default, the files' own names for the original files (``"label N (name unknown)"``
    where a file names none).

    Raises ``ValueError`` when ``dataset`` has not been loaded in this process.

    Example:
        >>> from data_loaders import load_traffic_signs, loaded_class_names
        >>> _ = load_traffic_signs()
        >>> loaded_class_names("traffic_signs")[0]
        'stop'
    """
    loaded = last_load(dataset)
    if loaded is None:
        raise ValueError(
            translate(
                "no {dataset} data has been loaded in this process yet: call "
                "load_{dataset}() first, then ask for its class names.",
                dataset=dataset,
            )
        )
    return loaded.class_names
