"""CIFAR-10's loader on small archives in the original format (Python 2 pickles of NumPy
arrays in a .tar.gz): every source, a URL served on 127.0.0.1, damaged archives, and
pickles that carry code, which must be refused without running anything."""

from __future__ import annotations

import pickle
import tarfile

import numpy as np
import pytest

from data_loaders import CIFAR10_CLASS_NAMES, DataFileError, load_cifar10, loaded_class_names
from data_loaders.cifar10 import TEST_BATCH, TRAIN_BATCHES
from data_loaders.sources import last_load
from tests.data_loaders.original_files import (
    CodePayload,
    cifar_files,
    python2_pickle,
    serve_files,
    small_cifar_batches,
    write_cifar_archive,
    write_cifar_folder,
)

pytestmark = pytest.mark.unit


def _same(splits, batches) -> bool:
    (x_train, y_train), (x_test, y_test) = splits
    train_images = np.concatenate([batches[name][0] for name in TRAIN_BATCHES])
    train_labels = np.concatenate([batches[name][1] for name in TRAIN_BATCHES])
    return (
        np.array_equal(x_train, train_images)
        and np.array_equal(y_train, train_labels)
        and np.array_equal(x_test, batches[TEST_BATCH][0])
        and np.array_equal(y_test, batches[TEST_BATCH][1])
        and x_train.dtype == np.uint8
        and y_train.dtype == y_test.dtype == np.int64
    )


def test_an_archive_and_its_folder_are_read_channels_last(tmp_path):
    """The archive and the folder it unpacks to give the same images, (N, 32, 32, 3)
    uint8 with the pixels where the original's channels-first rows put them, int64
    labels, and the class names of batches.meta."""
    batches = small_cifar_batches()
    files = cifar_files(batches)
    archive = write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", files)
    splits = load_cifar10(path=archive, verify=False)
    assert _same(splits, batches)
    assert splits[0][0].shape == (50, 32, 32, 3)
    assert loaded_class_names("cifar10") == CIFAR10_CLASS_NAMES
    assert last_load("cifar10").description == f"the test images in {archive}"
    folder = write_cifar_folder(tmp_path / "cifar-10-batches-py", files)
    assert _same(load_cifar10(path=folder, verify=False), batches)
    row = pickle.loads(files[TEST_BATCH])[b"data"][0]
    red, green, blue = row[:1024], row[1024:2048], row[2048:]
    first = splits[1][0][0]
    assert (first[0, 1] == (red[1], green[1], blue[1])).all()  # row 0, column 1


def test_keras_own_copy_is_read_when_no_path_is_given(no_sources):
    """Keras 3 unpacks the archive under datasets/cifar-10-batches-py-target/."""
    batches = small_cifar_batches(seed=1)
    folder = no_sources / "keras" / "datasets" / "cifar-10-batches-py-target"
    write_cifar_folder(folder / "cifar-10-batches-py", cifar_files(batches))
    assert _same(load_cifar10(verify=False), batches)


def test_without_any_source_the_error_says_how_to_get_it(no_sources):
    with pytest.raises(DataFileError) as raised:
        load_cifar10()
    message = str(raised.value)
    assert "CIFAR-10 is not on this machine, and no package registry ships it" in message
    assert "load_cifar10(path=CIFAR10_URL)" in message


def test_a_url_is_downloaded_once_and_checked(no_sources):
    """A URL is fetched into the data cache once; with verify, an archive that is not the
    original is discarded, naming both checksums."""
    batches = small_cifar_batches(seed=2)
    archive = write_cifar_archive(no_sources / "a.tar.gz", cifar_files(batches))
    served = {"cifar-10-python.tar.gz": archive.read_bytes()}
    with serve_files(served) as base:
        url = f"{base}cifar-10-python.tar.gz"
        with pytest.raises(DataFileError, match=r"sha256 is [0-9a-f]{64}, expected 6d958be0"):
            load_cifar10(path=url)
        assert _same(load_cifar10(path=url, verify=False), batches)
        served.clear()  # a second load reads the cached copy
        assert _same(load_cifar10(path=url, verify=False), batches)


def test_an_archive_that_is_not_the_original_is_refused(tmp_path):
    archive = write_cifar_archive(tmp_path / "c.tar.gz", cifar_files(small_cifar_batches()))
    with pytest.raises(
        DataFileError, match=r"is not the original cifar-10-python.tar.gz: its sha256 is"
    ):
        load_cifar10(path=archive)


def test_a_truncated_archive_is_refused(tmp_path):
    archive = write_cifar_archive(tmp_path / "c.tar.gz", cifar_files(small_cifar_batches()))
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataFileError, match=r"c.tar.gz is not a readable .tar.gz archive"):
        load_cifar10(path=archive, verify=False)


@pytest.mark.parametrize("where", ["as the batch", "inside the batch's dict"])
def test_a_batch_whose_pickle_carries_code_is_refused_and_nothing_runs(tmp_path, where):
    """A test_batch pickle that would write a file when unpickled, whole or as one value
    of the batch's dict: the load is refused naming the batch and what it tried to
    import, and the file never appears."""
    marker = tmp_path / "ran.txt"
    files = cifar_files(small_cifar_batches())
    payload = CodePayload(marker)
    value = payload if where == "as the batch" else {b"data": payload, b"labels": [0]}
    files[TEST_BATCH] = pickle.dumps(value)
    archive = write_cifar_archive(tmp_path / "evil.tar.gz", files)
    with pytest.raises(
        DataFileError,
        match=r"evil.tar.gz: cifar-10-batches-py/test_batch: refused to unpickle "
        r"'pathlib.*write_text'",
    ):
        load_cifar10(path=archive, verify=False)
    assert not marker.exists()


def test_a_batch_of_the_wrong_layout_is_refused_naming_it(tmp_path):
    batches = small_cifar_batches()
    files = cifar_files(batches)
    files["data_batch_3"] = python2_pickle(
        {b"data": np.zeros((10, 1024), np.uint8), b"labels": [0] * 10}
    )
    archive = write_cifar_archive(tmp_path / "a.tar.gz", files)
    with pytest.raises(DataFileError, match=r"data_batch_3: 'data' rows should hold 3072 values"):
        load_cifar10(path=archive, verify=False)
    files = cifar_files(batches)
    del files["data_batch_5"]
    archive = write_cifar_archive(tmp_path / "b.tar.gz", files)
    with pytest.raises(DataFileError, match=r"has no cifar-10-batches-py/data_batch_5"):
        load_cifar10(path=archive, verify=False)
    with pytest.raises(DataFileError, match=r"labels 0..9"):
        files = cifar_files(batches)
        files[TEST_BATCH] = python2_pickle(
            {b"data": np.zeros((10, 3072), np.uint8), b"labels": [10] * 10}
        )
        load_cifar10(path=write_cifar_archive(tmp_path / "c.tar.gz", files), verify=False)


def test_the_original_sizes_are_required_with_verify(tmp_path):
    """A folder has no checksum, so with verify the batches must have the original's
    10,000 images each."""
    folder = write_cifar_folder(tmp_path / "f", cifar_files(small_cifar_batches()))
    with pytest.raises(DataFileError, match=r"data_batch_1: 10 images, expected 10000"):
        load_cifar10(path=folder)


def test_members_outside_the_folder_are_never_read_or_written(tmp_path):
    """An archive with a member that climbs out of its folder: it is ignored (the archive
    is read in memory, nothing is extracted), and the load still works."""
    batches = small_cifar_batches()
    archive = write_cifar_archive(tmp_path / "a.tar.gz", cifar_files(batches))
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    import io

    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            tar.addfile(member, io.BytesIO(data))
        evil = tarfile.TarInfo("../../escaped.txt")
        evil.size = 3
        tar.addfile(evil, io.BytesIO(b"bad"))
    assert _same(load_cifar10(path=archive, verify=False), batches)
    assert not (tmp_path.parent / "escaped.txt").exists()
