"""File handling shared by every loader: checksums, the cached arrays, downloads and safe
readers for the original public file formats (the cache folder and atomic writes are in
:mod:`data_loaders.cache`).

Nothing here executes code from a data file: pickles go through an unpickler that only
rebuilds plain containers, numbers, strings and NumPy arrays, and ``.npz`` files are read
with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np

from course_utils.language import translate
from data_loaders.cache import atomic_write_bytes, cache_dir


class DataFileError(ValueError):
    """A data file is missing, truncated, unsafe or not in the expected layout."""


def sha256_bytes(data: bytes) -> str:
    """The hex sha256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The hex sha256 digest of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    # Uncompressed: rendered images carry sensor noise, so deflate saves only about 10 % of
    # the bytes but costs about 0.8 s to write and 0.1 s to read a 64x64 dataset.
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def cached_arrays(name: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load the arrays cached under ``name``, building and caching them when needed.

    The cache holds ``name.npz`` and ``name.npz.sha256``. A cached file whose checksum no
    longer matches (edited, truncated, half-copied) is rebuilt with a message on stderr.
    ``name`` should carry a version, so that a change of generator never reads old data.
    """
    folder = cache_dir()
    data_path = folder / f"{name}.npz"
    sum_path = folder / f"{name}.npz.sha256"
    if data_path.exists() and sum_path.exists():
        expected = sum_path.read_text().strip()
        data = data_path.read_bytes()
        if sha256_bytes(data) == expected:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        print(
            translate(
                "keras-course: cached file {path} does not match its checksum; rebuilding it.",
                path=data_path,
            ),
            file=sys.stderr,
        )
    arrays = build()
    data = _npz_bytes(arrays)
    atomic_write_bytes(data_path, data)
    atomic_write_bytes(sum_path, (sha256_bytes(data) + "\n").encode())
    return arrays


# --- safe pickle -------------------------------------------------------------------------

# The only globals a data pickle may name: what NumPy needs to rebuild an array (under the
# module names of NumPy 1 and NumPy 2), an ordered dict, and the string-to-bytes step that
# protocol-2 pickles use for raw bytes. Anything else is refused.
_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
}


def _numpy_global(kind: str, attr: str) -> object:
    if kind == "numpy":
        return getattr(np, attr)
    try:
        from numpy._core import multiarray, numeric  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1
        from numpy.core import multiarray, numeric
    return getattr({"multiarray": multiarray, "numeric": numeric}[kind], attr)


class _PlainDataUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str | Path) -> None:
        super().__init__(file, encoding="latin1")
        self._source = source

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _NUMPY_GLOBALS:
            return _numpy_global(*_NUMPY_GLOBALS[(module, name)])
        if (module, name) == ("collections", "OrderedDict"):
            from collections import OrderedDict

            return OrderedDict
        if (module, name) == ("_codecs", "encode"):  # bytes in protocol-2 pickles
            import codecs

            return codecs.encode
        raise DataFileError(
            translate(
                "{source}: refused to unpickle '{module}.{name}'. A data pickle may hold "
                "only dicts, lists, numbers, strings and NumPy arrays; this file carries code "
                "or objects, so it was not loaded.",
                source=self._source,
                module=module,
                name=name,
            )
        )

    def persistent_load(self, pid: object) -> object:
        raise DataFileError(
            translate(
                "{source}: refused a persistent reference in the pickle.", source=self._source
            )
        )


def read_data_pickle(path: str | os.PathLike) -> object:
    """Read a pickle that holds plain data only, without running code from it.

    Raises :class:`DataFileError` naming the file when it is missing, truncated, not a
    pickle, or refers to anything but dicts, lists, numbers, strings and NumPy arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(
            translate("{path}: no such file (expected a pickle of plain data).", path=path)
        )
    return unpickle_data(path.read_bytes(), str(path))


def unpickle_data(data: bytes, source: str) -> object:
    """The plain data in pickle ``data`` (read from ``source``, named in messages), with
    the same guarantees as :func:`read_data_pickle`. Strings of Python 2 pickles (such
    as CIFAR-10's) are decoded as Latin-1, which keeps their NumPy arrays' bytes."""
    try:
        return _PlainDataUnpickler(io.BytesIO(data), source).load()
    except DataFileError:
        raise
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, IndexError) as error:
        raise DataFileError(
            translate(
                "{source}: not a complete pickle ({size} bytes; {error_type}: {error}). The "
                "file may be truncated or of another format.",
                source=source,
                size=len(data),
                error_type=type(error).__name__,
                error=error,
            )
        ) from error
    except (AttributeError, KeyError, OverflowError, RecursionError, MemoryError) as error:
        raise DataFileError(
            translate(
                "{source}: not a pickle of plain data ({error_type}: {error}).",
                source=source,
                error_type=type(error).__name__,
                error=error,
            )
        ) from error


# --- downloads ---------------------------------------------------------------------------


def is_url(source: str | os.PathLike) -> bool:
    """Whether ``source`` is an http(s) URL rather than a local path."""
    return isinstance(source, str) and source.split("://", 1)[0].lower() in ("http", "https")


EMBEDDED_HINT = "without a file argument the loader uses its embedded dataset, which works offline."
"""What a rendered dataset's loader adds to a failed download's message (in English: see
:func:`embedded_hint`)."""


def embedded_hint() -> str:
    """:data:`EMBEDDED_HINT` in the learner's language."""
    return translate(EMBEDDED_HINT)


def fetch(url: str, *, sha256: str | None = None, timeout: float = 60.0, hint: str = "") -> Path:
    """Download ``url`` into the cache folder once and return the local path.

    The file lands in ``cache_dir()/downloads`` under a name derived from the URL, written
    atomically, with its sha256 beside it. Later calls return the cached copy when its
    checksum still matches (``sha256`` when given, else the one recorded at download) and
    download again, with a message, when it does not. A download whose checksum differs
    from ``sha256`` is discarded.

    Raises :class:`DataFileError` when the server cannot be reached or answers an error
    (the message ends with ``hint``), or when the checksum does not match.
    """
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(translate("sha256 must be 64 hex digits, found {sha256!r}", sha256=sha256))
    folder = cache_dir() / "downloads"
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    path = folder / f"{sha256_bytes(url.encode())[:12]}-{name}"
    sum_path = path.with_name(path.name + ".sha256")
    if path.exists():
        recorded = sum_path.read_text().strip() if sum_path.exists() else None
        expected = (sha256 or recorded or "").lower()
        if expected and sha256_file(path) == expected:
            return path
        print(
            translate(
                "keras-course: cached download {path} does not match its checksum; "
                "downloading it again.",
                path=path,
            ),
            file=sys.stderr,
        )
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except urllib.error.HTTPError as error:
        raise DataFileError(
            translate(
                "could not download {url}: the server answered {code} {reason}.",
                url=url,
                code=error.code,
                reason=error.reason,
            )
        ) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if hint:
            message = translate(
                "could not download {url}: {reason}. Check the address and your connection; {hint}",
                url=url,
                reason=reason,
                hint=hint,
            )
        else:
            message = translate(
                "could not download {url}: {reason}. Check the address and your connection.",
                url=url,
                reason=reason,
            )
        raise DataFileError(message) from error
    digest = sha256_bytes(data)
    if sha256 is not None and digest != sha256.lower():
        raise DataFileError(
            translate(
                "downloaded {url} but its sha256 is {digest}, expected {expected}: the file "
                "is damaged or not the one expected, so it was discarded.",
                url=url,
                digest=digest,
                expected=sha256.lower(),
            )
        )
    atomic_write_bytes(path, data)
    atomic_write_bytes(sum_path, (digest + "\n").encode())
    return path


def local_file(source: str | os.PathLike, *, sha256: str | None = None, hint: str = "") -> Path:
    """A local path for ``source``: downloaded and cached when it is a URL (see
    :func:`fetch` for ``sha256`` and ``hint``)."""
    if is_url(source):
        return fetch(str(source), sha256=sha256, hint=hint)
    return Path(source).expanduser()


# --- HDF5 --------------------------------------------------------------------------------


def read_h5_split(
    path: Path,
    *,
    x_key: str,
    y_key: str,
    image_shape: tuple[int, ...],
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read images, labels and ``list_classes`` from one HDF5 file of the original format.

    Returns uint8 images (N, *image_shape), int64 labels (N,) in 0..n_classes-1, and the
    class names stored in the file. Labels stored as (1, N) or (N, 1) are accepted.
    Raises :class:`DataFileError` naming the file and the expectation for a missing or
    truncated file, missing datasets, wrong shapes or dtypes, or labels out of range.
    """
    import h5py

    path = Path(path)
    wanted = translate("datasets '{x_key}', '{y_key}' and 'list_classes'", x_key=x_key, y_key=y_key)
    if not path.is_file():
        raise DataFileError(
            translate(
                "{path}: no such file (expected an HDF5 file with {wanted}).",
                path=path,
                wanted=wanted,
            )
        )
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataFileError(
            translate(
                "{path}: not a readable HDF5 file ({error}); it may be truncated or of another "
                "format. Expected {wanted}.",
                path=path,
                error=error,
                wanted=wanted,
            )
        ) from error
    with handle:
        missing = [k for k in (x_key, y_key, "list_classes") if k not in handle]
        if missing:
            raise DataFileError(
                translate(
                    "{path}: expected {wanted}, found {found} (missing {missing}).",
                    path=path,
                    wanted=wanted,
                    found=sorted(handle.keys()),
                    missing=missing,
                )
            )
        try:
            images = handle[x_key][()]
            labels = np.asarray(handle[y_key][()])
            classes = handle["list_classes"][()]
        except (OSError, KeyError, TypeError) as error:
            raise DataFileError(
                translate(
                    "{path}: could not read its datasets ({error}); the file may be truncated.",
                    path=path,
                    error=error,
                )
            ) from error
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise DataFileError(
            translate(
                "{path}: '{key}' must be uint8 images, found {found}.",
                path=path,
                key=x_key,
                found=getattr(images, "dtype", type(images).__name__),
            )
        )
    if images.ndim != 1 + len(image_shape) or images.shape[1:] != tuple(image_shape):
        raise DataFileError(
            translate(
                "{path}: '{key}' must have shape (N, {dims}), found {shape}.",
                path=path,
                key=x_key,
                dims=", ".join(map(str, image_shape)),
                shape=images.shape,
            )
        )
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.reshape(-1)
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise DataFileError(
            translate(
                "{path}: '{key}' must be {count} integer labels, found {dtype} array of "
                "shape {shape}.",
                path=path,
                key=y_key,
                count=len(images),
                dtype=labels.dtype,
                shape=labels.shape,
            )
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataFileError(
            translate(
                "{path}: '{key}' must lie in 0..{top}, found {low}..{high}.",
                path=path,
                key=y_key,
                top=n_classes - 1,
                low=labels.min(),
                high=labels.max(),
            )
        )
    names = [c.decode() if isinstance(c, bytes) else str(c) for c in np.ravel(classes)]
    if len(names) != n_classes:
        raise DataFileError(
            translate(
                "{path}: 'list_classes' must name {n_classes} classes for this dataset, found "
                "{count} ({names}): is it another dataset's file?",
                path=path,
                n_classes=n_classes,
                count=len(names),
                names=", ".join(names),
            )
        )
    return np.ascontiguousarray(images), labels.astype(np.int64), names
