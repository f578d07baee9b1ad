"""The IDX format of MNIST and Fashion-MNIST: four files, read without unpickling anything.

An IDX file is a big-endian header (two zero bytes, a type byte, the number of
dimensions, then each dimension's length) followed by the values. Both datasets ship
the same four files, ``train-images-idx3-ubyte`` and so on, often gzipped.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from course_utils.language import translate
from data_loaders._files import DataFileError, sha256_bytes

Split = tuple[np.ndarray, np.ndarray]

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
"""The four files, by the array each holds."""
SIZES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
"""The shapes of the four files' arrays, in both datasets."""

_IDX_MAGIC_UINT8 = 0x08
MAX_IDX_BYTES = 64 * 2**20
"""The most bytes an IDX file may hold, uncompressed (the largest original, 60,000
training images, has 47,040,016): a gzipped file that inflates beyond is refused."""


def idx_bytes(path: Path) -> bytes:
    """The uncompressed bytes of IDX file ``path`` (gzipped when its name ends in .gz),
    at most :data:`MAX_IDX_BYTES` of them."""
    try:
        if not path.name.endswith(".gz"):
            return path.read_bytes()
        with gzip.open(path, "rb") as handle:
            data = handle.read(MAX_IDX_BYTES + 1)
        if len(data) > MAX_IDX_BYTES:
            raise DataFileError(
                translate(
                    "{path} inflates to more than {limit:,} bytes, more than any IDX file of "
                    "these datasets",
                    path=path,
                    limit=MAX_IDX_BYTES,
                )
            )
        return data
    except FileNotFoundError as error:
        raise DataFileError(translate("{path} does not exist", path=path)) from error
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        if path.name.endswith(".gz"):
            message = translate(
                "{path} is not a readable gzip file: {error}", path=path, error=error
            )
        else:
            message = translate("{path} is not a readable file: {error}", path=path, error=error)
        raise DataFileError(message) from error


def has_sha256(path: Path, sha256: str) -> bool:
    """Whether IDX file ``path`` is there and readable and, uncompressed, has checksum
    ``sha256``."""
    try:
        return sha256_bytes(idx_bytes(path)) == sha256
    except DataFileError:
        return False


_ALREADY_READ: dict[str, tuple[tuple, np.ndarray]] = {}
"""The last array this process read and checked from each file (by its resolved path),
with what identified the file then: device, inode, size, modification and change times
(the change time no one can set back) and the expected checksum. A file is inflated and
verified once per process, and read again when any of these changes."""


def read_idx(
    path: str | os.PathLike, *, expected_sha256: str | None = None, dataset: str = "MNIST"
) -> np.ndarray:
    """The array in IDX file ``path``, gzipped or not; checked against
    ``expected_sha256`` (of the uncompressed bytes) when given, ``dataset`` naming the
    original in the message.

    Returns a uint8 array of the shape the header gives. Raises :class:`DataFileError`
    for a file that is missing, not IDX, of another type than uint8, truncated, too long,
    or not the expected file.
    """
    path = Path(path)
    try:
        info = path.stat()
        name = str(path.resolve())
    except OSError:
        name = None  # idx_bytes says what is wrong
    else:
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        identity += (expected_sha256,)
        if _ALREADY_READ.get(name, (None,))[0] == identity:
            return _ALREADY_READ[name][1].copy()
    data = idx_bytes(path)
    if expected_sha256 is not None and sha256_bytes(data) != expected_sha256:
        raise DataFileError(
            translate(
                "{path} is not the original {dataset} file {name}: its sha256 is {found}, "
                "expected {expected} (pass verify=False to read a file of your own in the "
                "same format)",
                path=path,
                dataset=dataset,
                name=path.name.removesuffix(".gz"),
                found=sha256_bytes(data),
                expected=expected_sha256,
            )
        )
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataFileError(
            translate("{path} is not an IDX file: it does not start with two zero bytes", path=path)
        )
    if data[2] != _IDX_MAGIC_UINT8:
        raise DataFileError(
            translate(
                "{path} holds IDX type 0x{type:02x}, expected 0x08 (uint8)", path=path, type=data[2]
            )
        )
    ndim = data[3]
    if not 1 <= ndim <= 3:
        raise DataFileError(
            translate(
                "{path} has {ndim} dimensions, expected 1 (labels) or 3 (images)",
                path=path,
                ndim=ndim,
            )
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(translate("{path} is truncated: its header is incomplete", path=path))
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape)
    if len(data) - header < expected:
        raise DataFileError(
            translate(
                "{path} is truncated: its header says {shape} = {expected:,} values, found "
                "{found:,}",
                path=path,
                shape=shape,
                expected=expected,
                found=len(data) - header,
            )
        )
    if len(data) - header > expected:
        raise DataFileError(
            translate(
                "{path} is too long: its header says {shape} = {expected:,} values, found "
                "{found:,}",
                path=path,
                shape=shape,
                expected=expected,
                found=len(data) - header,
            )
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)  # read-only
    if name is not None:
        _ALREADY_READ[name] = identity, array
    return array.copy()


def idx_file(folder: Path, name: str) -> Path:
    """``name`` or ``name.gz`` in ``folder``, whichever is there."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataFileError(
        translate("{folder} has neither {name} nor {name}.gz", folder=folder, name=name)
    )


def has_idx_files(folder: Path) -> bool:
    """Whether ``folder`` holds all four files (gzipped or not)."""
    return all(
        (folder / name).is_file() or (folder / f"{name}.gz").is_file()
        for name in IDX_NAMES.values()
    )


def read_idx_folder(
    folder: Path, expected: dict[str, str] | None, *, dataset: str
) -> dict[str, np.ndarray]:
    """The four arrays of the IDX files in ``folder``, each checked against
    ``expected[file name]`` (uncompressed sha256) unless ``expected`` is None."""
    return {
        key: read_idx(
            idx_file(folder, name),
            expected_sha256=None if expected is None else expected[name],
            dataset=dataset,
        )
        for key, name in IDX_NAMES.items()
    }


def checked_splits(
    arrays: dict[str, np.ndarray], source: Path, *, n_classes: int, full_size: bool
) -> tuple[Split, Split]:
    """``(x_train, y_train), (x_test, y_test)`` from the four arrays, after checking
    that images are uint8 (N, 28, 28) with one label in 0..n_classes-1 each, and, when
    ``full_size``, that the splits have the originals' sizes (:data:`SIZES`). Labels
    become int64."""
    for key in ("x_train", "x_test"):
        shape = arrays[key].shape
        if arrays[key].ndim != 3 or shape[1:] != (28, 28) or arrays[key].dtype != np.uint8:
            raise DataFileError(
                translate(
                    "{source}: {key} should be uint8 images of shape (N, 28, 28), found "
                    "{dtype} {shape}",
                    source=source,
                    key=key,
                    dtype=arrays[key].dtype,
                    shape=shape,
                )
            )
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        labels = arrays[y_key]
        if labels.shape != (len(arrays[x_key]),) or (labels.size and labels.max() >= n_classes):
            raise DataFileError(
                translate(
                    "{source}: {key} should be {count} labels 0..{top}, found shape {shape}",
                    source=source,
                    key=y_key,
                    count=len(arrays[x_key]),
                    top=n_classes - 1,
                    shape=labels.shape,
                )
            )
    if full_size:
        for key, shape in SIZES.items():
            if arrays[key].shape != shape:
                raise DataFileError(
                    translate(
                        "{source}: {key} has shape {found}, expected {shape}",
                        source=source,
                        key=key,
                        found=arrays[key].shape,
                        shape=shape,
                    )
                )
    return (
        (arrays["x_train"], arrays["y_train"].astype(np.int64)),
        (arrays["x_test"], arrays["y_test"].astype(np.int64)),
    )
