"""Tests of an exercise as named items (graders.exercise_items) and of a ModelExercise's
extra items: what an item says while the object it needs is None or unusable, an item
that builds on a failed one ("not checked"), and strict mode applied once, to the whole
report."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graders.cell_errors import CellFailure, reported_failures
from graders.exercise_items import Item, ItemExercise, Need, Outcome, grade_items
from graders.lesson01 import EXERCISE_1 as LESSON_01
from graders.model_exercise import ModelExercise
from graders.report import STRICT_ENV_VAR, GradingFailed
from graders.rules import Rule, Rules

pytestmark = pytest.mark.unit

NUMBER = Need(
    "number",
    todo="set number = 3",
    valid=lambda value: isinstance(value, int),
    invalid=lambda value: f"expected number to be an int, found {type(value).__name__}",
    hint="number = 3",
)
POSITIVE = Rules(
    rules=(Rule(lambda n: n <= 0, lambda n: f"{n} is not positive", "Use 3.", withheld="no sign"),),
    passed=lambda n: f"{n} is positive",
)
ODD = Rules(rules=(Rule(lambda n: n % 2 == 0, "even", "Use an odd number."),), passed="odd")


def _items(**changes) -> tuple[Item, ...]:
    positive = Item("positive", 2, POSITIVE, subject=lambda found: found["number"], needs=(NUMBER,))
    odd = Item("odd", 1, ODD, subject=lambda found: found["number"], needs=(NUMBER,))
    return (positive, replace(odd, **changes))


def _by_name(results):
    return {r.name: r for r in results}


def test_items_pass_with_their_own_messages():
    results = _by_name(grade_items(_items(), {"number": 3}))
    assert (results["positive"].status, results["positive"].message) == ("passed", "3 is positive")
    assert (results["odd"].status, results["odd"].points) == ("passed", 1)


def test_an_object_still_none_makes_every_item_that_needs_it_not_attempted():
    results = grade_items(_items(), {"number": None})
    assert [(r.status, r.message) for r in results] == [
        ("not attempted", "number is still None: set number = 3"),
        ("not attempted", "number is still None: set number = 3"),
    ]


def test_a_failed_cell_is_named_once_and_the_items_after_it_point_there():
    """When the cell that sets the object raised, does the first item waiting on it name
    the error, and the next one point to that item, as graders.common.still_none does?"""
    failure = CellFailure(ValueError("bad number"), "number = int('x')")
    with reported_failures({"number": failure}):
        results = grade_items(_items(), {"number": None})
    assert results[0].status == "failed"
    assert results[0].message == "your cell that sets number raised ValueError: bad number"
    assert results[1].message == (
        "not checked: your cell that sets number did not finish (see 'positive')"
    )


def test_an_unusable_object_fails_every_item_with_the_need_s_words():
    results = grade_items(_items(), {"number": "3"})
    assert {(r.status, r.message, r.hint) for r in results} == {
        ("failed", "expected number to be an int, found str", "number = 3")
    }


def test_an_item_that_uses_a_failed_one_is_not_checked_in_that_item_s_words():
    """An item that uses another's value: is it checked on that value when the other
    passed, and "not checked", in the other's words, when it failed?"""
    items = _items(uses=("positive",), subject=lambda found: found.value("positive"))
    assert _by_name(grade_items(items, {"number": 3}))["odd"].status == "passed"
    results = _by_name(grade_items(items, {"number": -3}))
    assert results["positive"].message == "-3 is not positive"
    assert (results["odd"].status, results["odd"].message) == ("failed", "no sign")


def test_a_dependency_without_words_of_its_own_says_see_that_item():
    fails = Item("first", 1, Rules((Rule(lambda _: True, "wrong"),)), needs=(NUMBER,))
    second = Item("second", 1, ODD, uses=("first",), needs=(NUMBER,))
    results = grade_items((fails, second), {"number": 3})
    assert results[1].message == "not checked: see 'first'"


def test_a_pass_that_trusts_a_failed_item_proves_nothing():
    """An item that trusts another: does its pass fail with that item's words, and its own
    failure's hint start by fixing that item?"""
    sign = Item("sign", 1, POSITIVE, subject=lambda found: found["number"], needs=(NUMBER,))
    parity = Item("parity", 1, ODD, subject=lambda found: found["number"], trusts=("sign",))
    passed = _by_name(grade_items((sign, parity), {"number": -3}))["parity"]
    assert (passed.status, passed.message, passed.hint) == ("failed", "no sign", "")
    failed = _by_name(grade_items((sign, parity), {"number": -4}))["parity"]
    assert (failed.message, failed.hint) == (
        "even",
        "Fix the sign first (see 'sign'). Use an odd number.",
    )


def test_rules_then_decides_after_every_rule_holds():
    """Rules with a further check (then): is it reached only when no rule is broken, and
    does a broken rule's own withheld win over the check's?"""
    then = Rules((Rule(lambda n: n > 10, "too large", withheld="no size"),), passed="small")
    check = Rules(POSITIVE.rules, then=then, withheld="no sign at all")
    assert check(3) == Outcome.ok("small", value=3)
    assert check(30) == Outcome.failed("too large", withheld="no size")
    assert check(-1).withheld == "no sign"


def test_strict_mode_judges_the_whole_report_once(monkeypatch):
    """In strict mode, does an item exercise raise once, with every item in the report?"""
    monkeypatch.setenv(STRICT_ENV_VAR, "1")
    exercise = ItemExercise("Numbers", _items())
    with pytest.raises(GradingFailed) as raised:
        exercise.grade(number=-4)
    assert "positive [0/2]" in str(raised.value) and "odd [0/1]" in str(raised.value)
    assert exercise.grade(number=3).points == exercise.max_points == 3


def _with_extras(*extra: Item) -> ModelExercise:
    return replace(LESSON_01, extra_items=extra)


def test_extra_items_are_placed_by_the_name_of_the_item_they_follow():
    """Does a ModelExercise put an extra item right after the model item its after names,
    and one without after at the end, on the learner's further objects by name?"""
    exercise = _with_extras(
        Item("sign", 1, POSITIVE, subject=lambda found: found["number"], needs=(NUMBER,)),
        Item("parity", 1, ODD, subject=lambda found: found["number"], after="layers"),
    )
    report = exercise.grade(None, None, number=3)
    names = [r.name for r in report.results]
    assert names[:3] == ["input shape", "layers", "parity"]
    assert names[-1] == "sign" and report.results[-1].status == "passed"
    assert exercise.max_points == LESSON_01.max_points + 2


def test_an_extra_item_after_no_item_of_the_exercise_is_refused():
    with pytest.raises(ValueError, match="follow no item of the exercise"):
        _with_extras(Item("parity", 1, ODD, after="reported test accuracy"))


def test_strict_mode_sees_a_model_exercise_s_extra_items_too(monkeypatch):
    """In strict mode, does a ModelExercise raise once, after its extra items are in (not
    with the model's items alone)?"""
    monkeypatch.setenv(STRICT_ENV_VAR, "1")
    exercise = _with_extras(
        Item("sign", 1, POSITIVE, subject=lambda found: found["number"], needs=(NUMBER,))
    )
    with pytest.raises(GradingFailed, match="number is still None"):
        exercise.grade(None, None, number=None)
