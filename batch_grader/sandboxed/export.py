"""What runs inside a submission's kernel: the export helper that replaces graded cells.

:data:`EXPORT_HELPER` is the source of a cell injected at the top of the notebook. It
imports nothing from this course's packages (the function-source code it needs is copied
into the cell), so patching ``graders`` in a notebook changes nothing it exports but the
words of ``failures.json`` (below). The submission runs in the same kernel and could still
redefine these globals: nothing it exports is trusted, models are loaded safely and
functions re-run in a sandbox.

For each graded cell the grader runs ``__course_export__(grade_id, [names])`` instead,
which writes every value to ``artifacts/<grade_id>/``: a Keras model as ``<name>.keras``,
a History or a dict of numbers as JSON, a function as its self-contained source code
(:func:`graders.function_source.function_source`: the helpers, constants and imports it
uses come with it, so the notebook's check and the batch grader run the same code), a
string as itself (with a copy of the file it names, when it names one: a saved model's
path), a list of Keras callbacks as the settings the checks read (with a copy of each
checkpoint's file), and anything else as its type name, listed in ``manifest.json``.

Beside the manifest, ``failures.json`` says how the cells that failed ended: each
exercise's name whose latest cell raised, with the error and its explanation, as the lesson's checks
(imported by the notebook) remembered them in this kernel
(:func:`graders.cell_errors.exported_failures`), for the checks to say what they say in
the notebook. That is the only thing the export asks of the course's packages; what it
hands over changes the words of checks of values that failed, never a score.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

from graders import function_source

ARTIFACTS = "artifacts"
MANIFEST = "manifest.json"
FAILURES = "failures.json"

_EXPORT_FUNCTION = """
def __course_export__(__grade_id, names):
    import inspect as _inspect
    import json as _json
    import os as _os
    import shutil as _shutil
    import sys as _sys

    folder = _os.path.join("artifacts", __grade_id)
    _os.makedirs(folder, exist_ok=True)
    manifest = {}

    def inside(path):
        # An absolute path under the notebook's folder, as a relative one; others as given.
        here = _os.getcwd()
        if _os.path.isabs(path) and _os.path.commonpath([here, path]) == here:
            return _os.path.relpath(path, here)
        return path

    def copy_file(path, target):
        # A copy of the regular file at path, as target in the folder: its name, or None.
        if not _os.path.isfile(path) or _os.path.getsize(path) > __COPY_LIMIT__:
            return None
        with open(path, "rb") as source, open(_os.path.join(folder, target), "wb") as sink:
            _shutil.copyfileobj(source, sink)
        return target

    def describe_callback(name, index, callback):
        described = {"type": type(callback).__name__}
        for key in __CALLBACK_SETTINGS__:
            setting = getattr(callback, key, None)
            if isinstance(setting, (bool, int, float, str)):
                described[key] = setting
        if hasattr(getattr(callback, "filepath", None), "__fspath__"):
            described["filepath"] = _os.fspath(callback.filepath)
        if isinstance(described.get("filepath"), str):
            described["filepath"] = inside(described["filepath"])
            copied = copy_file(described["filepath"], f"{name}-{index}.file")
            if copied:
                described["file"] = copied
        return described

    def cell_failures():
        # The exercises' cells that failed, as the notebook's own checks remembered them.
        try:
            errors = _sys.modules.get("graders.cell_errors")
            return _json.dumps(errors.exported_failures() if errors is not None else {})
        except Exception:
            return "{}"

    for name in names:
        if name not in globals():
            manifest[name] = {"kind": "undefined", "type": "undefined"}
            continue
        value = globals()[name]
        entry = {"type": type(value).__name__}
        try:
            if value is None:
                entry["kind"] = "none"
            elif hasattr(value, "save") and hasattr(value, "count_params"):
                value.save(_os.path.join(folder, name + ".keras"))
                entry.update(kind="model", file=name + ".keras")
            elif isinstance(getattr(value, "history", None), dict):
                metrics = value.history.items()
                params = (getattr(value, "params", None) or {}).items()
                data = {
                    "history": {str(k): [float(x) for x in v] for k, v in metrics},
                    "params": {str(k): v for k, v in params if isinstance(v, (int, float, str))},
                }
                with open(_os.path.join(folder, name + ".json"), "w") as handle:
                    _json.dump(data, handle)
                entry.update(kind="history", file=name + ".json")
            elif isinstance(value, dict):
                with open(_os.path.join(folder, name + ".json"), "w") as handle:
                    _json.dump({str(k): float(v) for k, v in value.items()}, handle)
                entry.update(kind="dict", file=name + ".json")
            elif isinstance(value, str) or hasattr(value, "__fspath__"):
                text = _os.fspath(value)
                text = inside(text if isinstance(text, str) else repr(text))[:__TEXT_LIMIT__]
                entry.update(kind="text", value=text)
                copied = copy_file(text, name + ".file")
                if copied:
                    entry["file"] = copied
            elif isinstance(value, (list, tuple)) and any(
                hasattr(item, "set_model") and hasattr(item, "on_epoch_end") for item in value
            ):
                items = enumerate(value[:__CALLBACKS_LIMIT__])
                described = [describe_callback(name, i, item) for i, item in items]
                with open(_os.path.join(folder, name + ".json"), "w") as handle:
                    _json.dump(described, handle)
                entry.update(kind="callbacks", file=name + ".json")
            elif callable(value):
                source = __course_function_tools__["function_source"](value, name)
                with open(_os.path.join(folder, name + ".py"), "w") as handle:
                    handle.write(source)
                defined = _inspect.unwrap(value).__name__
                entry.update(kind="function", file=name + ".py", name=defined)
            else:
                entry["kind"] = "other"
        except Exception as error:
            entry.update(kind="unexportable", error=f"{type(error).__name__}: {error}"[:500])
        manifest[name] = entry
    with open(_os.path.join(folder, "failures.json"), "w") as handle:
        handle.write(cell_failures())
    with open(_os.path.join(folder, "manifest.json"), "w") as handle:
        _json.dump(manifest, handle)
    print(f"exported {sorted(manifest)} for grading")
""".strip()

COPY_LIMIT = 512 * 1024 * 1024
"""The largest file the export copies (a path's, a checkpoint's): a ResNet50 .keras file
is about 95 MB. The grader refuses larger artifacts too."""
TEXT_LIMIT = 1000
"""The most characters of a string the export keeps."""
CALLBACKS_LIMIT = 50
"""The most callbacks of a list the export describes."""
CALLBACK_SETTINGS = (
    "monitor",
    "patience",
    "restore_best_weights",
    "filepath",
    "save_best_only",
    "save_weights_only",
)
"""The settings of a callback that the export records (those lesson 09's checks read)."""

EXPORT_HELPER = (
    "__course_function_tools__ = {'__name__': '__course_function_tools__'}\n"
    f"exec({inspect.getsource(function_source)!r}, __course_function_tools__)\n\n"
    + _EXPORT_FUNCTION.replace("__COPY_LIMIT__", str(COPY_LIMIT))
    .replace("__TEXT_LIMIT__", str(TEXT_LIMIT))
    .replace("__CALLBACKS_LIMIT__", str(CALLBACKS_LIMIT))
    .replace("__CALLBACK_SETTINGS__", repr(CALLBACK_SETTINGS))
)


class GradedCellError(ValueError):
    """A graded cell's source is not one ``check_*(name, ...)`` call."""


@dataclass(frozen=True)
class GradedCell:
    """One graded cell of the source: its id, points, check and the names it passes (see
    :func:`parse_check_call`)."""

    grade_id: str
    points: float
    check: str
    arguments: list[str]


def parse_check_call(source: str) -> tuple[str, list[str]]:
    """The check function's name and its argument names in a graded cell such as
    ``check_exercise_1(model, history)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise GradedCellError(f"graded cell does not parse: {error}") from error
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    ]
    if len(tree.body) != 1 or len(calls) != 1 or not isinstance(calls[0].func, ast.Name):
        raise GradedCellError(f"expected one check_*(...) call, found {source!r}")
    call = calls[0]
    if call.keywords or not all(isinstance(arg, ast.Name) for arg in call.args):
        raise GradedCellError(f"expected the check's arguments to be plain names in {source!r}")
    return call.func.id, [arg.id for arg in call.args]


def export_call(grade_id: str, source: str) -> str:
    """The code that replaces a graded cell: export the objects its check would get."""
    _, names = parse_check_call(source)
    return f"__course_export__({grade_id!r}, {names!r})"
