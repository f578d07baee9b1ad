"""Short quizzes with instant feedback: multiple choice, or a number (a shape, a count).

Each quiz is an ipywidgets box: pick or type an answer, press "Check", read whether it is
right and why. Headless (nbval, nbconvert) the box renders as its text form and nothing
waits for input. The answer logic lives in plain methods, so it is testable without a
browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from course_utils.language import translate

_RIGHT = "#1a7f37"
_WRONG = "#cf222e"


class _Quiz:
    """Shared parts: the question, the check button and the feedback line."""

    def __init__(self, question: str, explanation: str, answer_widget: widgets.Widget) -> None:
        self.question = question
        self.explanation = explanation
        self.answer_widget = answer_widget
        self.feedback = widgets.HTML(value="")
        self.button = widgets.Button(description=translate("Check"), button_style="primary")
        self.button.on_click(lambda _: self._show(self.check(self.answer_widget.value)))
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<b>{html.escape(question)}</b>"),
                answer_widget,
                self.button,
                self.feedback,
            ]
        )

    def check(self, value: object) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show(self, correct: bool) -> None:
        colour, verdict = (
            (_RIGHT, translate("Correct.")) if correct else (_WRONG, translate("Not quite."))
        )
        hint = self.explanation if correct else self._hint()
        self.feedback.value = (
            f'<span style="color:{colour};font-weight:bold">{verdict}</span> {html.escape(hint)}'
        )

    def _hint(self) -> str:
        return translate("Try again.")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return translate("Quiz: {question}", question=self.question)


class ChoiceQuiz(_Quiz):
    """A multiple-choice question with one right option."""

    def __init__(
        self, question: str, options: Sequence[str], answer: str, explanation: str
    ) -> None:
        if answer not in options:
            raise ValueError(f"the answer {answer!r} is not among the options {list(options)}")
        self.options = list(options)
        self.answer = answer
        # As wide as the longest option: in the default width (300 px) a long option wraps
        # onto a second line that overlaps the next option.
        choices = widgets.RadioButtons(
            options=self.options, value=None, layout=widgets.Layout(width="max-content")
        )
        super().__init__(question, explanation, choices)

    def check(self, value: object) -> bool:
        return value == self.answer

    def _hint(self) -> str:
        if self.answer_widget.value is None:
            return translate("Pick an option first.")
        return translate("Try again.")


class NumberQuiz(_Quiz):
    """A question whose answer is a number, right within ``tolerance``."""

    def __init__(
        self, question: str, answer: float, explanation: str, *, tolerance: float = 0.0
    ) -> None:
        self.answer = answer
        self.tolerance = tolerance
        super().__init__(question, explanation, widgets.FloatText(value=0.0))

    def check(self, value: object) -> bool:
        try:
            return abs(float(value) - self.answer) <= self.tolerance
        except (TypeError, ValueError):
            return False

    def _hint(self) -> str:
        value = float(self.answer_widget.value)
        if value > self.answer:
            return translate("{value:g} is too high. Try again.", value=value)
        return translate("{value:g} is too low. Try again.", value=value)


def quiz(question: str, options: Sequence[str], answer: str, explanation: str) -> ChoiceQuiz:
    """A multiple-choice quiz; display it as the last line of a cell."""
    return ChoiceQuiz(question, options, answer, explanation)


def number_quiz(
    question: str, answer: float, explanation: str, *, tolerance: float = 0.0
) -> NumberQuiz:
    """A quiz whose answer is a number (an output size, a parameter count)."""
    return NumberQuiz(question, answer, explanation, tolerance=tolerance)
