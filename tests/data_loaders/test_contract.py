"""One contract for every load_* function: shapes, dtypes, labels, balance, determinism,
class names, disjoint splits, keyword-only options. The rendered datasets
(``data_loaders.RENDERED``) are balanced and take a seed and sizes; real data (MNIST,
Fashion-MNIST) is as its authors made it. CIFAR-10 is on no machine the suite runs on (no
package registry ships it), so its loader meets the contract on a small archive in the
original format."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

import data_loaders
from data_loaders import LOADERS, RENDERED
from data_loaders.small import SMALL_ENV_VAR, SMALL_PER_CLASS
from data_loaders.sources import last_load
from tests.data_loaders.original_files import (
    cifar_files,
    small_cifar_batches,
    write_cifar_archive,
)

pytestmark = pytest.mark.unit

IMAGE_SHAPES = {
    "traffic_signs": (32, 32, 3),
    "happy_faces": (64, 64, 3),
    "hand_signs": (64, 64, 3),
    "mnist": (28, 28),
    "fashion_mnist": (28, 28),
    "cifar10": (32, 32, 3),
}
CLASS_COUNTS = {
    "traffic_signs": 5,
    "happy_faces": 2,
    "hand_signs": 6,
    "mnist": 10,
    "fashion_mnist": 10,
    "cifar10": 10,
}
DEFAULT_SIZES = {
    "traffic_signs": (3000, 1000),
    "happy_faces": (1200, 300),
    "hand_signs": (1080, 120),
    "mnist": (60000, 10000),
    "fashion_mnist": (60000, 10000),
    "cifar10": (50, 10),  # the small archive below: 10 images a batch
}
MEAN_PIXEL = {"mnist": (20, 50)}  # white digits on black; the others are photos
"""The range of the mean pixel of the training images, where it is not (40, 215)."""


def test_every_public_loader_is_registered():
    """Is every load_* function of the package in LOADERS (so the contract covers it)?"""
    public = {name[len("load_") :] for name in data_loaders.__all__ if name.startswith("load_")}
    assert public == set(LOADERS) == set(IMAGE_SHAPES)


@pytest.fixture(scope="module")
def small_cifar_archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar")
    return write_cifar_archive(
        folder / "cifar-10-python.tar.gz", cifar_files(small_cifar_batches())
    )


@pytest.fixture(scope="module", params=sorted(LOADERS))
def dataset(request):
    """name, the loader (with the small archive's path for CIFAR-10), class names, a load"""
    loader, class_names = LOADERS[request.param]
    if request.param == "cifar10":
        archive = request.getfixturevalue("small_cifar_archive")
        loader = functools.partial(loader, path=archive, verify=False)
    return request.param, loader, class_names, loader()


def test_default_sizes_shapes_and_dtypes(dataset):
    """Are the default splits of the documented sizes, uint8 images and int64 labels?"""
    name, _, _, ((x_train, y_train), (x_test, y_test)) = dataset
    n_train, n_test = DEFAULT_SIZES[name]
    assert x_train.shape == (n_train, *IMAGE_SHAPES[name])
    assert x_test.shape == (n_test, *IMAGE_SHAPES[name])
    assert x_train.dtype == x_test.dtype == np.uint8
    assert y_train.shape == (n_train,) and y_test.shape == (n_test,)
    assert y_train.dtype == y_test.dtype == np.int64


def test_labels_cover_every_class_in_balance(dataset):
    """Do labels run 0..K-1, one per class name, with every class equally often (a
    rendered dataset) or at least half as often as on average (real data)?"""
    name, _, class_names, ((_, y_train), (_, y_test)) = dataset
    k = len(class_names)
    assert k == CLASS_COUNTS[name]
    for labels in (y_train, y_test):
        counts = np.bincount(labels, minlength=k)
        assert len(counts) == k
        if name in RENDERED:
            assert (counts == len(labels) // k).all()
        else:
            assert counts.min() > len(labels) / k / 2
    assert all(isinstance(n, str) and n for n in class_names)
    assert len(set(class_names)) == k


def test_images_use_a_real_range_and_vary(dataset):
    """Are images neither blank nor constant, and do classes differ on average?"""
    name, _, _, ((x_train, y_train), _) = dataset
    assert x_train.min() < 30 and x_train.max() > 225
    assert x_train.min() == 0 or x_train.max() == 255  # the full 0..255 range is used
    low, high = MEAN_PIXEL.get(name, (40, 215))
    assert low < x_train.mean() < high  # neither black nor white frames
    assert x_train.reshape(len(x_train), -1).std(axis=1).min() > 5


def test_train_and_test_share_no_image(dataset):
    """Is no test image an exact copy of a training image (nor duplicated within train)?"""
    _, _, _, ((x_train, _), (x_test, _)) = dataset
    train_rows = {row.tobytes() for row in x_train}
    assert len(train_rows) == len(x_train)
    assert not any(row.tobytes() in train_rows for row in x_test)


def test_loading_twice_gives_identical_arrays(dataset):
    """Does loading again give the same arrays (the embedded default is deterministic)?"""
    _, loader, _, first = dataset
    second = loader()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_options_are_keyword_only(name):
    """Are every loader's options keyword-only?"""
    parameters = inspect.signature(LOADERS[name][0]).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)


@pytest.mark.parametrize("name", RENDERED)
def test_sizes_that_cannot_be_balanced_are_refused(name):
    """Are sizes that cannot be balanced refused, and one original file without the other?"""
    loader, class_names = LOADERS[name]
    with pytest.raises(ValueError, match=f"multiple of {len(class_names)}"):
        loader(n_train=len(class_names) + 1)
    with pytest.raises(ValueError, match="pass both train_file and test_file"):
        loader(test_file="x")


@pytest.mark.parametrize("name", RENDERED)
def test_seed_changes_the_images_and_small_sizes_work(name, data_cache):
    """Do other seeds give other images, and small sizes stay balanced?"""
    loader, class_names = LOADERS[name]
    k = len(class_names)
    (a, ya), _ = loader(n_train=2 * k, n_test=k, seed=1)
    (b, yb), (c, yc) = loader(n_train=2 * k, n_test=k, seed=2)
    assert a.shape[0] == 2 * k and c.shape[0] == k
    assert not np.array_equal(a, b)
    assert np.bincount(yb).tolist() == [2] * k and np.bincount(yc).tolist() == [1] * k


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_docstring_carries_a_dataset_card(name):
    """Does each loader document its data: card, shapes, dtypes, ranges, licence, example?"""
    doc = inspect.getdoc(LOADERS[name][0])
    for needed in ("Dataset card", "uint8", "int64", "0..255", "Licence", "Example", ">>> "):
        assert needed in doc, f"{name}: docstring lacks {needed!r}"


def test_the_small_switch_gives_the_first_images_of_each_class_and_records_them(
    dataset, monkeypatch
):
    """With KERAS_COURSE_SMALL=1, does every loader give, of each split, the first images of
    each class in their order (up to SMALL_PER_CLASS), with the same dtypes and image
    shapes, and record that subset as its load, so that a check measures on what the
    notebook holds?"""
    name, loader, _, full = dataset
    monkeypatch.setenv(SMALL_ENV_VAR, "1")
    small = loader()
    for (x_full, y_full), (x_small, y_small), per_class in zip(
        full, small, SMALL_PER_CLASS, strict=True
    ):
        counts = np.bincount(y_small, minlength=CLASS_COUNTS[name])
        expected = np.minimum(np.bincount(y_full, minlength=CLASS_COUNTS[name]), per_class)
        assert counts.tolist() == expected.tolist()
        assert x_small.dtype == x_full.dtype and y_small.dtype == y_full.dtype
        assert x_small.shape[1:] == x_full.shape[1:]
        for label in range(CLASS_COUNTS[name]):
            first = x_full[y_full == label][:per_class]
            np.testing.assert_array_equal(x_small[y_small == label], first)
    loaded = last_load(name)
    np.testing.assert_array_equal(loaded.x_test, small[1][0])
    np.testing.assert_array_equal(loaded.y_train, small[0][1])
    assert loaded.description.endswith(f", a small subset ({SMALL_ENV_VAR}=1)")
