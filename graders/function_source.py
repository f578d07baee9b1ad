"""The self-contained source of a learner's function: its own code, and what it uses.

A function graded by running it (lesson 07's residual blocks) is graded from its source,
in the notebook and in the batch grader alike, so that both grade the same code. A
function may call a helper defined in another cell, use a constant, or a name imported in
its own cell; :func:`function_source` writes all of it out:

- a helper function defined in the notebook: its source, and what it uses in turn;
- a number, string, bool, None or a tuple of them: ``name = <its repr>``;
- a module, or a function or class imported from one: an import line;
- anything else made in the notebook (an initializer object, an array, a layer): refused
  with :class:`FunctionSourceError`, whose message names it, since only code travels.

This module uses only the standard library and has no ``from __future__`` import: the
batch grader runs its source inside a submission's kernel (see
:mod:`batch_grader.sandboxed.export`), where nothing of the course's packages is trusted.
Imported as :mod:`graders.function_source` (in a notebook's checks), its messages are in
the learner's language (:func:`course_utils.language.translate`); the copy the export runs
imports nothing and says them in English.
"""

import builtins
import dis
import importlib
import inspect
import math
import textwrap
import types

if __name__ == "graders.function_source":
    from course_utils.language import translate
else:  # the export's copy, run in a submission's kernel: no import of the course's

    def translate(english, /, **fields):
        """``english`` formatted with ``fields``, as the course's translate gives it in
        English."""
        return english.format(**fields) if fields else english


_LITERALS = (int, float, complex, str, bytes, bool, type(None))
_REFUSED_MODULES = ("graders",)  # the course's checks and reference implementations


class FunctionSourceError(ValueError):
    """The function uses something that cannot be written out as source."""


def _global_names(code: types.CodeType) -> list[str]:
    """Names that ``code`` (and the functions, lambdas and comprehensions inside it) loads
    from the module's globals, in order of first use."""
    names: list[str] = []
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and instruction.argval not in names:
            names.append(instruction.argval)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names += [name for name in _global_names(constant) if name not in names]
    return names


def _literal_source(value: object) -> str | None:
    """Source that evaluates to ``value`` (numbers, strings, None, and tuples, lists and
    dicts of them), or None when ``value`` is something else."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, _LITERALS):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = [_literal_source(item) for item in value]
        if None in items:
            return None
        inside = ", ".join(items) + ("," if isinstance(value, tuple) and len(items) == 1 else "")
        return f"({inside})" if isinstance(value, tuple) else f"[{inside}]"
    if isinstance(value, dict):
        pairs = [(_literal_source(key), _literal_source(item)) for key, item in value.items()]
        if any(None in pair for pair in pairs):
            return None
        return "{" + ", ".join(f"{key}: {item}" for key, item in pairs) + "}"
    return None


def _refuse_course_module(user: str, name: str, module: str) -> None:
    """Refuse ``name``, which the function ``user`` takes from ``module``, when that is one
    of the course's own modules."""
    if module.split(".")[0] in _REFUSED_MODULES:
        raise FunctionSourceError(
            translate(
                "{user} uses {name} from the course's own {module}: the exercise is to write "
                "it yourself",
                user=user,
                name=name,
                module=module,
            )
        )


def _import_line(user: str, name: str, value: object) -> str | None:
    """An import that binds ``name`` to ``value`` in a fresh process, or None. Refuses
    what comes from the course's graders (their reference implementations), naming the
    function ``user`` that uses it."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
        _refuse_course_module(user, name, module)
        return f"import {module}" if module == name else f"import {module} as {name}"
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not module or module == "__main__" or not qualname or "." in qualname:
        return None
    _refuse_course_module(user, name, module)
    try:
        if getattr(importlib.import_module(module), qualname, None) is not value:
            return None
    except Exception:  # noqa: BLE001 - a module that cannot be imported again
        return None
    alias = "" if qualname == name else f" as {name}"
    return f"from {module} import {qualname}{alias}"


def _imported_course_modules(code: types.CodeType) -> list[str]:
    """The course modules that ``code`` (or code inside it) imports by name."""
    found = []
    for instruction in dis.get_instructions(code):
        if instruction.opname == "IMPORT_NAME":
            module = str(instruction.argval)
            if module.split(".")[0] in _REFUSED_MODULES:
                found.append(module)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found += _imported_course_modules(constant)
    return found


def _as_function(value: object, name: str) -> types.FunctionType:
    """``value`` as a plain function (decorators such as functools.wraps unwrapped)."""
    function = inspect.unwrap(value) if callable(value) else value
    if not isinstance(function, types.FunctionType):
        raise FunctionSourceError(
            translate(
                "{name} is a {kind}, not a function defined with def: the grader runs "
                "functions from their source",
                name=name,
                kind=type(value).__name__,
            )
        )
    return function


def _source_of(function: types.FunctionType) -> str:
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as error:
        raise FunctionSourceError(
            translate(
                "the source of {function} cannot be read ({error}): define it with def in a "
                "notebook cell",
                function=function.__name__,
                error=error,
            )
        ) from error


def function_source(function: types.FunctionType, name: str | None = None) -> str:
    """Source code that, run in a fresh namespace, defines ``function`` (under its own
    name) and everything it uses from its module's globals. ``name``: what the notebook
    calls it, for messages.

    Raises :class:`FunctionSourceError` naming the first global that cannot be written
    out, and what to do instead.
    """
    imports: list[str] = []
    constants: list[str] = []
    definitions: list[str] = []
    seen: set[str] = set()
    pending = [
        _as_function(function, name or getattr(function, "__name__", translate("the function")))
    ]
    function = pending[0]
    while pending:
        current = pending.pop(0)
        source = _source_of(current)
        definitions.append(source)
        try:  # the whole def statement: defaults, decorators and annotations use names too
            code = compile(source, f"<{current.__name__}>", "exec")
        except SyntaxError:
            code = current.__code__
        refused = _imported_course_modules(code)
        if refused:
            raise FunctionSourceError(
                translate(
                    "{function} imports the course's own {module}: the exercise is to write "
                    "it yourself",
                    function=current.__name__,
                    module=refused[0],
                )
            )
        for name in _global_names(code):
            if name == current.__name__:
                continue
            if name in seen or name == function.__name__:
                continue
            seen.add(name)
            if name not in current.__globals__:
                if hasattr(builtins, name):
                    continue
                raise FunctionSourceError(
                    translate(
                        "{function} uses {name}, which is not defined: define it, or fix the name",
                        function=current.__name__,
                        name=name,
                    )
                )
            value = current.__globals__[name]
            line = _import_line(current.__name__, name, value)
            literal = _literal_source(value)
            if line is not None:
                imports.append(line)
            elif isinstance(value, types.FunctionType) and value.__module__ == "__main__":
                pending.append(value)
            elif literal is not None:
                constants.append(f"{name} = {literal}")
            else:
                library = hasattr(value, "__qualname__") and value.__module__ != "__main__"
                fields = dict(function=current.__name__, name=name, kind=type(value).__name__)
                if library:
                    message = translate(
                        "{function} uses {name}, a {kind} that cannot be imported again, which "
                        "the grader cannot receive (only code and plain numbers travel): "
                        "create it inside {function}, or pass it as an argument",
                        **fields,
                    )
                else:
                    message = translate(
                        "{function} uses {name}, a {kind} made in the notebook, which the "
                        "grader cannot receive (only code and plain numbers travel): create it "
                        "inside {function}, or pass it as an argument",
                        **fields,
                    )
                raise FunctionSourceError(message)
    return "\n\n".join(["\n".join(imports + constants), *reversed(definitions)]).strip() + "\n"


def rebuild(function: types.FunctionType, name: str | None = None) -> types.FunctionType:
    """``function`` defined anew from :func:`function_source` in a fresh namespace: what
    the grader runs. Raises :class:`FunctionSourceError` when it cannot be rebuilt."""
    source = function_source(function, name)
    function = inspect.unwrap(function)
    namespace: dict = {"__name__": "__submission__"}
    try:
        exec(compile(source, f"<{function.__name__}>", "exec"), namespace)  # noqa: S102
    except Exception as error:  # noqa: BLE001 - the learner's code may fail in any way
        raise FunctionSourceError(
            translate(
                "{function} could not be defined again from its source: {error_type}: {error}",
                function=function.__name__,
                error_type=type(error).__name__,
                error=error,
            )
        ) from error
    return namespace[function.__name__]
