"""Loading a train/test pair of HDF5 files in the original public format
(``train_set_x`` / ``train_set_y`` / ``list_classes`` and ``test_set_x`` / ``test_set_y`` /
``list_classes``)."""

from __future__ import annotations

import os

from course_utils.language import translate
from data_loaders._embedded import EmbeddedDataset, Split, check_options, wants_files
from data_loaders._files import DataFileError, embedded_hint, local_file, read_h5_split
from data_loaders.sources import record_files_load, record_rendered_load


def load_h5_pair(
    train_file: str | os.PathLike,
    test_file: str | os.PathLike,
    *,
    image_shape: tuple[int, ...],
    n_classes: int,
    train_sha256: str | None,
    test_sha256: str | None,
) -> tuple[tuple[Split, Split], list[str]]:
    """Read both files (paths or URLs); returns the splits and the class names they carry.

    Refuses a pair whose ``list_classes`` differ, naming both files.
    """
    train_path = local_file(train_file, sha256=train_sha256, hint=embedded_hint())
    test_path = local_file(test_file, sha256=test_sha256, hint=embedded_hint())
    x_train, y_train, train_names = read_h5_split(
        train_path,
        x_key="train_set_x",
        y_key="train_set_y",
        image_shape=image_shape,
        n_classes=n_classes,
    )
    x_test, y_test, test_names = read_h5_split(
        test_path,
        x_key="test_set_x",
        y_key="test_set_y",
        image_shape=image_shape,
        n_classes=n_classes,
    )
    if train_names != test_names:
        raise DataFileError(
            translate(
                "{train_path} and {test_path} list different classes: {train_names} vs "
                "{test_names}.",
                train_path=train_path,
                test_path=test_path,
                train_names=train_names,
                test_names=test_names,
            )
        )
    return ((x_train, y_train), (x_test, y_test)), train_names


def load_h5_or_embedded(
    loader: str,
    embedded: EmbeddedDataset,
    *,
    class_names: tuple[str, ...],
    n_train: int,
    n_test: int,
    seed: int,
    train_file: str | os.PathLike | None,
    test_file: str | os.PathLike | None,
    train_sha256: str | None,
    test_sha256: str | None,
) -> tuple[Split, Split]:
    """The body of every 64x64 loader: the original HDF5 pair when files are given, else
    the embedded default (options checked first). ``class_names``: the embedded default's.
    The load is recorded (:func:`data_loaders.sources.last_load`) with the class names of
    its source: the files' ``list_classes``, or ``class_names``."""
    if wants_files(loader, train_file, test_file):
        splits, names = load_h5_pair(
            train_file,
            test_file,
            image_shape=(64, 64, 3),
            n_classes=embedded.n_classes,
            train_sha256=train_sha256,
            test_sha256=test_sha256,
        )
        return record_files_load(embedded.name, tuple(names), splits, test_file=test_file)
    check_options(loader, embedded.n_classes, n_train, n_test, seed)
    splits = embedded.load(n_train, n_test, seed)
    return record_rendered_load(embedded.name, class_names, splits, seed=seed)
