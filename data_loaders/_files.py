"""File handling shared by every loader: the cache directory, atomic writes, checksums and
safe readers for the original public file formats.

Nothing here executes code from a data file: pickles go through an unpickler that only
rebuilds plain containers, numbers, strings and NumPy arrays, and ``.npz`` files are read
with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

CACHE_ENV_VAR = "KERAS_COURSE_DATA"


class DataFileError(ValueError):
    """A data file is missing, truncated, unsafe or not in the expected layout."""


def cache_dir() -> Path:
    """The folder where generated and downloaded datasets are kept.

    ``$KERAS_COURSE_DATA`` when set, else ``$XDG_CACHE_HOME/keras-course`` (by default
    ``~/.cache/keras-course``). Created on first use.
    """
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        path = Path(override).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "keras-course"
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the file is
    then renamed over ``path`` (an atomic step on POSIX and Windows).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
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
        import sys

        print(
            f"keras-course: cached file {data_path} does not match its checksum; rebuilding it.",
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
    def __init__(self, file: io.BufferedIOBase, source: Path) -> None:
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
            f"{self._source}: refused to unpickle '{module}.{name}'. A data pickle may hold "
            "only dicts, lists, numbers, strings and NumPy arrays; this file carries code or "
            "objects, so it was not loaded."
        )

    def persistent_load(self, pid: object) -> object:
        raise DataFileError(f"{self._source}: refused a persistent reference in the pickle.")


def read_data_pickle(path: str | os.PathLike) -> object:
    """Read a pickle that holds plain data only, without running code from it.

    Raises :class:`DataFileError` naming the file when it is missing, truncated, not a
    pickle, or refers to anything but dicts, lists, numbers, strings and NumPy arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file (expected a pickle of plain data).")
    data = path.read_bytes()
    try:
        result = _PlainDataUnpickler(io.BytesIO(data), path).load()
    except DataFileError:
        raise
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, IndexError) as error:
        raise DataFileError(
            f"{path}: not a complete pickle ({len(data)} bytes; {type(error).__name__}: "
            f"{error}). The file may be truncated or of another format."
        ) from error
    return result
