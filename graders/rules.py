"""Rules over what a learner made: the settings of a Keras object (a callback, a layer's
ranges), what a model did when probed, a file it saved. Each :class:`Rule` names one way
the subject can be wrong and says what was found and what to do; :class:`Rules` is a
check made of them, for an :class:`graders.exercise_items.Item`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from graders.exercise_items import Outcome, Text, say

S = TypeVar("S")


@dataclass(frozen=True)
class Rule(Generic[S]):
    """One way a subject can be wrong: ``broken(subject)`` says whether it is; ``message``
    and ``hint`` (text, or a function of the subject) say what was found and what to do;
    ``withheld``, what an item building on the check says when this rule is broken (""
    for the check's own)."""

    broken: Callable[[S], bool]
    message: Text
    hint: Text = ""
    withheld: str = ""

    def says(self, subject: S) -> str:
        return say(self.message, subject)


@dataclass(frozen=True)
class Rules(Generic[S]):
    """A check of a subject by ``rules`` in order: the first broken one fails it. When none
    is, ``then`` (a further check of the subject) decides, or the check passes with
    ``passed`` and the subject as its value. ``withheld`` (text, or a function of the
    subject): what an item building on this one says when a rule without its own
    ``withheld`` is broken."""

    rules: tuple[Rule[S], ...]
    passed: Text = ""
    then: Callable[[S], Outcome] | None = None
    withheld: Text = ""

    def __call__(self, subject: S) -> Outcome:
        for rule in self.rules:
            if rule.broken(subject):
                withheld = rule.withheld or say(self.withheld, subject)
                return Outcome.failed(rule.says(subject), say(rule.hint, subject), withheld)
        if self.then is not None:
            return self.then(subject)
        return Outcome.ok(say(self.passed, subject), value=subject)


def broken_messages(rules: tuple[Rule[S], ...], subject: S) -> list[str]:
    """The message of every rule of ``rules`` that ``subject`` breaks, in order."""
    return [rule.says(subject) for rule in rules if rule.broken(subject)]


def first_instance(kind: type, among: Any) -> Any:
    """The first object of class ``kind`` in ``among`` (a list or tuple, or one object),
    or None."""
    candidates = list(among) if isinstance(among, list | tuple) else [among]
    return next((candidate for candidate in candidates if isinstance(candidate, kind)), None)
