"""Grade one submission from start to end: read, prepare, run sandboxed, grade the
artifacts in this (trusted) process, and build its result."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from graders.batch import execute, grade, prepare
from graders.batch.sandbox import (
    Limits,
    Outcome,
    kill_sandbox,
    run_sandboxed,
    sandbox_environment,
)
from graders.batch.warm_kernels import (
    Zygote,
    ZygoteUnavailable,
    forked_kernel_manager,
    kill_tree,
)
from graders.report import CheckResult, Report


@dataclass(frozen=True)
class Settings:
    """What every submission of a batch shares."""

    lesson: str  # "01"
    source: Path  # the released student notebook, trusted
    data_folder: Path  # the public dataset cache the kernels read
    cell_timeout: int
    limits: Limits
    zygote: Zygote | None = None  # forks warm kernels; None: every kernel starts cold


@dataclass
class Graded:
    """One graded submission: its result record, feedback reports and executed notebook."""

    result: dict
    reports: list[Report]
    executed: bytes | None


def _first_line(notebook, index: int) -> str:
    try:
        line = notebook.cells[index].source.strip().splitlines()[0]
    except (IndexError, AttributeError):
        return f"cell {index}"
    return f"the cell starting {line[:60]!r}"


def _setup_source(source: nbformat.NotebookNode) -> str:
    index = next(
        i
        for i, c in enumerate(source.cells)
        if c.cell_type == "markdown" and "## Setup" in c.source
    )
    return source.cells[index + 1].source


def _rerun(settings: Settings, setup: str):
    def rerun(function_source: str, name: str, check: str):
        folder = Path(tempfile.mkdtemp(prefix="keras-course-rerun-"))
        try:
            (folder / "setup.py").write_text(setup)
            (folder / "function.py").write_text(function_source)
            job = {"lesson": settings.lesson, "check": check, "function": name}
            (folder / "job.json").write_text(json.dumps(job))
            limits = Limits(
                seconds=max(60, settings.cell_timeout), memory_mb=settings.limits.memory_mb
            )
            outcome = run_sandboxed(
                "graders.batch.rerun", [str(folder)], folder, settings.data_folder, limits
            )
            if outcome.timed_out or not (folder / "outputs.json").exists():
                why = "ran too long" if outcome.timed_out else outcome.stderr.strip()[-300:]
                raise grade.Unavailable(f"re-running {name} failed: {why}")
            outputs = json.loads((folder / "outputs.json").read_text())
            with np.load(folder / "outputs.npz", allow_pickle=False) as arrays:
                outputs.update({key: arrays[key] for key in arrays.files})
            return grade.replay(outputs)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return rerun


def _execute_cold(folder: Path, settings: Settings) -> Outcome:
    """Run the prepared notebook in ``folder``: a sandboxed runner starts a fresh kernel."""
    return run_sandboxed(
        "graders.batch.execute",
        [str(folder), str(settings.cell_timeout)],
        folder,
        settings.data_folder,
        settings.limits,
    )


def _execute_warm(folder: Path, settings: Settings, zygote: Zygote) -> Outcome:
    """Run the prepared notebook in ``folder`` in a kernel forked from ``zygote``, driven
    from this thread. The kernel has the sandbox's environment, folder and limits; at the
    wall-clock limit it is killed, which ends the run as a dead kernel."""
    token = uuid.uuid4().hex
    env = sandbox_environment(folder, settings.data_folder, token)
    manager = forked_kernel_manager(zygote, folder, env)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        if manager.forked_pid:
            kill_tree(manager.forked_pid)

    timer = threading.Timer(settings.limits.seconds, stop)
    timer.start()
    stderr = ""
    try:
        execute.run(folder, settings.cell_timeout, kernel_manager=manager)
    except ZygoteUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - reported like a crashed runner
        stderr = f"{type(error).__name__}: {error}"
    finally:
        timer.cancel()
        if manager.forked_pid:
            kill_tree(manager.forked_pid)
        kill_sandbox(token)
    return Outcome(None if timed_out.is_set() else 0, timed_out.is_set(), stderr)


def grade_submission(student: str, path: Path, settings: Settings) -> Graded:
    """Grade the notebook at ``path`` for ``student``. Never raises for a submission: any
    error while grading it (a grader bug that it triggers included) becomes its result,
    status "crashed", so the rest of the batch goes on."""
    from graders.batch.results import result_record

    start = time.perf_counter()
    data = path.read_bytes() if path.is_file() else b""
    sha = hashlib.sha256(data).hexdigest()
    source = nbformat.read(settings.source, as_version=4)
    graded_cells = prepare.graded_cells(source)

    def record(status, reasons, reports):
        pairs = [(c.grade_id, c.points, r) for c, r in zip(graded_cells, reports, strict=True)]
        return result_record(
            student, path, sha, status, reasons, pairs, time.perf_counter() - start
        )

    try:
        return _grade(path, settings, source, graded_cells, record)
    except Exception as error:  # noqa: BLE001 - one submission never stops the batch
        why = f"the grader failed on this submission: {type(error).__name__}: {error}"[:500]
        reports = [
            Report(c.grade_id, [CheckResult.failed("graded cell", c.points, why)])
            for c in graded_cells
        ]
        return Graded(record("crashed", [why], reports), reports, None)


def _grade(path: Path, settings: Settings, source, graded_cells, record) -> Graded:
    """The body of :func:`grade_submission`; ``record(status, reasons, reports)`` makes
    the result."""
    try:
        submission = prepare.read_submission(path)
    except (prepare.InvalidSubmission, OSError) as error:
        reports = [
            Report(c.grade_id, [CheckResult.failed("graded cell", c.points, str(error))])
            for c in graded_cells
        ]
        return Graded(record("invalid", [str(error)], reports), reports, None)

    prepared = prepare.prepare(source, submission)
    folder = Path(tempfile.mkdtemp(prefix="keras-course-grade-"))
    try:
        nbformat.write(prepared.notebook, folder / "prepared.ipynb")
        outcome = None
        if settings.zygote is not None:
            try:
                outcome = _execute_warm(folder, settings, settings.zygote)
            except ZygoteUnavailable:
                outcome = None  # the zygote is gone: this and later runs start cold
        if outcome is None:
            for leftover in ("run.json", "executed.ipynb"):
                (folder / leftover).unlink(missing_ok=True)
            outcome = _execute_cold(folder, settings)
        run_path = folder / "run.json"
        run = json.loads(run_path.read_text()) if run_path.exists() else None
        reasons = list(prepared.notes)
        executed_path = folder / "executed.ipynb"
        executed = executed_path.read_bytes() if executed_path.exists() else None
        notebook = nbformat.reads(executed, as_version=4) if executed else prepared.notebook
        if outcome.timed_out:
            status = "timed out"
            why = f"the notebook ran longer than {settings.limits.seconds:g} s and was stopped"
        elif run is None:
            status = "crashed"
            why = (
                "the runner stopped before finishing (memory limit of "
                f"{settings.limits.memory_mb} MiB or a crash): {outcome.stderr.strip()[-300:]}"
            )
        elif run["kernel_died"]:
            status = "kernel died"
            why = (
                "the kernel died (a crash, os._exit(), or more memory than the "
                f"{settings.limits.memory_mb} MiB limit)"
            )
        else:
            status, why = "graded", "the graded cell did not run"
        if status != "graded":
            reasons.append(why)
        for error in (run or {}).get("errors", []):
            cell = _first_line(notebook, error["cell"])
            if error["ename"] in ("KeyboardInterrupt", "CellTimeout"):  # the grader's interrupt
                reasons.append(
                    f"{cell} ran longer than {settings.cell_timeout} s and was interrupted"
                )
            else:
                reasons.append(f"{cell} raised {error['ename']}: {error['evalue']}")
        for index in (run or {}).get("truncated", []):
            reasons.append(f"the output of {_first_line(notebook, index)} was cut (too long)")
        reports = grade.grade_run(
            settings.lesson,
            folder,
            graded_cells,
            prepared.deleted,
            why,
            _rerun(settings, _setup_source(source)),
        )
        return Graded(record(status, reasons, reports), reports, executed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
