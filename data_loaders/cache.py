"""The dataset cache on disk, and the atomic writes that the loaders and the batch grader
rely on: a reader sees a whole old file or a whole new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV_VAR = "KERAS_COURSE_DATA"


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


def keras_datasets_dir() -> Path:
    """Keras's own dataset cache: ``$KERAS_HOME/datasets`` (``~/.keras/datasets`` by
    default), where ``keras.datasets.<name>.load_data()`` leaves what it downloads. Not
    created."""
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "datasets"


def installed_folder(dataset: str) -> Path:
    """Where the original files of real dataset ``dataset`` (e.g. ``"mnist"``) are
    installed: ``cache_dir()/<dataset>``. Not created."""
    return cache_dir() / dataset


_TEMPORARY_SUFFIX = ".tmp"  # atomic_write_bytes's temporaries: ".{name}.XXXXXXXX.tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the file is
    then renamed over ``path`` (an atomic step on POSIX and Windows).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMPORARY_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the temporaries that :func:`atomic_write_bytes` left under ``folder`` (at any
    depth) when its process was killed mid-write; returns how many. Only for a folder no
    other process is writing to now: a live writer's temporary would go too."""
    stale = list(Path(folder).rglob(f".*{_TEMPORARY_SUFFIX}"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)
