"""Small files in the original formats of the real datasets, for the loaders' tests: HDF5
pairs (happy faces, hand signs), IDX folders (MNIST, Fashion-MNIST), CIFAR-10 archives, and
a file server on 127.0.0.1."""

from __future__ import annotations

import gzip
import http.server
import io
import pickle
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from data_loaders._idx import IDX_NAMES
from data_loaders.cifar10 import CIFAR10_CLASS_NAMES, FOLDER, META, TEST_BATCH, TRAIN_BATCHES


class CodePayload:
    """A pickled instance writes ``marker`` when unpickled: proof that code in a data file
    ran. Every loader must refuse it, and the marker must never appear."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def write_h5_split(path: Path, prefix: str, images, labels, classes=(b"0", b"1"), **overrides):
    """One HDF5 file in the original layout of happy faces and hand signs: ``{prefix}_x``
    (uint8 images), ``{prefix}_y`` (labels) and ``list_classes``; ``overrides`` replaces a
    dataset (None leaves it out). Returns ``path``."""
    import h5py

    with h5py.File(path, "w") as handle:
        datasets = {f"{prefix}_x": images, f"{prefix}_y": labels, "list_classes": np.array(classes)}
        datasets.update(overrides)
        for key, value in datasets.items():
            if value is not None:
                handle.create_dataset(key, data=value)
    return path


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the IDX format: two zero bytes, the type 0x08, the number of
    dimensions, each dimension as a big-endian int32, then the values."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def small_idx_arrays(seed: int) -> dict[str, np.ndarray]:
    """A small MNIST-shaped set: 20 training and 10 test images with labels."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_train": np.arange(20, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "y_test": np.arange(10, dtype=np.uint8),
    }


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], *, gzip_all=False) -> Path:
    """The four IDX files in ``folder``: the training ones gzipped, the test ones not
    (all gzipped with ``gzip_all``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_NAMES.items():
        data = idx_bytes(arrays[key])
        if key.endswith("train") or gzip_all:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def same_arrays(splits, arrays: dict[str, np.ndarray]) -> bool:
    """Whether loaded ``splits`` hold ``arrays`` exactly, with int64 labels."""
    (x_train, y_train), (x_test, y_test) = splits
    return (
        np.array_equal(x_train, arrays["x_train"])
        and np.array_equal(x_test, arrays["x_test"])
        and y_train.dtype == y_test.dtype == np.int64
        and np.array_equal(y_train, arrays["y_train"])
        and np.array_equal(y_test, arrays["y_test"])
    )


def python2_pickle(value: object) -> bytes:
    """``value`` pickled as CIFAR-10's batches are: protocol 2, NumPy arrays named by
    NumPy 1's module ``numpy.core.multiarray``."""
    data = pickle.dumps(value, protocol=2)
    return data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def small_cifar_batches(per_batch: int = 10, seed: int = 0) -> dict[str, tuple]:
    """Six batches (five training, one test) of ``per_batch`` images each, every class
    equally often: name -> (uint8 images (N, 32, 32, 3), int64 labels (N,))."""
    rng = np.random.default_rng(seed)
    return {
        name: (
            rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8),
            np.arange(per_batch, dtype=np.int64) % 10,
        )
        for name in (*TRAIN_BATCHES, TEST_BATCH)
    }


def cifar_files(batches: dict[str, tuple], class_names=CIFAR10_CLASS_NAMES) -> dict[str, bytes]:
    """The files of ``cifar-10-batches-py``: ``batches.meta`` and one pickle per batch,
    each a dict with bytes keys, ``data`` (N, 3072) channels first and ``labels`` a list."""
    files = {META: python2_pickle({b"label_names": [n.encode() for n in class_names]})}
    for name, (images, labels) in batches.items():
        data = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)
        files[name] = python2_pickle(
            {b"batch_label": name.encode(), b"data": data, b"labels": [int(y) for y in labels]}
        )
    return files


def write_cifar_archive(path: Path, files: dict[str, bytes]) -> Path:
    """``files`` under ``cifar-10-batches-py/`` in a .tar.gz at ``path``."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_cifar_folder(folder: Path, files: dict[str, bytes]) -> Path:
    """``files`` in ``folder``, as the archive unpacks."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@contextmanager
def serve_files(files: dict[str, bytes]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving ``files`` (path -> bytes, 404 otherwise); yields
    its base URL (ending in /). ``files`` may change while it serves."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's API
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
