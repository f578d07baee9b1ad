"""Graded checks for the course's exercises.

In a notebook, call the lesson's check as the last line of the graded cell, e.g.
``check_exercise_1(model, history)``; it returns a :class:`~graders.report.Report` that
renders as a table in JupyterLab, as text in a terminal, and as JSON via ``to_json()``.
"""

from graders.report import CheckResult, GradingFailed, Report

__all__ = ["CheckResult", "GradingFailed", "Report"]
