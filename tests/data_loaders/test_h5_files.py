"""The original HDF5 format of happy faces and hand signs, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

from data_loaders import DataFileError, load_hand_signs, load_happy_faces
from data_loaders.sources import last_load
from tests.data_loaders.original_files import write_h5_split

pytestmark = pytest.mark.unit


def _images(n):
    return np.random.default_rng(n).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)


@pytest.fixture
def happy_pair(tmp_path):
    train = write_h5_split(
        tmp_path / "train_happy.h5",
        "train_set",
        _images(6),
        np.array([0, 1, 0, 1, 1, 0], dtype=np.int64),
    )
    test = write_h5_split(
        tmp_path / "test_happy.h5", "test_set", _images(4), np.array([[1, 0, 0, 1]], dtype=np.int64)
    )  # stored (1, N) like the original
    return train, test


def test_reads_the_original_happy_files(happy_pair):
    """Are the original train/test HDF5 files read, with (1, N) labels flattened to (N,)?"""
    (x_train, y_train), (x_test, y_test) = load_happy_faces(
        train_file=happy_pair[0], test_file=happy_pair[1]
    )
    np.testing.assert_array_equal(x_train, _images(6))
    assert y_train.tolist() == [0, 1, 0, 1, 1, 0] and y_test.tolist() == [1, 0, 0, 1]
    assert y_test.dtype == np.int64 and x_test.dtype == np.uint8


def test_reads_hand_sign_files_with_six_classes(tmp_path):
    """Are hand-sign files with labels 0..5 read?"""
    classes = [str(i).encode() for i in range(6)]
    train = write_h5_split(
        tmp_path / "train_signs.h5", "train_set", _images(6), np.arange(6), classes
    )
    test = write_h5_split(
        tmp_path / "test_signs.h5", "test_set", _images(3), np.array([5, 0, 2]), classes
    )
    (_, y_train), (_, y_test) = load_hand_signs(train_file=train, test_file=test)
    assert y_train.tolist() == list(range(6)) and y_test.tolist() == [5, 0, 2]


def test_hand_sign_loader_refuses_the_two_class_happy_face_files(happy_pair):
    """Is a happy-face pair (two classes) refused by the six-class hand-sign loader?"""
    with pytest.raises(DataFileError) as error:
        load_hand_signs(train_file=happy_pair[0], test_file=happy_pair[1])
    assert str(error.value) == (
        f"{happy_pair[0]}: 'list_classes' must name 6 classes for this dataset, found 2 (0, 1): "
        "is it another dataset's file?"
    )


def test_class_names_follow_the_files(happy_pair):
    """Are the class names of a file load the files' own list_classes?"""
    load_happy_faces(train_file=happy_pair[0], test_file=happy_pair[1])
    loaded = last_load("happy_faces")
    assert loaded.from_files and loaded.class_names == ("0", "1")
    assert loaded.description == f"the test file {happy_pair[1]}"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train_set_y": None}, r"missing \['train_set_y'\]"),
        ({"list_classes": None}, r"missing \['list_classes'\]"),
        (
            {"train_set_x": np.zeros((6, 64, 64, 3), np.float32)},
            "must be uint8 images, found float32",
        ),
        (
            {"train_set_x": np.zeros((6, 32, 32, 3), np.uint8)},
            r"shape \(N, 64, 64, 3\), found \(6, 32, 32, 3\)",
        ),
        ({"train_set_y": np.array([0, 1, 0])}, "must be 6 integer labels"),
        ({"train_set_y": np.array([0, 1, 0, 1, 2, 0])}, r"must lie in 0..1, found 0..2"),
    ],
    ids=["no labels", "no classes", "float images", "wrong size", "too few labels", "label range"],
)
def test_wrong_layouts_are_refused_naming_the_file(tmp_path, happy_pair, overrides, message):
    """Does each wrong layout get an error naming the file and what was expected?"""
    bad = write_h5_split(
        tmp_path / "bad.h5", "train_set", _images(6), np.zeros(6, np.int64), **overrides
    )
    with pytest.raises(DataFileError, match=message) as error:
        load_happy_faces(train_file=bad, test_file=happy_pair[1])
    assert "bad.h5" in str(error.value)


def test_truncated_missing_and_mismatched_files_are_refused(tmp_path, happy_pair):
    """Are a truncated file, a missing one and a pair with different classes refused?"""
    data = happy_pair[0].read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataFileError, match=r"cut\.h5: not a readable HDF5 file"):
        load_happy_faces(train_file=cut, test_file=happy_pair[1])
    with pytest.raises(DataFileError, match=r"gone\.h5: no such file \(expected an HDF5 file"):
        load_happy_faces(train_file=tmp_path / "gone.h5", test_file=happy_pair[1])
    other = write_h5_split(
        tmp_path / "other.h5", "test_set", _images(2), np.array([0, 1]), (b"sad", b"happy")
    )
    with pytest.raises(DataFileError, match="list different classes"):
        load_happy_faces(train_file=happy_pair[0], test_file=other)
