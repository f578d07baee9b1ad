"""What one run of the batch grader is asked to do, as typed values checked when they are
made: the :class:`Batch` (a lesson, its trusted source notebook, the submissions, the
timeouts), how every machine that grades sets it up (:class:`MachineOptions`), where it is
graded (:class:`ClusterOptions`, or here), all in one :class:`GradeRequest`.

The command line (:mod:`batch_grader.cli`) only turns its arguments into a request; a
program makes one directly and hands it to :func:`batch_grader.grading.grade`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from batch_grader.trusted.isolation import REPO_ROOT
from batch_grader.trusted.prepare import graded_cells
from course_utils.language import SOURCE, TRANSLATED

LANGUAGES = (SOURCE, *TRANSLATED)
"""The languages the checks' feedback can be written in (``--lang``)."""

LESSONS = sorted(
    match[1]
    for path in (REPO_ROOT / "graders").glob("lesson*.py")
    if (match := re.fullmatch(r"lesson(\d\d)\.py", path.name))
)
"""The graded lessons: those with a checks module ``graders.lessonNN``."""

# Seconds one cell and one whole submission may run: (cell, submission), unless
# --cell-timeout / --timeout say otherwise. Lesson 07 trains ResNet50 for 6 epochs, 4-10
# minutes on 2 cores alone and about twice that while another submission shares them.
TIMEOUTS = {"07": (2400, 3600)}
DEFAULT_TIMEOUTS = (600, 1800)

GPU_LESSONS = ("07",)
"""Lessons whose sandboxes get the machine's GPU device nodes, when it has any, unless
``--gpu-lessons`` says otherwise (on a cluster: whose submissions go to GPU workers)."""
DEFAULT_LOCAL_WORKERS = 2  # the workers of --cluster local
GPU_WAIT_SECONDS = 30.0
"""How long, by default, a cluster batch's GPU submissions may wait while no worker of the
cluster has a GPU (they all left mid-batch), before the batch stops (``--gpu-wait``)."""
ISOLATIONS = ("auto", "bubblewrap", "none")
"""What a request may ask for: bubblewrap when it works here, bubblewrap or nothing."""


def lesson_timeouts(
    lesson: str, cell_timeout: int | None, timeout: float | None
) -> tuple[int, float]:
    """The per-cell and per-submission timeouts in seconds: those given, else the lesson's."""
    cell_default, submission_default = TIMEOUTS.get(lesson, DEFAULT_TIMEOUTS)
    return (
        cell_default if cell_timeout is None else cell_timeout,
        submission_default if timeout is None else timeout,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def student_name(parts: tuple[str, ...]) -> str:
    """A student's name from the parts of a notebook's path (folders, then the file name
    without ``.ipynb``): joined by ``__``, every character outside letters, digits, ``.``,
    ``_`` and ``-`` replaced by ``_``, no leading dot, so that it names one folder under
    the results and nothing else (``..`` becomes ``unnamed``)."""
    name = _UNSAFE.sub("_", "__".join(parts)).lstrip(".")
    return name or "unnamed"


def find_submissions(paths: list[Path]) -> dict[str, Path]:
    """Student name -> notebook file (see :func:`student_name`). Two notebooks whose names
    become the same get the second one's name suffixed with a hash of its path, so none is
    lost. Raises ValueError for a missing path, or for the same notebook name given twice."""
    found: dict[str, Path] = {}
    raw: dict[tuple[str, ...], Path] = {}
    for path in paths:
        if path.is_dir():
            notebooks = [
                p
                for p in sorted(path.rglob("*.ipynb"))
                if ".ipynb_checkpoints" not in p.parts and p.is_file()
            ]
            pairs = [(p.relative_to(path).with_suffix("").parts, p) for p in notebooks]
        elif path.is_file():
            pairs = [((path.stem,), path)]
        else:
            raise ValueError(f"no such submission file or folder: {path}")
        for parts, notebook in pairs:
            if parts in raw:
                raise ValueError(
                    f"two submissions named {'/'.join(parts)!r}: {raw[parts]} and {notebook}"
                )
            raw[parts] = notebook
            student = student_name(parts)
            if student in found:
                digest = hashlib.sha256(str(notebook).encode()).hexdigest()[:8]
                student = f"{student}-{digest}"
            found[student] = notebook
    return found


def source_notebook(lesson: str) -> Path:
    """The lesson's released student notebook, the trusted source of its graded cells."""
    matches = sorted((REPO_ROOT / "lessons").glob(f"{lesson}_*.ipynb"))
    if not matches:
        raise ValueError(f"no lesson {lesson}: expected lessons/{lesson}_*.ipynb")
    return matches[0]


def lesson_number(text: str) -> str:
    """A graded lesson's two digits from ``"1"``, ``"01"``; ValueError for anything else."""
    lesson = f"{int(text):02d}" if text.strip().isdigit() else text
    if lesson not in LESSONS:
        raise ValueError(f"no graded lesson {text!r}; lessons: {', '.join(LESSONS)}")
    return lesson


@dataclass(frozen=True)
class Batch:
    """What one run grades: the lesson (two digits), its trusted source notebook and the
    grade ids of its graded cells (``columns``, the gradebook's), the submissions by
    student, and the timeouts in seconds (a cell, a whole submission)."""

    lesson: str
    source: Path
    columns: list[str]
    submissions: dict[str, Path]
    cell_timeout: int
    timeout: float

    @classmethod
    def of(
        cls,
        lesson: str,
        submissions: list[Path],
        cell_timeout: int | None = None,
        timeout: float | None = None,
    ) -> Batch:
        """The batch of ``lesson`` (``"1"`` or ``"01"``) over the notebooks found in
        ``submissions`` (files and folders, see :func:`find_submissions`), with the
        lesson's timeouts unless given. Raises ValueError saying what is wrong."""
        lesson = lesson_number(lesson)
        source = source_notebook(lesson)
        found = find_submissions(submissions)
        cell_timeout, timeout = lesson_timeouts(lesson, cell_timeout, timeout)
        if cell_timeout < 1 or not timeout > 0:
            raise ValueError(
                f"timeouts must be positive, found --cell-timeout {cell_timeout} and "
                f"--timeout {timeout}"
            )
        columns = [c.grade_id for c in graded_cells(nbformat.read(source, as_version=4))]
        return cls(lesson, source, columns, found, cell_timeout, timeout)


def _at_least_one(**values: int) -> None:
    for option, value in values.items():
        if value < 1:
            raise ValueError(f"--{option.replace('_', '-')} must be at least 1, found {value}")


@dataclass(frozen=True)
class MachineOptions:
    """How every machine that grades sets the batch up: memory and disk (its writable
    folder) of one sandbox in MiB, whether kernels start cold instead of forked warm, and
    the lessons whose sandboxes get the machine's GPU."""

    memory_mb: int = 6144
    disk_mb: int = 2048
    cold_kernels: bool = False
    gpu_lessons: tuple[str, ...] = GPU_LESSONS

    def __post_init__(self) -> None:
        _at_least_one(memory_mb=self.memory_mb, disk_mb=self.disk_mb)


TLS_FILES = {
    "ca-file": "the certificate of the authority that signed the cluster's certificates (PEM)",
    "cert": "this client's certificate (PEM)",
    "key": "this client's private key (PEM), readable by its owner only",
}
"""The TLS options of --scheduler, as Dask's own command lines name them."""


@dataclass(frozen=True)
class TlsFiles:
    """A Dask client's TLS files (PEM): the authority's certificate, the client's
    certificate and its private key."""

    ca_file: Path
    cert: Path
    key: Path


def check_tls_options(scheduler: str | None, files: dict[str, Path | None]) -> None:
    """Refuse a scheduler that is not reached over TLS with the three files, and files
    that are missing, or a key that other users can read. Raises ValueError saying why."""
    given = [f"--tls-{option}" for option, path in files.items() if path is not None]
    if scheduler is None:
        if given:
            raise ValueError(f"{' and '.join(given)} go with --scheduler tls://HOST:PORT")
        return
    if not scheduler.startswith("tls://"):
        raise ValueError(
            f"--scheduler {scheduler}: expected a tls:// address. Whoever reaches a scheduler "
            "over plain TCP can run code on its workers, as the user that runs them (root, "
            "for the sandboxes): start the scheduler and workers with TLS (the README, 'On a "
            "cluster', says how) and pass tls://HOST:PORT with --tls-ca-file, --tls-cert "
            "and --tls-key"
        )
    missing = [f"--tls-{option}" for option, path in files.items() if path is None]
    if missing:
        raise ValueError(f"--scheduler {scheduler} needs {' and '.join(missing)} too")
    for option, path in files.items():
        if not path.is_file():
            raise ValueError(f"--tls-{option} {path}: no such file")
    mode = files["key"].stat().st_mode & 0o777
    if mode & 0o077:
        raise ValueError(
            f"--tls-key {files['key']}: other users can read it (mode {mode:04o}), and with it "
            f"run code on the cluster: chmod 600 {files['key']}"
        )


def check_gpu_wait(seconds: float) -> None:
    """Refuse a negative (or nan) ``--gpu-wait``: ValueError saying so."""
    if not seconds >= 0:
        raise ValueError(f"--gpu-wait must be 0 or more seconds, found {seconds:g}")


@dataclass(frozen=True)
class ClusterOptions:
    """Grading on a Dask cluster: the scheduler's ``tls://HOST:PORT`` with this client's
    ``tls`` files, or (``scheduler`` None) a cluster of ``local_workers`` one-thread
    workers started here on 127.0.0.1; ``gpu_wait``: how many seconds a GPU lesson's
    submissions wait while the cluster has no GPU worker, before the batch stops."""

    scheduler: str | None = None
    tls: TlsFiles | None = None
    local_workers: int = DEFAULT_LOCAL_WORKERS
    gpu_wait: float = GPU_WAIT_SECONDS

    def __post_init__(self) -> None:
        check_tls_options(
            self.scheduler,
            {
                option: None if self.tls is None else getattr(self.tls, option.replace("-", "_"))
                for option in TLS_FILES
            },
        )
        _at_least_one(local_workers=self.local_workers)
        check_gpu_wait(self.gpu_wait)

    @property
    def where(self) -> str:
        """Where the batch is graded, as the grader says it."""
        if self.scheduler:
            return f"on the Dask cluster at {self.scheduler}"
        return f"on a local Dask cluster of {self.local_workers} worker(s)"


@dataclass(frozen=True)
class GradeRequest:
    """One run of the batch grader: grade ``batch`` into the results folder ``out``, on
    ``jobs`` threads here or on ``cluster``, with the ``isolation`` asked for (one of
    :data:`ISOLATIONS`), the held-out split rendered from the secret in
    ``heldout_secret`` (None: the instructor's default file), grading again what is
    graded when ``regrade``, the checks' feedback in ``language`` (English or one of
    :data:`course_utils.language.TRANSLATED`)."""

    batch: Batch
    out: Path
    jobs: int = 1
    isolation: str = "auto"
    heldout_secret: Path | None = None
    regrade: bool = False
    language: str = SOURCE
    machine: MachineOptions = field(default_factory=MachineOptions)
    cluster: ClusterOptions | None = None

    def __post_init__(self) -> None:
        _at_least_one(jobs=self.jobs)
        if self.language not in LANGUAGES:
            raise ValueError(
                f"--lang: expected one of {', '.join(LANGUAGES)}, found {self.language!r}"
            )
        if self.isolation not in ISOLATIONS:
            raise ValueError(
                f"--isolation: expected one of {', '.join(ISOLATIONS)}, found {self.isolation!r}"
            )
