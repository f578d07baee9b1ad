"""Tests of load_traffic_signs beyond the contract every loader meets (test_contract.py):
the cache, its options, and the original pickle format."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from data_loaders import TRAFFIC_SIGN_CLASS_NAMES, DataFileError, load_traffic_signs
from data_loaders.sources import last_load

pytestmark = pytest.mark.unit

SMALL = {"n_train": 50, "n_test": 25}


def test_same_seed_same_images_other_seed_other_images(data_cache):
    """Is rendering deterministic per seed, both freshly and from the cache?"""
    first = load_traffic_signs(**SMALL, seed=3)
    cached = load_traffic_signs(**SMALL, seed=3)
    other = load_traffic_signs(**SMALL, seed=4)
    for a, b in zip(first, cached, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(first[0][0], other[0][0])
    assert sorted(p.name for p in data_cache.iterdir()) == [
        "traffic_signs-v3-seed3-50-25.npz",
        "traffic_signs-v3-seed3-50-25.npz.sha256",
        "traffic_signs-v3-seed4-50-25.npz",
        "traffic_signs-v3-seed4-50-25.npz.sha256",
    ]


def test_corrupt_cache_is_rebuilt_with_a_message(data_cache, capsys):
    """Does a cached file that fails its checksum get rebuilt, with a message, to the same data?"""
    (x_train, _), _ = load_traffic_signs(**SMALL)
    cached = data_cache / "traffic_signs-v3-seed0-50-25.npz"
    cached.write_bytes(cached.read_bytes()[:100])
    (x_again, _), _ = load_traffic_signs(**SMALL)
    assert "does not match its checksum" in capsys.readouterr().err
    np.testing.assert_array_equal(x_train, x_again)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_train": 0}, "n_train must be a positive int"),
        ({"n_test": 12}, "multiple of 5"),
        ({"seed": -1}, "seed must be a non-negative int"),
        ({"train_file": "a.p"}, "pass both train_file and test_file"),
    ],
)
def test_invalid_options_are_refused(options, message):
    """Are bad options refused with a message that names them?"""
    with pytest.raises(ValueError, match=message):
        load_traffic_signs(**options)


def test_options_are_keyword_only():
    """Are the options keyword-only?"""
    with pytest.raises(TypeError):
        load_traffic_signs(100)  # type: ignore[misc]


# --- the original pickle format -----------------------------------------------------------


def _write_pickle(path: Path, content: object, protocol: int = 4) -> Path:
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    return path


def _features(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_reads_original_pickles_and_shifts_labels_1_to_5(tmp_path, protocol):
    """Are the original pickles (labels 1..5, any protocol) read with labels shifted to 0..4,
    in both files, even when the test file holds no image of class 5?"""
    features = _features(10)
    labels = np.array([1, 2, 3, 4, 5] * 2)
    train = _write_pickle(tmp_path / "train.p", {"features": features, "labels": labels}, protocol)
    test = _write_pickle(
        tmp_path / "test.p", {"features": features[:4], "labels": [1, 2, 3, 4]}, protocol
    )
    (x_train, y_train), (x_test, y_test) = load_traffic_signs(train_file=train, test_file=test)
    np.testing.assert_array_equal(x_train, features)
    assert y_train.tolist() == [0, 1, 2, 3, 4] * 2 and y_train.dtype == np.int64
    assert y_test.tolist() == [0, 1, 2, 3]


def test_a_pair_that_mixes_label_numberings_is_refused(tmp_path):
    """Is a training file numbered 1..5 next to a test file numbered 0..4 refused, naming both?"""
    train = _write_pickle(
        tmp_path / "train.p", {"features": _features(5), "labels": [1, 2, 3, 4, 5]}
    )
    test = _write_pickle(tmp_path / "test.p", {"features": _features(5), "labels": [0, 1, 2, 3, 4]})
    with pytest.raises(DataFileError) as error:
        load_traffic_signs(train_file=train, test_file=test)
    assert str(error.value) == (
        f"the training and test files number their classes differently ({train}: labels 1..5; "
        f"{test}: labels 0..4): expected both 0..4 or both 1..5."
    )


def test_original_files_get_unknown_class_names_not_the_rendered_ones(tmp_path):
    """Does a load from the original pickles report its classes as unknown (the files name
    none), while the rendered default keeps the sign names?"""
    path = _write_pickle(
        tmp_path / "signs.p", {"features": _features(5), "labels": [0, 1, 2, 3, 4]}
    )
    load_traffic_signs(train_file=path, test_file=path)
    loaded = last_load("traffic_signs")
    assert loaded.from_files and loaded.class_names == (
        "label 0 (name unknown)",
        "label 1 (name unknown)",
        "label 2 (name unknown)",
        "label 3 (name unknown)",
        "label 4 (name unknown)",
    )
    assert loaded.y_test.tolist() == [0, 1, 2, 3, 4]
    load_traffic_signs(n_train=5, n_test=5)
    loaded = last_load("traffic_signs")
    assert not loaded.from_files and loaded.class_names == TRAFFIC_SIGN_CLASS_NAMES


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_carries_code_is_refused_and_not_run(tmp_path):
    """Is a pickle that would run a command refused, without running it?"""
    marker = tmp_path / "pwned"
    bad = _write_pickle(
        tmp_path / "evil.p", {"features": _features(2), "labels": [0, 1], "x": _Exploit(marker)}
    )
    good = _write_pickle(tmp_path / "ok.p", {"features": _features(2), "labels": [0, 1]})
    with pytest.raises(
        DataFileError, match=r"evil\.p: refused to unpickle '(posix|os|nt)\.system'"
    ):
        load_traffic_signs(train_file=bad, test_file=good)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([1, 2, 3], "expected a dict with keys 'features' and 'labels'"),
        ({"features": np.zeros((2, 32, 32, 3), np.uint8)}, "found \\['features'\\]"),
        ({"features": np.zeros((2, 32, 32, 3), np.float32), "labels": [0, 1]}, "uint8"),
        ({"features": np.zeros((2, 28, 28, 3), np.uint8), "labels": [0, 1]}, r"\(2, 28, 28, 3\)"),
        ({"features": np.zeros((2, 32, 32, 3), np.uint8), "labels": [0]}, "one per image"),
        ({"features": np.zeros((2, 32, 32, 3), np.uint8), "labels": [0, 7]}, "0..7"),
    ],
)
def test_wrong_layout_is_refused_with_the_file_and_the_expectation(tmp_path, content, message):
    """Does a pickle with wrong keys, dtype, shape or labels get an error naming file and rule?"""
    path = _write_pickle(tmp_path / "bad.p", content)
    with pytest.raises(DataFileError, match=message) as error:
        load_traffic_signs(train_file=path, test_file=path)
    assert "bad.p" in str(error.value)


def test_truncated_and_missing_files_are_named(tmp_path):
    """Do a truncated pickle and a missing file get errors that name the file?"""
    whole = pickle.dumps({"features": _features(4), "labels": [0, 1, 2, 3]})
    truncated = tmp_path / "cut.p"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFileError, match=r"cut\.p: not a complete pickle"):
        load_traffic_signs(train_file=truncated, test_file=truncated)
    with pytest.raises(DataFileError, match=r"nothere\.p: no such file"):
        load_traffic_signs(train_file=tmp_path / "nothere.p", test_file=truncated)
