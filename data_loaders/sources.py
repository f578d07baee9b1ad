"""Where each dataset's most recent load in this process came from.

The loaders record every load: the course's rendered default or the original files, the
class names that source gives, and its test split. Graders read it to evaluate a model on
test images of the same source it was trained on, and notebooks to name the classes of
the data they actually hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoadedSource:
    """One load of one dataset.

    ``x_test``: uint8 (N, H, W, 3); ``y_test``: int64 (N,), indexing ``class_names``.
    ``description`` says where the images came from, for messages.
    """

    dataset: str
    from_files: bool
    description: str
    class_names: tuple[str, ...]
    x_test: np.ndarray
    y_test: np.ndarray


_LAST: dict[str, LoadedSource] = {}


def record_load(source: LoadedSource) -> None:
    """Remember ``source`` as its dataset's most recent load (called by the loaders)."""
    _LAST[source.dataset] = source


def last_load(dataset: str) -> LoadedSource | None:
    """The most recent load of ``dataset`` (e.g. ``"traffic_signs"``) in this process, or
    None when it has not been loaded."""
    return _LAST.get(dataset)


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
            f"no {dataset} data has been loaded in this process yet: call load_{dataset}() "
            "first, then ask for its class names."
        )
    return loaded.class_names
