"""Tests of the quizzes: right and wrong answers, feedback text, headless rendering."""

from __future__ import annotations

import pytest

from course_utils.quizzes import number_quiz, quiz

pytestmark = pytest.mark.unit


def test_choice_quiz_marks_right_and_wrong_answers_with_the_explanation():
    """Does pressing Check say "Correct." with the explanation, or "Not quite."?"""
    q = quiz(
        "Which layer has no parameters?", ["Dense", "Flatten"], "Flatten", "Flatten only reshapes."
    )
    q.answer_widget.value = "Dense"
    q.button.click()
    assert "Not quite." in q.feedback.value and "Flatten only" not in q.feedback.value
    q.answer_widget.value = "Flatten"
    q.button.click()
    assert "Correct." in q.feedback.value and "Flatten only reshapes." in q.feedback.value


def test_choice_quiz_without_a_pick_asks_for_one():
    """Does Check without a pick ask the learner to pick an option?"""
    q = quiz("?", ["a", "b"], "a", "because")
    q.button.click()
    assert "Pick an option first." in q.feedback.value


def test_choice_quiz_refuses_an_answer_that_is_not_an_option():
    """Is a quiz whose answer is not among its options refused when it is written?"""
    with pytest.raises(ValueError, match="not among the options"):
        quiz("?", ["a", "b"], "c", "")


def test_number_quiz_uses_the_tolerance_and_says_which_way_is_off():
    """Is a number within tolerance right, and a wrong one told "too high" or "too low"?"""
    q = number_quiz("Parameters of Dense(10) on 5 inputs?", 60, "(5 + 1) * 10 = 60")
    q.answer_widget.value = 50
    q.button.click()
    assert "too low" in q.feedback.value
    q.answer_widget.value = 61
    q.button.click()
    assert "too high" in q.feedback.value
    q.answer_widget.value = 60
    q.button.click()
    assert "Correct." in q.feedback.value and "(5 + 1) * 10 = 60" in q.feedback.value
    assert number_quiz("?", 0.5, "", tolerance=0.01).check(0.505)


def test_quiz_renders_as_text_without_a_front_end():
    """Does a quiz have a readable text form for headless runs?"""
    assert repr(quiz("What is 2 + 2?", ["4", "5"], "4", "")) == "Quiz: What is 2 + 2?"
