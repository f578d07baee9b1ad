"""Grade one submission from start to end: read, prepare, run it in a sandbox, re-run its
exported functions and run the checks on its artifacts in sandboxes of their own, and
build its result from what they hand back."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from batch_grader.sandboxed import evaluate, execute, rerun
from batch_grader.sandboxed.export import ARTIFACTS, EXPORT_HELPER
from batch_grader.sandboxed.forked_kernels import forked_kernel_manager, kill_tree
from batch_grader.sandboxed.grade import MAX_ARTIFACT_BYTES, functions_to_rerun
from batch_grader.trusted import prepare
from batch_grader.trusted.isolation import Isolation
from batch_grader.trusted.memory_groups import MemoryGroups
from batch_grader.trusted.results import (
    CELL_TIMED_OUT,
    CRASHED,
    GRADED,
    INVALID,
    KERNEL_DIED,
    TIMED_OUT,
    result_record,
)
from batch_grader.trusted.sandbox import (
    RUNNING,
    Limits,
    Outcome,
    Stopped,
    kill_sandbox,
    measure_peak_memory,
    new_batch_tag,
    new_token,
    peak_memory_mb,
    run_sandboxed,
    sandbox_environment,
)
from batch_grader.trusted.warm_kernels import Zygote, ZygoteUnavailable
from course_utils.language import LANGUAGE_ENV_VAR, SOURCE, translate_into
from graders.cell_errors import stopped_after
from graders.report import CheckResult, Report


@dataclass(frozen=True)
class Settings:
    """What every submission of a batch shares."""

    lesson: str  # "01"
    dataset: str | None  # what the lesson learns from (its checks' DATASET); None: nothing
    source: Path  # the released student notebook, trusted
    data_folder: Path  # the public dataset cache the kernels read
    grader_data: Path  # the checks' dataset cache: the public one and the held-out split
    heldout_seed: int | None  # renders the grader's held-out split; None: the public one
    cell_timeout: int
    limits: Limits  # for a submission's run
    check_limits: Limits  # for its checks, and for each re-run of an exported function
    isolation: Isolation
    work: Path  # the batch's private folder, where each submission gets a folder
    devices: tuple[Path, ...] = ()  # device nodes passed into the sandboxes (a GPU's)
    zygote: Zygote | None = None  # forks warm kernels and jobs; None: all start cold
    memory_groups: MemoryGroups | None = None  # one memory limit per whole sandbox
    tag: str = field(default_factory=new_batch_tag)  # the batch's sandbox tokens start so
    language: str = SOURCE  # of the checks' feedback (course_utils.language)


@dataclass
class Graded:
    """One graded submission: its result record, feedback reports and executed notebook."""

    result: dict
    reports: list[Report]
    executed: bytes | None


EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)(: .*)?")
"""The last line of a Python traceback: the exception's type and message."""


def stopped_because(stderr: str, memory_mb: int, fallback: str = "") -> str:
    """Why a sandboxed process stopped before writing what it owed, from its standard
    error's tail: the exception it raised, when that ends with a Python traceback
    ("it raised FileNotFoundError: ..."), else its memory limit of ``memory_mb`` MiB or a
    crash, with the tail (or ``fallback`` where there is none)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if "Traceback (most recent call last):" in stderr and EXCEPTION_LINE.fullmatch(lines[-1]):
        return f"it raised {lines[-1][:300]}"
    detail = stderr.strip()[-300:] or fallback
    limit = f"memory limit of {memory_mb} MiB or a crash"
    return f"{limit}: {detail}" if detail else limit


def lesson_dataset(lesson: str) -> str | None:
    """The dataset lesson ``lesson`` ("01") learns from, as its checks module declares
    (None for a lesson whose exercises learn from none, such as lesson 00)."""
    return importlib.import_module(f"graders.lesson{lesson}").DATASET


def lesson_datasets(lesson: str) -> list[str]:
    """Every dataset lesson ``lesson``'s cells load: its checks' ``DATASET`` first, then
    those it only shows (its checks module's ``ALSO_SHOWN``, such as lesson 10's traffic
    signs). The kernels read each from the batch's copy of the data cache."""
    module = importlib.import_module(f"graders.lesson{lesson}")
    first = [module.DATASET] if module.DATASET is not None else []
    return first + list(getattr(module, "ALSO_SHOWN", ()))


def _source(notebook, index: int) -> str:
    """The source of cell ``index`` of ``notebook`` ("" when there is none)."""
    try:
        return str(notebook.cells[index].source)
    except (IndexError, AttributeError):
        return ""


def with_reports(
    notebook: nbformat.NotebookNode,
    source: nbformat.NotebookNode,
    graded_cells,
    reports: list[Report],
) -> bytes | None:
    """The executed ``notebook`` as the learner would see it after running it: each graded
    cell with its source from the lesson's ``source`` notebook and the check's report as its
    output (in place of the export), and without the export helper's cell. Returns the
    notebook's bytes, or None when the notebook the run wrote is not one that can be shown
    so."""
    try:
        return _with_reports(notebook, source, graded_cells, reports)
    except Exception:  # noqa: BLE001 - the run's notebook is the submission's, whatever it is
        return None


def _with_reports(notebook, source, graded_cells, reports: list[Report]) -> bytes:
    originals = {
        cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in source.cells
    }
    by_id = {cell.grade_id: report for cell, report in zip(graded_cells, reports, strict=True)}
    shown = []
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in by_id:
            report = by_id[grade_id]
            cell.source = originals[grade_id]
            data = report.mime_bundle()
            cell.outputs = [
                nbformat.v4.new_output(
                    "execute_result", data=data, execution_count=cell.get("execution_count")
                )
            ]
        if cell.get("source") != EXPORT_HELPER:
            shown.append(cell)
    notebook.cells = shown
    return nbformat.writes(notebook).encode()


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


def _run_file(name: PurePosixPath) -> int:
    """The most bytes a run may hand back as ``name``: its notebook, its record and
    ``artifacts/<id>/<file>``; 0 for anything else."""
    if len(name.parts) == 1 and name.name != ARTIFACTS:
        return execute.RETURNED.get(name.name, 0)
    return MAX_ARTIFACT_BYTES if len(name.parts) == 3 and name.parts[0] == ARTIFACTS else 0


def _job(settings: Settings, module, inputs: Path, outputs: Path, **options) -> Outcome:
    """Run job ``module`` (:mod:`batch_grader.sandboxed.execute`, ``rerun`` or ``evaluate``) on
    ``inputs`` in a sandbox of the batch (forked warm into it when the batch has a zygote);
    what it returns lands in ``outputs``. ``options``: :func:`run_sandboxed`'s."""
    defaults = {
        "env": {LANGUAGE_ENV_VAR: settings.language},
        "data_folder": settings.data_folder,
        "limits": settings.check_limits,
        "expected": lambda name: module.RETURNED.get(str(name), 0),
    }
    return run_sandboxed(
        module.__name__,
        options.pop("arguments", []),
        inputs=inputs,
        outputs=outputs,
        isolation_used=settings.isolation,
        returned=tuple(module.RETURNED),
        zygote=settings.zygote,
        memory_groups=settings.memory_groups,
        tag=settings.tag,
        **{**defaults, **options},
    )


def _execute_sandboxed(inputs: Path, outputs: Path, settings: Settings) -> Outcome:
    """Run the prepared notebook in ``inputs`` in a sandbox (with a kernel forked warm
    into it when the batch has a zygote and isolation); what it makes lands in
    ``outputs``."""
    return _job(
        settings,
        execute,
        inputs,
        outputs,
        arguments=[str(settings.cell_timeout)],
        limits=settings.limits,
        expected=_run_file,
        devices=settings.devices,
    )


def _execute_warm(folder: Path, settings: Settings, zygote: Zygote) -> Outcome:
    """Run ``folder/prepared.ipynb`` in a kernel forked from ``zygote``, driven from this
    thread (without isolation only). The kernel has the sandbox's environment, folder and
    limits; at the wall-clock limit it is killed, which ends the run as a dead kernel."""
    token = new_token(settings.tag)
    env = sandbox_environment(folder, settings.data_folder, token, settings.language)
    manager = forked_kernel_manager(zygote, folder, env)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        if manager.forked_pid:
            kill_tree(manager.forked_pid)

    timer = threading.Timer(settings.limits.seconds, stop)
    timer.start()
    RUNNING.on_stop(id(manager), stop)
    stderr = ""
    try:
        execute.run(folder / "prepared.ipynb", folder, settings.cell_timeout, manager)
    except ZygoteUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - reported like a crashed runner
        stderr = f"{type(error).__name__}: {error}"
    finally:
        timer.cancel()
        RUNNING.forget(id(manager))
        if manager.forked_pid:
            kill_tree(manager.forked_pid)
        kill_sandbox(token)
    RUNNING.check()
    return Outcome(None if timed_out.is_set() else 0, timed_out.is_set(), stderr)


def rerun_function(
    settings: Settings, setup: str, source: Path, defined: str, check: str, folder: Path
) -> Path:
    """Re-run the learner's function ``defined`` (its source file ``source``) for
    ``check`` in a sandbox of its own, with the lesson's ``setup`` cell; returns the folder
    of its outputs, ``folder/outputs`` (with a ``failure.txt`` when it failed)."""
    inputs, outputs = folder / "input", folder / "outputs"
    inputs.mkdir(parents=True)
    outputs.mkdir()
    (inputs / "setup.py").write_text(setup)
    shutil.copyfile(source, inputs / "function.py")
    job = {"lesson": settings.lesson, "check": check, "function": defined}
    (inputs / "job.json").write_text(json.dumps(job))
    outcome = _job(settings, rerun, inputs, outputs)
    if outcome.timed_out or not (outputs / "outputs.json").is_file():
        why = "ran too long" if outcome.timed_out else outcome.stderr.strip()[-300:]
        (outputs / "failure.txt").write_text(f"re-running {defined} failed: {why}")
    return outputs


def _rerun_functions(
    folder: Path, run: Path, graded_cells, deleted, settings: Settings, setup: str, reruns: Path
) -> None:
    """Re-run every exported function under ``run``; their outputs go to ``reruns``, as
    ``<grade_id>/<name>/`` (see :func:`batch_grader.sandboxed.grade.replays_from`)."""
    for index, (cell, name, path, defined) in enumerate(
        functions_to_rerun(run, graded_cells, deleted)
    ):
        outputs = rerun_function(
            settings, setup, path, defined, cell.check, folder / f"rerun-{index}"
        )
        (reruns / cell.grade_id).mkdir(parents=True, exist_ok=True)
        outputs.rename(reruns / cell.grade_id / name)


def _reports(path: Path, graded_cells) -> list[Report]:
    """The checks' reports in ``path``, one per graded cell with its points; raises
    ValueError saying what is wrong with them."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"no readable reports: {error}") from error
    if not isinstance(data, list) or len(data) != len(graded_cells):
        raise ValueError(f"expected {len(graded_cells)} reports, found {str(data)[:100]}")
    reports = [Report.from_dict(item) for item in data]
    for cell, report in zip(graded_cells, reports, strict=True):
        if report.max_points != cell.points:
            raise ValueError(
                f"the report of {cell.grade_id} is out of {report.max_points:g}, "
                f"not {cell.points:g}"
            )
    return reports


def _check(
    folder: Path, run: Path, settings: Settings, graded_cells, deleted, why, setup, timed_out
):
    """Run the lesson's checks on the artifacts under ``run``, in a sandbox of their own
    (:mod:`batch_grader.sandboxed.evaluate`); ``timed_out``: the sources of the cells stopped at the
    cell timeout. Returns the reports, and why the checks failed (or None)."""
    inputs = folder / "check-input"
    inputs.mkdir()
    _rerun_functions(folder, run, graded_cells, deleted, settings, setup, inputs / "reruns")
    if (run / ARTIFACTS).is_dir():  # the checks are their last reader
        (run / ARTIFACTS).rename(inputs / ARTIFACTS)
    job = {
        "lesson": settings.lesson,
        "dataset": settings.dataset,
        "graded": [asdict(cell) for cell in graded_cells],
        "deleted": deleted,
        "why_missing": why,
        "timed_out": sorted({hashlib.sha256(text.encode()).hexdigest() for text in timed_out}),
        "cell_timeout": settings.cell_timeout,
        "heldout_seed": settings.heldout_seed,
    }
    (inputs / "job.json").write_text(json.dumps(job))
    outputs = folder / "check"
    outputs.mkdir()
    outcome = _job(
        settings,
        evaluate,
        inputs,
        outputs,
        data_folder=settings.grader_data,
        devices=settings.devices,
    )
    try:
        if outcome.returncode != 0:  # what a crashed run left is not its reports
            raise ValueError(f"the checks' process ended with status {outcome.returncode}")
        return _reports(outputs / "reports.json", graded_cells), None
    except ValueError as error:
        if outcome.timed_out:
            problem = (
                "measuring the exported objects ran longer than "
                f"{settings.check_limits.seconds:g} s and was stopped"
            )
        else:
            why = stopped_because(outcome.stderr, settings.check_limits.memory_mb, str(error))
            problem = translate_into(
                settings.language,
                "the checks could not run on the exported objects ({why})",
                why=why,
            )
        reports = [
            Report(c.grade_id, [CheckResult.failed("graded cell", c.points, problem)])
            for c in graded_cells
        ]
        return reports, problem


def grade_submission(student: str, path: Path, settings: Settings) -> Graded:
    """Grade the notebook at ``path`` for ``student``. Never raises for a submission: any
    error while grading it (a grader bug that it triggers included) becomes its result,
    status "crashed", so the rest of the batch goes on."""
    start = time.perf_counter()
    measure_peak_memory()
    data = path.read_bytes() if path.is_file() else b""
    sha = hashlib.sha256(data).hexdigest()
    source = nbformat.read(settings.source, as_version=4)
    graded_cells = prepare.graded_cells(source)

    def record(status, reasons, reports):
        pairs = [(c.grade_id, c.points, r) for c, r in zip(graded_cells, reports, strict=True)]
        result = result_record(
            student,
            settings.lesson,
            path,
            sha,
            status,
            reasons,
            pairs,
            time.perf_counter() - start,
        )
        result.update(settings.isolation.record())
        result["language"] = settings.language  # of its feedback
        result["worker"] = socket.gethostname()  # a cluster's task names its Dask worker
        result["peak_memory_mb"] = peak_memory_mb()
        return result

    try:
        return _grade(path, settings, source, graded_cells, record)
    except Stopped:
        raise
    except Exception as error:  # noqa: BLE001 - one submission never stops the batch
        why = f"the grader failed on this submission: {type(error).__name__}: {error}"[:500]
        reports = [
            Report(c.grade_id, [CheckResult.failed("graded cell", c.points, why)])
            for c in graded_cells
        ]
        return Graded(record(CRASHED, [why], reports), reports, None)


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
        return Graded(record(INVALID, [str(error)], reports), reports, None)

    prepared = prepare.prepare(source, submission)
    folder = Path(tempfile.mkdtemp(prefix="submission-", dir=settings.work))
    try:
        inputs, run_folder = folder / "input", folder / "run"
        inputs.mkdir()
        run_folder.mkdir()
        nbformat.write(prepared.notebook, inputs / "prepared.ipynb")
        outcome = None
        if settings.zygote is not None and not settings.isolation.isolated:
            shutil.copyfile(inputs / "prepared.ipynb", run_folder / "prepared.ipynb")
            try:
                outcome = _execute_warm(run_folder, settings, settings.zygote)
            except ZygoteUnavailable:
                outcome = None  # the zygote is gone: this and later runs start cold
        if outcome is None:
            shutil.rmtree(run_folder)
            run_folder.mkdir()
            outcome = _execute_sandboxed(inputs, run_folder, settings)
        run = _run_record(run_folder / "run.json")
        reasons = list(prepared.notes)
        executed, notebook = _executed(run_folder / "executed.ipynb", prepared.notebook)
        if outcome.timed_out:
            status = TIMED_OUT
            why = f"the notebook ran longer than {settings.limits.seconds:g} s and was stopped"
        elif run is None:
            status = CRASHED
            because = stopped_because(outcome.stderr, settings.limits.memory_mb)
            why = f"the runner stopped before finishing ({because})"
        elif run["kernel_died"]:
            status = KERNEL_DIED
            why = (
                "the kernel died (a crash, os._exit(), or more memory than the "
                f"{settings.limits.memory_mb} MiB limit)"
            )
        elif run["timed_out"]:
            status, why = CELL_TIMED_OUT, "the graded cell did not run"
        else:
            status, why = GRADED, "the graded cell did not run"
        if status not in (GRADED, CELL_TIMED_OUT):
            reasons.append(why)
        timed_out = (run or {}).get("timed_out", [])
        for index in timed_out:
            cell = _first_line(notebook, index)
            reasons.append(f"{cell} {stopped_after(settings.cell_timeout)}")
        for error in (run or {}).get("errors", []):
            if error["cell"] not in timed_out:
                cell = _first_line(notebook, error["cell"])
                reasons.append(f"{cell} raised {error['ename']}: {error['evalue']}")
        for index in (run or {}).get("truncated", []):
            reasons.append(f"the output of {_first_line(notebook, index)} was cut (too long)")
        stopped = [_source(prepared.notebook, index) for index in timed_out]
        reports, problem = _check(
            folder,
            run_folder,
            settings,
            graded_cells,
            prepared.deleted,
            why,
            _setup_source(source),
            stopped,
        )
        if problem:
            reasons.append(problem)
            status = CRASHED if status in (GRADED, CELL_TIMED_OUT) else status
        if executed is not None:
            executed = with_reports(notebook, source, graded_cells, reports) or executed
        return Graded(record(status, reasons, reports), reports, executed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


MAX_REPORTED_ERRORS = 50  # cells that raised (or were cut) named in one result's reasons


def _run_record(path: Path) -> dict | None:
    """The run's record (see :mod:`batch_grader.sandboxed.execute`), or None when there is none or
    it is not one."""
    try:
        run = json.loads(path.read_text())
        errors = [
            {"cell": int(e["cell"]), "ename": str(e["ename"]), "evalue": str(e["evalue"])[:500]}
            for e in run["errors"]
        ]
        return {
            "kernel_died": bool(run["kernel_died"]),
            "errors": errors[:MAX_REPORTED_ERRORS],
            "truncated": [int(index) for index in run.get("truncated", [])][:MAX_REPORTED_ERRORS],
            "timed_out": [int(i) for i in run.get("timed_out", []) if int(i) >= 0][
                :MAX_REPORTED_ERRORS
            ],
        }
    except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError):
        return None


def _executed(path: Path, prepared: nbformat.NotebookNode):
    """The executed notebook's bytes and content; without a readable one, None and the
    prepared notebook."""
    try:
        executed = path.read_bytes()
        return executed, nbformat.reads(executed, as_version=4)
    except Exception:  # noqa: BLE001 - missing or not a notebook
        return None, prepared
