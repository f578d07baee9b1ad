"""Exercises graded by calling the learner's function on fixed inputs.

A :class:`FunctionCase` names the function, its signature and the calls it is graded on,
in order. The check calls the function exactly so (:meth:`FunctionCase.run`); the batch
grader re-runs the learner's exported function on the same calls in a sandbox
(:mod:`batch_grader.sandboxed.rerun`) and replays what each call gave, call by call, to the same
check. So a check grades the same thing in the notebook and in the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from course_utils.language import translate
from graders.common import not_attempted
from graders.function_source import FunctionSourceError, rebuild
from graders.report import CheckResult, Report


@dataclass(frozen=True)
class FunctionCase:
    """The fixed calls a learner's function ``name`` is graded on: ``calls`` is a tuple of
    (positional arguments, keyword arguments), made anew each time by ``make_calls`` so
    that no call can change another's inputs."""

    name: str
    signature: str
    make_calls: Callable[[], list[tuple[tuple, dict]]]

    def calls(self) -> list[tuple[tuple, dict]]:
        """The calls, in the order the check makes them."""
        return self.make_calls()


class NamedFunction(Protocol):
    """What the messages about a learner's function need: its name and signature (a
    :class:`FunctionCase`, or lesson 07's ``BlockCase``)."""

    name: str
    signature: str


class CallFailed(Exception):
    """The learner's function raised on one of the case's calls."""

    def __init__(self, arguments: tuple, error: Exception) -> None:
        super().__init__(str(error))
        self.arguments = arguments
        self.error = error


def gradable_function(
    title: str, items: list[tuple[str, float]], case: NamedFunction, function: object
) -> tuple[Callable | None, Report | None]:
    """The learner's ``function`` ready to call, or the finished report that grades it
    without calling it: not attempted (None), not a function, or a function defined in the
    notebook whose source cannot stand alone (it is graded from its source, rebuilt with
    the helpers, constants and imports it uses, exactly as the batch grader receives it:
    :func:`graders.function_source.rebuild`)."""
    if function is None:
        return None, not_attempted(title, items, case.name).finish()
    if not callable(function):
        message = translate(
            "expected {name} to be a function, found {found}",
            name=case.name,
            found=type(function).__name__,
        )
        hint = translate("Define {signature}.", signature=case.signature)
        results = [CheckResult.failed(n, p, message, hint) for n, p in items]
        return None, Report(title, results).finish()
    if getattr(function, "__module__", None) == "__main__":
        try:
            function = rebuild(function, case.name)
        except FunctionSourceError as error:
            hint = translate(
                "The grader runs your function from its source, with the helper functions, "
                "numbers and imports it uses, and nothing else from the notebook."
            )
            results = [CheckResult.failed(n, p, str(error), hint) for n, p in items]
            return None, Report(title, results).finish()
    return function, None


def run_calls(case: FunctionCase, function: Callable) -> list[tuple[tuple, object]]:
    """Call ``function`` on each of the case's calls, in order: (positional arguments,
    what it returned) for each. Raises :class:`CallFailed` at the first call that
    raises."""
    outcomes = []
    for arguments, keywords in case.calls():
        try:
            value = function(*arguments, **keywords)
        except Exception as error:  # noqa: BLE001 - any failure of learner code is feedback
            raise CallFailed(arguments, error) from error
        outcomes.append((arguments, value))
    return outcomes
