"""An exercise as named items: each item reads its subject from the learner's objects,
needs some of them set (:class:`Need`), may build on earlier items (``uses``, ``trusts``),
and is judged by a check that returns an :class:`Outcome`.

:func:`grade_items` turns the items into a report's results, in order: an item whose
object is still None is "not attempted" (or failed, when the cell that sets it raised:
:func:`graders.common.still_none`), one whose object is unusable fails with the need's
words, and one that builds on a failed item is "not checked", in the words of that item's
:attr:`Outcome.withheld`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Any

from course_utils.language import translate
from graders.common import still_none
from graders.report import CheckResult, Report, finishes

Text = str | Callable[[Any], str]
"""A message or hint: fixed text, or a function of what it speaks about."""


def say(text: Text, about: object) -> str:
    """``text``, or what it says about ``about`` when it is a function."""
    return text(about) if callable(text) else text


@dataclass(frozen=True)
class Outcome:
    """What an item's check found: ``passed`` with ``message`` (and ``hint`` when it
    failed); ``value``, what the items that use this one read (set when it passed);
    ``withheld``, the message of an item that builds on this one when it failed."""

    passed: bool
    message: str
    hint: str = ""
    value: object = None
    withheld: str = ""

    @classmethod
    def ok(cls, message: str, value: object = None) -> Outcome:
        return cls(True, message, value=value)

    @classmethod
    def failed(cls, message: str, hint: str = "", withheld: str = "") -> Outcome:
        return cls(False, message, hint, withheld=withheld)


@dataclass(frozen=True)
class Need:
    """A learner's object that an item needs before its check runs.

    ``name`` is the notebook's variable (the check's parameter). While it is None the item
    is "not attempted", with ``todo`` (a need without ``todo`` skips that test). When
    ``valid`` says it is unusable, the item fails with ``invalid`` (text, or a function of
    the object) and ``hint``.
    """

    name: str
    todo: str = ""
    valid: Callable[[Any], bool] | None = None
    invalid: Text = ""
    hint: str = ""

    def unmet_by(self, value: object) -> bool:
        if value is None and self.todo:
            return True
        return self.valid is not None and not self.valid(value)


class Findings:
    """What a subject is read from: the learner's objects by name (``found["callbacks"]``)
    and the value of each item checked so far (:meth:`value`)."""

    def __init__(self, objects: Mapping[str, object]):
        self._objects = dict(objects)
        self.outcomes: dict[str, Outcome] = {}

    def __getitem__(self, name: str) -> object:
        return self._objects[name]

    def value(self, item: str) -> Any:
        """The value of item ``item``'s outcome (None when it has none)."""
        outcome = self.outcomes.get(item)
        return outcome.value if outcome is not None else None


def _all_findings(found: Findings) -> Findings:
    return found


@dataclass(frozen=True)
class Item:
    """One named result of an exercise, worth ``points``.

    ``check(subject(found))`` judges it, once every object in ``needs`` is usable and every
    item in ``uses`` passed (their values are then in ``found.value``). When an item in
    ``trusts`` failed, a pass of this one proves nothing: it fails with that item's
    ``withheld`` words, and its own failure's hint starts with fixing that item.
    ``after``: the key of the item it follows in a :class:`graders.model_exercise.
    ModelExercise` (None: at the end).
    """

    name: str
    points: float
    check: Callable[[Any], Outcome]
    subject: Callable[[Findings], Any] = _all_findings
    needs: tuple[Need, ...] = ()
    uses: tuple[str, ...] = ()
    trusts: tuple[str, ...] = ()
    after: str | None = None


def _withheld(name: str, outcome: Outcome | None) -> str:
    """What an item says when item ``name``, which it builds on, failed."""
    if outcome is not None and outcome.withheld:
        return outcome.withheld
    return translate("not checked: see {name!r}", name=name)


def _judge(item: Item, found: Findings) -> Outcome:
    for name in item.uses:
        used = found.outcomes.get(name)
        if used is None or not used.passed:
            return Outcome.failed(_withheld(name, used))
    outcome = item.check(item.subject(found))
    for name in item.trusts:
        trusted = found.outcomes.get(name)  # None: it failed on what it needs
        if trusted is not None and trusted.passed:
            continue
        if outcome.passed:
            outcome = Outcome.failed(_withheld(name, trusted))
        else:
            hint = translate(
                "Fix the {name} first (see {name!r}). {hint}", name=name, hint=outcome.hint
            )
            outcome = replace(outcome, hint=hint)
    return outcome


def _result(item: Item, outcome: Outcome) -> CheckResult:
    if outcome.passed:
        return CheckResult.passed(item.name, item.points, outcome.message)
    return CheckResult.failed(item.name, item.points, outcome.message, outcome.hint)


def _first_unmet(item: Item, found: Findings) -> Need | None:
    return next((need for need in item.needs if need.unmet_by(found[need.name])), None)


def check_dependencies(items: tuple[Item, ...]) -> None:
    """Raise ValueError when an item's ``uses`` or ``trusts`` names no item before it in
    ``items`` (a misspelt name would otherwise fail it, or be ignored, silently)."""
    earlier: set[str] = set()
    for item in items:
        unknown = [name for name in (*item.uses, *item.trusts) if name not in earlier]
        if unknown:
            raise ValueError(
                f"item {item.name!r} builds on {unknown}, which no item before it is: "
                f"expected names among {sorted(earlier)}"
            )
        earlier.add(item.name)


def grade_items(items: tuple[Item, ...], objects: Mapping[str, object]) -> list[CheckResult]:
    """One result per item of ``items``, in order, on the learner's ``objects`` (by the
    notebook's names). Consecutive items waiting on the same object that is still None
    share one :func:`graders.common.still_none`: the first names the failed cell, the
    others point to it."""
    found = Findings(objects)
    unmet = [(item, _first_unmet(item, found)) for item in items]

    def waits_on(pair: tuple[Item, Need | None]) -> Need | Item:
        """The need an item waits on (an object still None), else the item itself."""
        item, need = pair
        return need if need is not None and found[need.name] is None and need.todo else item

    results: list[CheckResult] = []
    for key, group in groupby(unmet, key=waits_on):
        if isinstance(key, Need):
            waiting = [(item.name, item.points) for item, _ in group]
            results += still_none(waiting, key.name, key.todo)
            continue
        ((item, need),) = group
        if need is not None:
            message = say(need.invalid, found[need.name])
            results.append(CheckResult.failed(item.name, item.points, message, need.hint))
            continue
        outcome = _judge(item, found)
        found.outcomes[item.name] = outcome
        results.append(_result(item, outcome))
    return results


@dataclass(frozen=True)
class ItemExercise:
    """An exercise graded as ``items`` under ``title``; :meth:`grade` takes the learner's
    objects by the notebook's names."""

    title: str
    items: tuple[Item, ...]

    def __post_init__(self) -> None:
        check_dependencies(self.items)

    @property
    def max_points(self) -> float:
        return sum(item.points for item in self.items)

    @finishes
    def grade(self, **objects: object) -> Report:
        return Report(self.title, grade_items(self.items, objects))
