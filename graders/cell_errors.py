"""What went wrong in the learner's own cells: failures remembered, errors explained.

In a Jupyter kernel, importing a lesson's checks (``from graders.lesson01 import
check_exercise_1``) calls :func:`watch_cells`, which installs two IPython hooks, once per
kernel:

- after every cell, which names the cell assigns and whether it raised. A check that finds
  ``model`` still None asks :func:`failure_for` and reports "your cell that sets model
  raised ...", with an explanation, instead of "not attempted";
- when a cell raises, an explanation is shown under its traceback when the error is a
  common one (:func:`explain`), or "complete exercise N first" when the cell failed
  because an exercise's object is still None.

Outside IPython nothing is installed and every function answers as if no cell had failed.
"""

from __future__ import annotations

import ast
import hashlib
import html
import inspect
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from course_utils.language import translate

MESSAGE_CHARS = 300  # of an error's first line, in a check's message
RESIDUAL_SHAPES = translate(
    "The fxf convolution needs padding='same' (valid shrinks the maps), the last "
    "convolution needs F3 filters, and in the convolutional block the shortcut's 1x1 Conv2D "
    "takes the same stride s as the main path's first one."
)
"""How a residual block's two paths come to have the same shape (lesson 07)."""
RESIDUAL_CHANNELS = translate(
    "They differ in channels only, so one of them was taken at the wrong point: the identity "
    "block's shortcut is the block's input as it came in (save X_shortcut = X as the block's "
    "first line; saved after the first Conv2D has reassigned X, it has F1 channels, not F3), "
    "the main path's last Conv2D has F3 filters, and the convolutional block's shortcut goes "
    "through a 1x1 Conv2D with F3 filters, even where s = 1 (stage 2)."
)
"""Why a residual block's two paths differ in channels only (lesson 07)."""


HINT_CHARS = 2000  # of an explanation, in a failure the batch grader is handed
INTERRUPTED_HINT = translate(
    "The cell was stopped before it finished (the stop button, or Kernel > Interrupt): run "
    "it again and let it finish, then run this check."
)
FIX_AND_RERUN_HINT = translate(
    "Read the error under that cell, fix the code, run the cell again, then run this check."
)


def message_first_line(message: object, chars: int = MESSAGE_CHARS) -> str:
    """The first line of an error's message, shortened to ``chars``."""
    lines = str(message).strip().splitlines()
    return lines[0][:chars] if lines else ""


def error_line(error: BaseException, chars: int = MESSAGE_CHARS) -> str:
    """``"ValueError: <the first line of its message>"``, the line shortened to ``chars``."""
    return f"{type(error).__name__}: {message_first_line(error, chars)}"


def stopped_after(seconds: float) -> str:
    """``ran longer than 20 s and was stopped``: what the batch grader did to a cell that
    ran past its cell timeout of ``seconds``."""
    return f"ran longer than {seconds:g} s and was stopped"


def failure_description(name: str, error_type: str, message: str) -> str:
    """``your cell that sets model raised ValueError: ...``: how the cell that sets
    ``name`` ended, from its error's type name and the first line of its message."""
    if error_type == "KeyboardInterrupt":
        return translate("your cell that sets {name} was interrupted before it finished", name=name)
    return translate(
        "your cell that sets {name} raised {error_type}: {message}",
        name=name,
        error_type=error_type,
        message=message,
    )


@dataclass(frozen=True)
class CellFailure:
    """The error a learner's cell raised, and the cell's source."""

    error: BaseException
    source: str

    def describe(self, name: str) -> str:
        """``your cell that sets model raised ValueError: ...`` (first line, shortened)."""
        return failure_description(name, type(self.error).__name__, message_first_line(self.error))

    def hint(self) -> str:
        """The explanation of the error (in the kernel's namespace, so that a cell that
        failed on another exercise's None is sent there), or how to go on."""
        from IPython import get_ipython

        if isinstance(self.error, KeyboardInterrupt):
            return INTERRUPTED_HINT
        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
        return explain_in_cell(self.error, self.source, namespace) or FIX_AND_RERUN_HINT

    def exported(self, name: str) -> dict[str, str]:
        """What the batch grader is handed about this failure of the cell that sets
        ``name`` (see :class:`ReportedFailure`): the error's type name, the first line of
        its message, its explanation, and the SHA-256 of the cell's source."""
        return {
            "error": type(self.error).__name__,
            "message": message_first_line(self.error),
            "hint": self.hint()[:HINT_CHARS],
            "source_sha256": hashlib.sha256(self.source.encode()).hexdigest(),
        }


@dataclass(frozen=True)
class ReportedFailure:
    """A failure of a learner's cell as the kernel that ran the notebook reported it to
    the batch grader (:meth:`CellFailure.exported`), for the checks to describe in the
    notebook's own words. ``stopped_after``: the cell timeout, in seconds, when the grader
    stopped that cell (its error is then the grader's interrupt); else None."""

    error_type: str
    message: str
    explanation: str
    stopped_after: float | None = None

    def describe(self, name: str) -> str:
        if self.stopped_after is not None:
            return translate(
                "your cell that sets {name} ran longer than {seconds:g} s and was stopped",
                name=name,
                seconds=self.stopped_after,
            )
        return failure_description(name, self.error_type, self.message)

    def hint(self) -> str:
        return self.explanation


_LAST_RUN: dict[str, CellFailure | ReportedFailure | None] = {}  # name -> its latest cell's end
_EXERCISES: dict[str, int] = {}  # a check's argument name -> its exercise number


def failure_for(name: str) -> CellFailure | ReportedFailure | None:
    """How the latest cell that assigns ``name`` failed, or None when it succeeded (or no
    such cell ran in this kernel)."""
    return _LAST_RUN.get(name)


MAX_EXPORTED_FAILURES = 100  # names, in what the batch grader is handed


def exported_failures() -> dict[str, dict[str, str]]:
    """Each exercise's name (a check's argument) whose latest assigning cell failed in this
    kernel, with what the batch grader is handed about that failure
    (:meth:`CellFailure.exported`)."""
    failed = [
        (name, failure)
        for name, failure in _LAST_RUN.items()
        if name in _EXERCISES and isinstance(failure, CellFailure)
    ]
    return {name: failure.exported(name) for name, failure in failed[:MAX_EXPORTED_FAILURES]}


@contextmanager
def reported_failures(failures: dict[str, CellFailure | ReportedFailure]) -> Iterator[None]:
    """Within the block, :func:`failure_for` answers from ``failures`` (name -> how the
    cell that sets it failed in the notebook's run): the batch grader's checks run so."""
    saved = dict(_LAST_RUN)
    _LAST_RUN.clear()
    _LAST_RUN.update(failures)
    try:
        yield
    finally:
        _LAST_RUN.clear()
        _LAST_RUN.update(saved)


# --- explanations of common errors ---------------------------------------------------------

_SHAPES = re.compile(r"target\.shape=\(([^)]*)\), output\.shape=\(([^)]*)\)")
_LABEL_RANGE = re.compile(r"label value of (\d+) which is outside the valid range of \[0, (\d+)\)")
_NDIM = re.compile(
    r"of layer '(\w+)' is incompatible with the layer: expected (?:min_)?ndim=(\d), "
    r"found ndim=(\d)\. Full shape received: (\([^)]*\))"
)
_FACTOR = re.compile(
    r"`factor` argument should be .* in the range \[-1, 1\]\. Received: factor=(\S+)"
)
_H5_NAME = re.compile(r"name = '([^']*)'")
_ADD = re.compile(r"Inputs have incompatible shapes\. Received shapes (\([^)]*\)) and (\([^)]*\))")
_INPUT = re.compile(
    r"Expected shape \(None, ([^)]*)\), but input has incompatible shape \(\w+, ([^)]*)\)"
)


def _dims(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def explain(error: BaseException) -> str | None:
    """A plain-words explanation of a common Keras mistake behind ``error``, or None."""
    text = str(error)
    shapes = _SHAPES.search(text)
    if shapes and "same rank" in text:
        target, output = _dims(shapes[1]), _dims(shapes[2])
        if len(output) > len(target) >= 2:
            return translate(
                "The model's output has shape ({output}): a prediction for every "
                "position of a feature map, not one row of class scores per image like the "
                "labels ({target}). The labels are right: put Flatten (it turns "
                "each image's feature maps into one row) between the last Conv2D or pooling "
                "layer and the Dense layers.",
                output=", ".join(output),
                target=", ".join(target),
            )
        return translate(
            "The labels are integers, one class number per image (shape ({images},)), "
            "but categorical_crossentropy expects one-hot rows like the model's output "
            "({output}): one-hot the labels with keras.utils.to_categorical(y, "
            "{classes}), or compile with loss='sparse_categorical_crossentropy'.",
            images=target[0],
            output=", ".join(output),
            classes=output[-1],
        )
    if shapes and "same shape" in text:
        target, output = _dims(shapes[1]), _dims(shapes[2])
        if output[-1] == "1":
            return translate(
                "The model ends in one sigmoid unit, but the labels have {columns} "
                "columns: keep the labels as 0 and 1 (do not one-hot them) with "
                "loss='binary_crossentropy'.",
                columns=target[-1],
            )
        return translate(
            "The labels have {classes} classes (one-hot rows of {classes}) but the "
            "output layer has {units} units: give the last Dense layer one unit per "
            "class, Dense({classes}, activation='softmax').",
            classes=target[-1],
            units=output[-1],
        )
    label = _LABEL_RANGE.search(text)
    if label:
        return translate(
            "A label is {label} but the output layer has only {units} units (classes "
            "0 to {last}): give the last Dense layer one unit per class.",
            label=label[1],
            units=label[2],
            last=int(label[2]) - 1,
        )
    if "dtype='string' is not a valid dtype" in text:
        return translate(
            "In Keras 3 the third positional argument of compile is loss_weights, not "
            "metrics, so compile('adam', 'categorical_crossentropy', ['accuracy']) passes "
            "the string 'accuracy' as a weight. Pass keywords: compile(optimizer='adam', "
            "loss='categorical_crossentropy', metrics=['accuracy'])."
        )
    factor = _FACTOR.search(text)
    if factor:
        return translate(
            "A preprocessing layer's factor must lie between -1 and 1, and {factor} does "
            "not: it is a fraction, not a number of degrees or pixels. RandomRotation's "
            "factor is a fraction of a full turn, so 18° is RandomRotation(18 / 360), that "
            "is RandomRotation(0.05).",
            factor=factor[1],
        )
    ndim = _NDIM.search(text)
    if ndim and ndim[2] == "4" and ndim[3] == "2":
        return translate(
            "Layer '{layer}' works on images (batch, height, width, channels) but "
            "received flat rows of shape {shape}: a Conv2D or pooling layer must come "
            "before Flatten, which turns the feature maps into one row per image.",
            layer=ndim[1],
            shape=ndim[4],
        )
    if ndim and ndim[2] == "4" and ndim[3] == "3":
        return translate(
            "Layer '{layer}' works on images (batch, height, width, channels) but "
            "received {shape}, with no channels axis: grey images need one too. Give "
            "the model x[..., None], of shape (N, height, width, 1), and start it with "
            "keras.Input(shape=(height, width, 1)).",
            layer=ndim[1],
            shape=ndim[4],
        )
    given = _INPUT.search(text)
    if given:
        return _data_shape_explanation(_dims(given[1]), _dims(given[2]))
    folder = _missing_folder(error)
    if folder:
        return translate(
            "The folder {folder!r} does not exist, and Keras's writers (CSVLogger, model.save, "
            "save_weights) do not create folders: make it first, "
            "Path({folder!r}).mkdir(parents=True, exist_ok=True), as the lesson's setup cell "
            "does, then run this cell again.",
            folder=folder,
        )
    add = _ADD.search(text)
    if add:
        channels_only = _dims(add[1][1:-1])[:-1] == _dims(add[2][1:-1])[:-1]
        return translate(
            "An Add got a main path of shape {main} and a shortcut of shape {shortcut}: "
            "they must be equal. {why}",
            main=add[1],
            shortcut=add[2],
            why=RESIDUAL_CHANNELS if channels_only else RESIDUAL_SHAPES,
        )
    return None


def _missing_folder(error: BaseException) -> str | None:
    """The folder that a file could not be written into because it does not exist, for a
    FileNotFoundError from open() or from h5py (which names the file in its message)."""
    if not isinstance(error, FileNotFoundError):
        return None
    name = error.filename
    if not isinstance(name, str | os.PathLike):
        found = _H5_NAME.search(str(error))
        name = found[1] if found else None
    if name is None:
        return None
    folder = Path(name).parent
    return None if folder == Path(".") or folder.exists() else str(folder)


def added_shapes(error: BaseException) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The two shapes (batch axis left out) an ``Add`` refused to add in ``error``, or None
    when ``error`` is not that refusal."""
    add = _ADD.search(str(error))
    if add is None:
        return None
    try:
        return tuple(tuple(int(d) for d in _dims(shape[1:-1])) for shape in (add[1], add[2]))
    except ValueError:  # a dimension Keras printed as None
        return None


def _data_shape_explanation(expected: list[str], found: list[str]) -> str:
    """Why data of one image shape (``found``) does not fit a model's input (``expected``),
    and the reshape that fixes it when both hold the same numbers per image."""
    want, have = _shape_text(expected), _shape_text(found)
    sizes = [int(d) for d in expected + found if d.isdigit()]
    if len(sizes) == len(expected + found) and math.prod(sizes[: len(expected)]) == math.prod(
        sizes[len(expected) :]
    ):
        return translate(
            "The model's input takes images of shape {want} but it was given images of shape "
            "{have} (the batch axis left out): the same {numbers} numbers, arranged "
            "differently: reshape the data for this model, x.reshape(-1, {dims}).",
            want=want,
            have=have,
            numbers=math.prod(sizes[len(expected) :]),
            dims=", ".join(expected),
        )
    return translate(
        "The model's input takes images of shape {want} but it was given images of shape "
        "{have} (the batch axis left out): give it the data prepared for this model, or "
        "change keras.Input(shape=...).",
        want=want,
        have=have,
    )


def _shape_text(dims: list[str]) -> str:
    """``(784,)`` or ``(28, 28, 1)``: a shape as Python writes the tuple."""
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _loaded_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in names:
            names.append(node.id)
    return names


NAME_STEPS = 3
"""How many failed cells back a name left unset is followed (a cell that failed for want
of a name that a cell failed to set, because an exercise is not done yet)."""


def explain_in_cell(
    error: BaseException, source: str, namespace: dict, *, follow_names: int = NAME_STEPS
) -> str | None:
    """The explanation for ``error`` raised by a cell with ``source``: the exercise to
    complete first when the cell uses an exercise's object that is still None (or a block
    function, when Keras received None), or a name that an earlier failed cell did not
    set (explained by that cell's error, up to ``follow_names`` cells back); else
    :func:`explain`."""
    return _explanation(error, source, namespace, follow_names)[0]


def unfinished_exercise(error: BaseException, source: str, namespace: dict) -> str | None:
    """The note for a cell with ``source`` that raised ``error`` only because an exercise
    is not done yet (its object is still None, its function returns None, or a name was
    left unset by a cell that failed for that reason); None for any other error."""
    note, unfinished = _explanation(error, source, namespace, NAME_STEPS)
    return note if unfinished else None


def _explanation(
    error: BaseException, source: str, namespace: dict, follow_names: int
) -> tuple[str | None, bool]:
    """:func:`explain_in_cell`'s explanation, and whether an unfinished exercise is the
    whole cause."""
    text = str(error)
    if follow_names > 0 and isinstance(error, NameError) and getattr(error, "name", None):
        earlier = failure_for(error.name)
        if isinstance(earlier, CellFailure) and earlier.source != source:
            cause, unfinished = _explanation(
                earlier.error, earlier.source, namespace, follow_names - 1
            )
            if cause:
                why = translate(
                    "{name} was not set because the cell that sets it failed: {cause}",
                    name=error.name,
                    cause=cause,
                )
                return why, unfinished
    if "None" in text:
        for name in _loaded_names(source):
            if name not in _EXERCISES:
                continue
            value = namespace.get(name)
            exercise = _EXERCISES[name]
            if value is None:
                return translate(
                    "{name} is still None: complete exercise {exercise} and run its cells "
                    "first, then run this cell again.",
                    name=name,
                    exercise=exercise,
                ), True
            if callable(value) and "KerasTensor" in text:
                return translate(
                    "{name} returned None: complete it in exercise {exercise} and run its "
                    "cell first, then run this cell again.",
                    name=name,
                    exercise=exercise,
                ), True
    if "'list' object has no attribute" in text:
        for name in _loaded_names(source):
            if (
                name in _EXERCISES
                and name.endswith("metrics")
                and isinstance(namespace.get(name), list)
            ):
                return translate(
                    "{name} is a list, [loss, accuracy], as evaluate returns by default, "
                    "not a dict of named metrics: evaluate with return_dict=True, as "
                    "exercise {exercise} asks, then run this cell again.",
                    name=name,
                    exercise=_EXERCISES[name],
                ), False
    return explain(error) or _feature_map_output(text, namespace), False


def _feature_map_output(text: str, namespace: dict) -> str | None:
    """Why a cell failed on the shape of what an exercise's classifier predicts, when the
    model ends in Dense layers applied to feature maps (no Flatten before them), so that
    it outputs (batch, height, width, classes) and the error shows those height and width:
    or None."""
    compact = text.replace(" ", "")
    for name, exercise in _EXERCISES.items():
        model = namespace.get(name)
        try:  # any object, a model never built included
            layers = list(getattr(model, "layers", None) or [])
            shape = getattr(model, "output_shape", None)
        except Exception:  # noqa: BLE001 - the explanation is a courtesy, never an error
            continue
        if not layers or type(layers[-1]).__name__ != "Dense" or not isinstance(shape, tuple):
            continue
        spatial = ",".join(str(d) for d in shape[1:-1])
        if len(shape) > 2 and (f",{spatial})" in compact or f",{spatial}," in compact):
            return translate(
                "{name}'s output has shape {shape}: a prediction for every position "
                "of a feature map, not one row of class scores per image, so what is "
                "computed from it here has the wrong shape. Put Flatten before the Dense "
                "layers in exercise {exercise}, run its cells again, then this cell.",
                name=name,
                shape=tuple(shape),
                exercise=exercise,
            )
    return None


# --- the IPython hooks ---------------------------------------------------------------------


def assigned_names(source: str) -> list[str]:
    """The names a cell assigns at its top level (assignments, imports, def and class);
    for a cell that does not parse, the names on the left of ``name =`` lines and after
    ``def``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        pattern = re.compile(r"^(?:def\s+(\w+)|(\w+)\s*=[^=])", re.MULTILINE)
        return [match[1] or match[2] for match in pattern.finditer(source)]
    names: list[str] = []
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)  # not what its body assigns: those names are local
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(alias.asname or alias.name).split(".")[0] for alias in node.names]
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        if not isinstance(node, ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return list(dict.fromkeys(names))


def record_cell(source: str, error: BaseException | None) -> None:
    """Remember how a cell with ``source`` ended (``error`` None: it succeeded), for every
    name it assigns."""
    failure = CellFailure(error, source) if error is not None else None
    for name in assigned_names(source):
        _LAST_RUN[name] = failure


_RUNNING: dict[str, object] = {}
"""The cell running now (``source``) and the error it stopped at for want of an exercise
(``unfinished``), between the shell's hooks."""


def _pre_run_cell(info) -> None:
    _RUNNING.clear()
    _RUNNING["source"] = getattr(info, "raw_cell", "") or ""


def _exception_in_cell(shell, etype, value, tb, tb_offset=None) -> None:
    """IPython's handler of an exception a cell raised: a cell that stopped only for want of
    an exercise shows the course's note instead of a traceback (and is let through, see
    :func:`_post_run_cell`); any other error shows its traceback as usual. A cell that does
    not parse reaches this handler too (before IPython's own for syntax errors): it gets
    IPython's syntax error display, the learner's line without the shell's frames."""
    if isinstance(value, SyntaxError):
        shell.showsyntaxerror()
        return None
    source = str(_RUNNING.get("source", ""))
    try:
        note = unfinished_exercise(value, source, shell.user_ns)
    except Exception:  # noqa: BLE001 - an error whose str() raises: its traceback, as usual
        note = None
    if note is None:
        shell.showtraceback(running_compiled_code=True)
        return None
    _RUNNING["unfinished"] = value
    show_explanation(
        translate(
            "{note} (This cell stopped at {error}: {message})",
            note=note,
            error=etype.__name__,
            message=message_first_line(value),
        )
    )
    return None


def _post_run_cell(result) -> None:
    from IPython import get_ipython

    source = getattr(result.info, "raw_cell", "") or ""
    error = result.error_in_exec or result.error_before_exec
    record_cell(source, error)
    if error is not None and error is _RUNNING.get("unfinished"):
        # The kernel answers "ok", so that Run All goes on to the cells after this one: the
        # note is shown and the failure is remembered for the checks.
        result.error_in_exec = None
    elif error is not None:
        shell = get_ipython()
        explanation = explain_in_cell(error, source, shell.user_ns if shell else {})
        if explanation:
            show_explanation(explanation)
    _RUNNING.clear()


def show_explanation(explanation: str) -> None:
    """Display ``explanation`` under the traceback of the cell that raised."""
    from IPython.display import display

    html_text = (
        '<div class="keras-course-explanation" style="border-left:4px solid #0969da;'
        'padding:4px 8px;margin-top:4px"><b>keras-course:</b> '
        f"{html.escape(explanation)}</div>"
    )
    display({"text/plain": f"keras-course: {explanation}", "text/html": html_text}, raw=True)


def _exercise_names(module: ModuleType) -> dict[str, int]:
    """Each argument name of the module's ``check_exercise_N`` functions, with the first
    exercise that takes it."""
    names: dict[str, int] = {}
    checks = sorted(
        (int(match[1]), function)
        for attribute, function in vars(module).items()
        if (match := re.fullmatch(r"check_exercise_(\d+)", attribute)) and callable(function)
    )
    for number, function in checks:
        for parameter in inspect.signature(function).parameters:
            names.setdefault(parameter, number)
    return names


def watch_cells(module: ModuleType) -> None:
    """In an IPython shell, start remembering failed cells and explaining errors, with
    the exercises of ``module`` (a lesson's checks); elsewhere do nothing."""
    _EXERCISES.clear()
    _EXERCISES.update(_exercise_names(module))
    watch_this_shell()


def watch_this_shell() -> None:
    """Install the hooks in this IPython shell, once, for the exercises of the lesson whose
    checks were imported last: a kernel forked from a process that imported them before
    any shell existed (the batch grader's warm kernels) calls it when it starts."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_keras_course_watching", False):
        return
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    shell.set_custom_exc((Exception,), _exception_in_cell)
    shell._keras_course_watching = True
