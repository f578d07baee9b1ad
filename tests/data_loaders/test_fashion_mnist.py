"""Fashion-MNIST's loader: the real data installed by the test command, small IDX folders
for every source and their order, and the install from Debian's package folder or, where
there is none, from a download origin served on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from data_loaders import (
    FASHION_MNIST_CLASS_NAMES,
    DataFileError,
    fashion_mnist,
    load_fashion_mnist,
    loaded_class_names,
)
from data_loaders._idx import IDX_NAMES
from data_loaders.fashion_mnist import install_fashion_mnist, installed_folder
from data_loaders.sources import forget_loads, last_load
from tests.data_loaders.original_files import (
    idx_bytes,
    same_arrays,
    serve_files,
    small_idx_arrays,
    write_idx_folder,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def no_debian(no_sources, monkeypatch):
    """No source at all: empty caches and no Debian package folder."""
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", no_sources / "no-debian")
    return no_sources


def _expected(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {name: hashlib.sha256(idx_bytes(arrays[k])).hexdigest() for k, name in IDX_NAMES.items()}


def test_the_real_fashion_mnist_is_there_and_verified():
    """The copy the test command installs: 60,000 / 10,000 uint8 28x28 photos, 6,000 and
    1,000 of each of the ten classes, with the dataset's first labels and class names."""
    forget_loads()
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.dtype == y_test.dtype == np.int64
    assert y_train[:5].tolist() == [9, 0, 0, 3, 0]  # ankle boot, T-shirt/top, ...
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert loaded_class_names("fashion_mnist") == FASHION_MNIST_CLASS_NAMES
    assert FASHION_MNIST_CLASS_NAMES[9] == "ankle boot"
    assert last_load("fashion_mnist").description == "Fashion-MNIST's test images"


def test_the_sources_are_read_in_order(no_debian, monkeypatch):
    """A path first; else Keras's cache; else the installed copy; else Debian's folder."""
    debian, installed, cached, given = (small_idx_arrays(seed) for seed in range(4))
    monkeypatch.setattr(
        fashion_mnist, "DEBIAN_FOLDER", write_idx_folder(no_debian / "debian", debian)
    )
    assert same_arrays(load_fashion_mnist(verify=False), debian)
    write_idx_folder(installed_folder(), installed)
    assert same_arrays(load_fashion_mnist(verify=False), installed)
    write_idx_folder(no_debian / "keras" / "datasets" / "fashion-mnist", cached, gzip_all=True)
    assert same_arrays(load_fashion_mnist(verify=False), cached)
    folder = write_idx_folder(no_debian / "given", given)
    assert same_arrays(load_fashion_mnist(path=folder, verify=False), given)


def test_without_any_source_the_error_says_how_to_get_one(no_debian):
    with pytest.raises(DataFileError) as raised:
        load_fashion_mnist()
    message = str(raised.value)
    assert "Fashion-MNIST is not on this machine" in message
    assert "python -m data_loaders install" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_files_that_are_not_the_originals_are_refused(tmp_path):
    """With verify (the default), a folder of the right format but other content is
    refused, naming the Fashion-MNIST file it should be."""
    folder = write_idx_folder(tmp_path / "idx", small_idx_arrays(0))
    with pytest.raises(
        DataFileError,
        match=r"is not the original Fashion-MNIST file train-images-idx3-ubyte: its sha256",
    ):
        load_fashion_mnist(path=folder)
    with pytest.raises(DataFileError, match=r"is not a folder of the four IDX files"):
        load_fashion_mnist(path=folder / "t10k-images-idx3-ubyte")


def test_a_truncated_file_is_refused_naming_it(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", small_idx_arrays(0))
    image_file = folder / "t10k-images-idx3-ubyte"
    image_file.write_bytes(image_file.read_bytes()[:-100])
    with pytest.raises(DataFileError, match=r"t10k-images-idx3-ubyte is truncated"):
        load_fashion_mnist(path=folder, verify=False)


def test_install_copies_debian_files_and_fetches_nothing_again(no_debian, monkeypatch):
    """From a Debian package folder: the four files land in the data cache, checked, and
    a second install finds them there."""
    arrays = small_idx_arrays(5)
    debian = write_idx_folder(no_debian / "debian", arrays, gzip_all=True)
    folder = install_fashion_mnist(
        debian_folder=debian, origin="http://127.0.0.1:9/", expected=_expected(arrays)
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in IDX_NAMES.values())
    assert same_arrays(load_fashion_mnist(verify=False), arrays)
    for path in debian.iterdir():
        path.unlink()
    install_fashion_mnist(
        debian_folder=debian, origin="http://127.0.0.1:9/", expected=_expected(arrays)
    )


def test_install_downloads_from_the_origin_where_debian_has_no_package(no_debian):
    """Without Debian's folder, the files come from the origin (here on 127.0.0.1); a file
    that is not the expected one is refused and nothing of it is installed."""
    arrays = small_idx_arrays(6)
    served = {
        f"{name}.gz": gzip.compress(idx_bytes(arrays[key])) for key, name in IDX_NAMES.items()
    }
    with serve_files(served) as origin:
        wrong = dict(served)
        served["t10k-images-idx3-ubyte.gz"] = gzip.compress(
            idx_bytes(small_idx_arrays(7)["x_test"])
        )
        with pytest.raises(
            DataFileError, match=r"t10k-images-idx3-ubyte.gz is not the original Fashion-MNIST file"
        ):
            install_fashion_mnist(
                debian_folder=no_debian / "none", origin=origin, expected=_expected(arrays)
            )
        assert not (installed_folder() / "t10k-images-idx3-ubyte.gz").exists()
        served.update(wrong)
        install_fashion_mnist(
            debian_folder=no_debian / "none", origin=origin, expected=_expected(arrays)
        )
    assert same_arrays(load_fashion_mnist(verify=False), arrays)


def test_the_install_step_fails_only_for_a_dataset_the_course_needs_to_start(monkeypatch, capsys):
    """Without Debian's package and offline, Fashion-MNIST cannot be installed: the
    install step says so and still succeeds (lessons 00-08 need only MNIST); a failed
    MNIST install fails it."""
    from data_loaders import __main__ as install_step

    def fails():
        raise DataFileError("no source reachable")

    monkeypatch.setitem(install_step.INSTALLERS, "MNIST", (lambda: Path("/mnist"), True))
    monkeypatch.setitem(install_step.INSTALLERS, "Fashion-MNIST", (fails, False))
    assert install_step.main(["install"]) == 0
    captured = capsys.readouterr()
    assert "keras-course: Fashion-MNIST is not installed: no source reachable" in captured.err
    assert "MNIST's original files are in /mnist" in captured.out
    monkeypatch.setitem(install_step.INSTALLERS, "MNIST", (fails, True))
    assert install_step.main(["install"]) == 1
