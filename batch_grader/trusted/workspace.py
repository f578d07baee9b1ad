"""The batch's private folder and the data in it: a copy of the public dataset for the
kernels, the grader's held-out split for the checks, rendered from the instructor's secret,
and the sweep of the folders that a killed grader left behind."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import psutil

from batch_grader.trusted.runner import lesson_dataset, lesson_datasets
from data_loaders import cache_files
from data_loaders.cache import CACHE_ENV_VAR, installed_folder
from graders.heldout import render_grader_heldout


def public_data_folder(lesson: str, folder: Path) -> Path:
    """``folder``, made to hold a copy of the dataset caches of the lesson's datasets
    (:func:`batch_grader.trusted.runner.lesson_datasets`), for the kernels to read (empty for a
    lesson without one). The grader's own copy stays in its cache, unnamed to them. Raises
    ``DataFileError`` for a real dataset (MNIST) that is not installed in the cache, saying
    how to install it."""
    import data_loaders

    folder.mkdir()
    for dataset in lesson_datasets(lesson):
        loader, _ = data_loaders.LOADERS[dataset]
        loader()  # make sure the grader's cache holds it
        files = cache_files(dataset)
        if not files:
            raise data_loaders.DataFileError(
                f"the kernels read {dataset} from the course's data cache, "
                f"{installed_folder(dataset)}, which is empty: install it with "
                "`python -m data_loaders install` (`./course lab` and `./course test` do)"
            )
        for path in files:
            copy = folder / path.relative_to(data_loaders.cache_dir())
            copy.parent.mkdir(exist_ok=True)
            shutil.copy2(path, copy)
    return folder


def grader_data_folder(lesson: str, public: Path, folder: Path, seed: int | None) -> Path:
    """``folder``, made to hold the public dataset copy and the grader's held-out split
    rendered from ``seed`` (none for a lesson without a dataset or with a real one), for
    the checks' sandboxes (never the kernels') to read."""
    shutil.copytree(public, folder)
    if seed is None:
        return folder
    previous = os.environ.get(CACHE_ENV_VAR)
    os.environ[CACHE_ENV_VAR] = str(folder)  # before any worker thread starts
    try:
        render_grader_heldout(lesson_dataset(lesson), seed)
    finally:
        if previous is None:
            del os.environ[CACHE_ENV_VAR]
        else:
            os.environ[CACHE_ENV_VAR] = previous
    return folder


def default_secret_file() -> Path:
    """Where the instructor's secret is kept unless ``--heldout-secret`` says otherwise:
    ``$XDG_CONFIG_HOME/keras-course/heldout-secret`` (``~/.config/...``), never in a
    results folder (those get shared)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "keras-course" / "heldout-secret"


def heldout_secret(given: Path | None) -> bytes:
    """The instructor's secret that the held-out split is rendered from: the file
    ``given``, else :func:`default_secret_file`, made with 32 random bytes on the first
    batch (readable by its owner only, and kept, so that a rerun grades on the same
    images)."""
    path = given or default_secret_file()
    if given is None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    secret = path.read_bytes().strip()
    if len(secret) < 16:
        raise ValueError(f"the held-out secret in {path} is too short: use 16 bytes or more")
    return secret


BATCH_PREFIX = "keras-course-batch-"


def sweep_stale_batches(root: Path | None = None) -> list[Path]:
    """Remove the private folders of batches whose grader is gone (killed before it could
    clean up); returns them. A folder is named ``keras-course-batch-<pid>-...``."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    for folder in root.glob(f"{BATCH_PREFIX}*"):
        match = re.match(rf"{BATCH_PREFIX}(\d+)-", folder.name)
        if match and not psutil.pid_exists(int(match[1])) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
