"""Grade a run's artifacts with the lesson's own checks.

For every graded cell of the source notebook, the objects its check takes are rebuilt from
what the submission exported: Keras models are loaded with ``safe_mode=True`` (no code in
a model file runs), histories and metric dicts come from JSON, and exported functions are
re-run first in a sandbox of their own (:mod:`batch_grader.sandboxed.rerun`) on the check's own
inputs, their outputs replayed to the check. All of this runs in the checks' sandbox
(:mod:`batch_grader.sandboxed.evaluate`), never in the process that writes results.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from batch_grader.sandboxed.export import (
    ARTIFACTS,
    CALLBACKS_LIMIT,
    COPY_LIMIT,
    FAILURES,
    MANIFEST,
    TEXT_LIMIT,
    GradedCell,
)
from course_utils.language import translate
from graders.cell_errors import (
    HINT_CHARS,
    MAX_EXPORTED_FAILURES,
    ReportedFailure,
    message_first_line,
    reported_failures,
)
from graders.report import STRICT_ENV_VAR, CheckResult, Report


def _placeholder(type_name: object) -> object:
    """An object whose type is named like the one the submission had, so that a check's
    "expected a keras.Model, found X" names the learner's type (letters, digits and
    underscores only, at most 100 of them)."""
    name = "".join(c for c in str(type_name)[:100] if c.isascii() and (c.isalnum() or c == "_"))
    return type(name or "object", (), {})()


class Unavailable(Exception):
    """An exported object could not be rebuilt; the message says why."""


ARTIFACT_FILES = {
    "model": ".keras",
    "history": ".json",
    "dict": ".json",
    "function": ".py",
    "callbacks": ".json",
}
"""The file each kind of exported object is written to: ``<name><suffix>``. A string
("text") is kept in the manifest itself."""
MAX_ARTIFACT_BYTES = COPY_LIMIT
MAX_PATH_PARTS = 8
MAX_PART_CHARS = 255


def _plain_file(folder: Path, file_name: str, name: str) -> Path:
    """``folder / file_name`` after checking that it is a regular file (not a link) of a
    sane size. Raises :class:`Unavailable` saying what is wrong."""
    path = folder / file_name
    if path.is_symlink() or not path.is_file():
        raise Unavailable(f"the export of {name} is malformed: {file_name} is not a plain file")
    size = path.stat().st_size
    if size > MAX_ARTIFACT_BYTES:
        raise Unavailable(
            f"the export of {name} is {size / 2**20:.0f} MiB, over the "
            f"{MAX_ARTIFACT_BYTES / 2**20:.0f} MiB an exported object may take"
        )
    return path


def _artifact(folder: Path, name: str, entry: dict) -> Path:
    """The artifact file of ``entry`` after checking that it is what the export writes: a
    regular file (not a link) named ``<name><suffix>`` in ``folder``, of a sane size.
    Raises :class:`Unavailable` saying what is wrong."""
    expected = name + ARTIFACT_FILES[entry["kind"]]
    if entry.get("file") != expected:
        raise Unavailable(
            f"the export of {name} is malformed: expected its file {expected!r}, found "
            f"{entry.get('file')!r}"
        )
    return _plain_file(folder, expected, name)


def _relative_path(text: str) -> Path | None:
    """``text`` as a path inside the checks' folder (relative, normalized, never above
    it, no hidden or empty names), or None."""
    if not text or "\0" in text or posixpath.isabs(text):
        return None
    parts = posixpath.normpath(text).split("/")
    if len(parts) > MAX_PATH_PARTS:
        return None
    if any(part.startswith(".") or len(part) > MAX_PART_CHARS for part in parts):
        return None  # "..", a hidden file, a name too long
    return Path(*parts)


def place_copy(folder: Path, copied: object, expected: str, learner_path: str, name: str) -> None:
    """Put the export's copy ``copied`` (which must be named ``expected``) of the file the
    learner's notebook wrote at ``learner_path`` at that same relative path in the checks'
    folder (the current one), where the check, which opens the learner's path, finds it.
    Raises :class:`Unavailable` for a malformed export, and for a path outside the
    notebook's folder, which the check could not open as the notebook did."""
    if copied != expected:
        raise Unavailable(
            f"the export of {name} is malformed: expected its file {expected!r}, found {copied!r}"
        )
    source = _plain_file(folder, expected, name)
    target = _relative_path(learner_path)
    if target is None:
        raise Unavailable(
            f"{name} names the file {learner_path[:200]!r}, outside the notebook's folder "
            "(or hidden): the batch grader takes only the files a notebook saves in its own "
            "folder",
        )
    target = Path.cwd() / target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError as error:
        message = f"the file of {name}, {learner_path}, could not be placed: {error}"
        raise Unavailable(message) from error


def _text(folder: Path, name: str, entry: dict) -> str:
    value = entry.get("value")
    if not isinstance(value, str) or len(value) > TEXT_LIMIT:
        raise Unavailable(f"the export of {name} is malformed: no text of {TEXT_LIMIT} characters")
    if "file" in entry:
        place_copy(folder, entry["file"], name + ".file", value, name)
    return value


def _setting(item: dict, key: str, kind: type, default):
    value = item.get(key, default)
    return value if isinstance(value, kind) else default


def _callbacks(folder: Path, name: str, data: object) -> list:
    """The callbacks the learner passed to fit, rebuilt from their exported settings: an
    EarlyStopping or a ModelCheckpoint as the Keras callback (a checkpoint's file placed
    where it was written), anything else as an object of a type so named."""
    import keras

    if not isinstance(data, list) or len(data) > CALLBACKS_LIMIT:
        raise Unavailable(f"the export of {name} is malformed: expected a list of callbacks")
    rebuilt = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise Unavailable(f"the export of {name} is malformed: {str(item)[:100]}")
        kind = str(item.get("type", "object"))
        monitor = _setting(item, "monitor", str, "val_loss")
        try:
            if kind == "EarlyStopping":
                patience = item.get("patience", 0)
                if isinstance(patience, bool) or not isinstance(patience, int | float):
                    patience = 0
                callback = keras.callbacks.EarlyStopping(
                    monitor=monitor,
                    patience=patience,
                    restore_best_weights=_setting(item, "restore_best_weights", bool, False),
                )
            elif kind == "ModelCheckpoint":
                filepath = _setting(item, "filepath", str, "")[:TEXT_LIMIT]
                callback = keras.callbacks.ModelCheckpoint(
                    filepath,
                    monitor=monitor,
                    save_best_only=_setting(item, "save_best_only", bool, False),
                    save_weights_only=_setting(item, "save_weights_only", bool, False),
                )
                if "file" in item:
                    place_copy(folder, item["file"], f"{name}-{index}.file", filepath, name)
            else:
                callback = _placeholder(kind)
        except (ValueError, TypeError):  # settings Keras refuses: never from a real fit
            callback = _placeholder(kind)
        rebuilt.append(callback)
    return rebuilt


def _manifest(path: Path, names: list[str]) -> dict[str, dict]:
    """The manifest at ``path``, validated: an entry (a dict with a known kind) for each
    of ``names``; a missing one is "undefined". Raises :class:`Unavailable` otherwise."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise Unavailable(f"the export manifest is unreadable: {error}") from error
    if not isinstance(manifest, dict):
        raise Unavailable(f"the export manifest is malformed: found {type(manifest).__name__}")
    known = {"none", "undefined", "unexportable", "other", "text", *ARTIFACT_FILES}
    entries = {}
    for name in names:
        entry = manifest.get(name, {"kind": "undefined"})
        if not isinstance(entry, dict) or entry.get("kind") not in known:
            raise Unavailable(f"the export of {name} is malformed: {str(entry)[:200]}")
        entries[name] = entry
    return entries


def load_artifact(folder: Path, name: str, entry: dict, replayed) -> object:
    """The object ``name`` of a graded cell, rebuilt from its manifest ``entry`` and its
    files in ``folder``; raises :class:`Unavailable` saying why it cannot be."""
    kind = entry.get("kind")
    if kind == "none":
        return None
    if kind == "undefined":
        raise Unavailable(f"{name} is not defined when the graded cell runs")
    if kind == "unexportable":
        raise Unavailable(f"{name} could not be exported: {entry.get('error')}")
    if kind == "other":
        return _placeholder(entry.get("type", "object"))
    if kind == "text":
        return _text(folder, name, entry)
    path = _artifact(folder, name, entry)
    if kind == "model":
        import keras

        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # noqa: BLE001 - any failure is the submission's
            raise Unavailable(
                f"the model in {name} could not be loaded safely: {type(error).__name__}: "
                f"{str(error)[:300]}"
            ) from error
    if kind == "history":
        data = _json_artifact(path, name)
        history = data.get("history") if isinstance(data, dict) else None
        if not isinstance(history, dict):
            raise Unavailable(f"the export of {name} is malformed: no 'history' dict")
        params = data.get("params")
        return SimpleNamespace(history=history, params=params if isinstance(params, dict) else {})
    if kind == "dict":
        return _json_artifact(path, name)
    if kind == "function":
        return replayed(name)
    if kind == "callbacks":
        return _callbacks(folder, name, _json_artifact(path, name))
    raise Unavailable(f"{name}: unknown artifact kind {kind!r}")


def _json_artifact(path: Path, name: str) -> object:
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unavailable(f"the export of {name} is not valid JSON: {error}") from error


FAILURES_LIMIT = 2**20
"""The most bytes of ``failures.json`` read: a real one holds at most a few kilobytes per
exercise name."""
_ERROR_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class CellTimeouts:
    """The cells of a run that the grader stopped at its cell timeout: the SHA-256 of each
    one's source, and the timeout in seconds."""

    sources: frozenset[str] = frozenset()
    seconds: float = 0.0

    def hint(self) -> str:
        return translate(
            "The grader stops every cell after {seconds:g} s. Train for the epochs "
            "the exercise asks, no more, and leave out extra work in that cell; if it "
            "already does, ask your instructor to grade it with a longer --cell-timeout.",
            seconds=self.seconds,
        )


def reported_failure(data: object, timeouts: CellTimeouts) -> ReportedFailure | None:
    """How a cell failed, from what the notebook's kernel reported
    (see :meth:`graders.cell_errors.CellFailure.exported`), or None when ``data`` is not
    such a report. The interrupt of a cell that the grader stopped at its timeout is
    described as such."""
    if not isinstance(data, dict):
        return None
    error, message, hint, sha = (data.get(k) for k in ("error", "message", "hint", "source_sha256"))
    if not all(isinstance(value, str) for value in (error, message, hint, sha)):
        return None
    if not _ERROR_TYPE.fullmatch(error) or not _SHA256.fullmatch(sha):
        return None
    if error == "KeyboardInterrupt" and sha in timeouts.sources:
        return ReportedFailure(error, "", timeouts.hint(), stopped_after=timeouts.seconds)
    return ReportedFailure(error, message_first_line(message), hint[:HINT_CHARS])


def reported_failures_in(folder: Path, timeouts: CellTimeouts) -> dict[str, ReportedFailure]:
    """The failed cells that the export in ``folder`` reports (its ``failures.json``, at
    most FAILURES_LIMIT bytes): name -> how the cell that sets it failed. Anything
    unreadable or malformed is left out: the checks then report those names as not
    attempted, for the same points."""
    path = folder / FAILURES
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > FAILURES_LIMIT:
            return {}
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        name: failure
        for name, reported in list(data.items())[:MAX_EXPORTED_FAILURES]
        if isinstance(name, str)
        and name.isidentifier()
        and (failure := reported_failure(reported, timeouts))
    }


def _failed_report(cell: GradedCell, why: str, hint: str = "") -> Report:
    return Report(cell.grade_id, [CheckResult.failed("graded cell", cell.points, why, hint)])


def functions_to_rerun(
    folder: Path, graded: list[GradedCell], deleted: list[str]
) -> list[tuple[GradedCell, str, Path, str]]:
    """The exported functions under ``folder`` that a check takes: (graded cell, argument
    name, its source file, the name it was defined with). A malformed export is left out
    (its check reports it)."""
    found = []
    for cell in graded:
        manifest_path = folder / ARTIFACTS / cell.grade_id / MANIFEST
        if cell.grade_id in deleted or not manifest_path.is_file():
            continue
        try:
            manifest = _manifest(manifest_path, cell.arguments)
            for name in cell.arguments:
                entry = manifest[name]
                if entry["kind"] == "function":
                    path = _artifact(manifest_path.parent, name, entry)
                    found.append((cell, name, path, str(entry.get("name", name))))
        except Unavailable:
            continue
    return found


def replays_from(folder: Path, grade_id: str):
    """``replayed(name)``: the replay of exported function ``name`` of graded cell
    ``grade_id``, from its re-run's outputs under ``folder/<grade_id>/<name>/`` (see
    :mod:`batch_grader.sandboxed.rerun`); raises :class:`Unavailable` with the re-run's failure."""

    def replayed(name: str):
        outputs_folder = folder / grade_id / name
        failure = outputs_folder / "failure.txt"
        if failure.is_file():
            raise Unavailable(failure.read_text()[:500])
        try:
            outputs = json.loads((outputs_folder / "outputs.json").read_text())
            if not isinstance(outputs, dict):
                raise Unavailable(f"re-running {name} gave {type(outputs).__name__}, not a dict")
            with np.load(outputs_folder / "outputs.npz", allow_pickle=False) as arrays:
                outputs.update({key: arrays[key] for key in arrays.files})
        except (OSError, ValueError, RecursionError) as error:
            raise Unavailable(f"re-running {name} gave nothing readable: {error}") from error
        return replay(outputs)

    return replayed


def grade_run(
    lesson: str,
    folder: Path,
    graded: list[GradedCell],
    deleted: list[str],
    why_missing: str,
    reruns: Path,
    timeouts: CellTimeouts = CellTimeouts(),
) -> list[Report]:
    """One report per graded cell, from the artifacts under ``folder``.

    ``why_missing`` explains a graded cell that exported nothing (the run stopped before
    it); ``reruns`` holds the re-runs' outputs of exported functions (see
    :func:`replays_from`); ``timeouts``, the cells the grader stopped. A check of a value
    whose cell failed reports that failure as in the notebook.
    """
    os.environ.pop(STRICT_ENV_VAR, None)  # grades are reports here, never exceptions
    module = importlib.import_module(f"graders.lesson{lesson}")
    reports = []
    for cell in graded:
        if cell.grade_id in deleted:
            reports.append(
                _failed_report(
                    cell,
                    f"the graded cell {cell.grade_id} was deleted from the notebook",
                    "Keep every graded cell; restore it from the lesson's student notebook.",
                )
            )
            continue
        artifact_folder = folder / ARTIFACTS / cell.grade_id
        manifest_path = artifact_folder / MANIFEST
        if not manifest_path.exists():
            reports.append(_failed_report(cell, f"the graded cell never ran: {why_missing}"))
            continue
        try:
            manifest = _manifest(manifest_path, cell.arguments)
            replayed = replays_from(reruns, cell.grade_id)
            arguments = [
                load_artifact(artifact_folder, name, manifest[name], replayed)
                for name in cell.arguments
            ]
        except Unavailable as error:
            reports.append(_failed_report(cell, str(error)))
            continue
        except Exception as error:  # noqa: BLE001 - a forged export may break the rebuilding
            why = f"its exported objects could not be rebuilt: {type(error).__name__}: {error}"
            reports.append(_failed_report(cell, why[:500]))
            continue
        check = getattr(module, cell.check)
        failures = reported_failures_in(artifact_folder, timeouts)
        try:
            with reported_failures(failures):
                reports.append(check(*arguments))
        except Exception as error:  # noqa: BLE001 - a forged artifact may break a check
            why = f"the check could not grade it: {type(error).__name__}: {error}"[:500]
            reports.append(_failed_report(cell, why))
    return reports


def _exception_class(name: str) -> type[Exception]:
    """The built-in exception class called ``name`` (so that a check's explanation of a
    TypeError holds after the re-run), else a new class of that name."""
    found = getattr(builtins, str(name), None)
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    return type(str(name), (Exception,), {})


def replay(outputs: dict) -> object:
    """A function that gives back, call by call, what the learner's function gave in the
    re-run: ``outputs`` maps the call's index (``"0"``, ``"1"``, ...) to an array, ``None``,
    a plain value (``{"value": v}``, ``{"tuple": [...]}``, ``{"list": [...]}``), the type
    name of anything else (``{"other": name}``, given back as an object of a type so
    named), or an error (``{"error": type, "message": text}``, raised again)."""
    calls = 0

    def function(*_arguments, **_keywords):
        nonlocal calls
        value = outputs.get(str(calls))
        calls += 1
        if not isinstance(value, dict):
            return None if value is None else np.asarray(value)
        if "error" in value:
            raise _exception_class(value["error"])(value["message"])
        if "tuple" in value:
            return tuple(value["tuple"])
        if "list" in value:
            return list(value["list"])
        if "other" in value:
            return _placeholder(str(value["other"]))
        return value.get("value")

    return function
