"""The report a check returns: named results with points, status and readable messages.

A :class:`Report` renders as HTML in JupyterLab (``_repr_html_``), as plain text in a
terminal (``str``), and as JSON for tools (``to_json``). Displayed in a notebook, its
output carries all three (:meth:`Report.mime_bundle`), the JSON under :data:`REPORT_MIME`,
so that a tool reading an executed notebook (``./course test`` in the student edition,
the batch grader's executed notebooks) gets the report itself rather than its text.
"""

from __future__ import annotations

import functools
import html
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal, ParamSpec

from course_utils.language import translate

Status = Literal["passed", "failed", "not attempted"]

_SYMBOLS = {"passed": "✔", "failed": "✘", "not attempted": "○"}
_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "not attempted": "#6e7781"}

REPORT_MIME = "application/vnd.keras-course.report+json"
"""The MIME type of a report's JSON (:meth:`Report.to_dict`) in a notebook's outputs."""

STRICT_ENV_VAR = "KERAS_COURSE_STRICT"
"""When this environment variable is ``1``, a report that is not full marks raises
:class:`GradingFailed` (for graders such as nbgrader that score a cell by whether it
raises)."""


class GradingFailed(AssertionError):
    """Raised in strict mode when a report does not earn full marks."""


@dataclass(frozen=True)
class CheckResult:
    """One named result: what was expected, what was found, and a hint to fix it.

    ``points`` is what this result earned, out of ``max_points``.
    """

    name: str
    status: Status
    points: float
    max_points: float
    message: str
    hint: str = ""

    @classmethod
    def passed(cls, name: str, max_points: float, message: str) -> CheckResult:
        return cls(name, "passed", max_points, max_points, message)

    @classmethod
    def failed(cls, name: str, max_points: float, message: str, hint: str = "") -> CheckResult:
        return cls(name, "failed", 0.0, max_points, message, hint)

    @classmethod
    def not_attempted(cls, name: str, max_points: float, message: str) -> CheckResult:
        return cls(name, "not attempted", 0.0, max_points, message)


@dataclass
class Report:
    """The outcome of one exercise's check: a title and its results, in order."""

    title: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.results}
        if statuses == {"not attempted"}:
            return "not attempted"
        return "passed" if statuses == {"passed"} else "failed"

    def to_dict(self) -> dict:
        """A JSON-ready dict: title, status, points, max_points and every result."""
        return {
            "title": self.title,
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "results": [asdict(r) for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: object) -> Report:
        """The report that :meth:`to_dict` gave ``data``; raises ValueError, saying what is
        wrong, for anything else (a status or points that do not add up included)."""
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise ValueError(f"expected a report dict with results, found {str(data)[:100]}")
        results = []
        for item in data["results"]:
            if not isinstance(item, dict):
                raise ValueError(f"expected a result dict, found {str(item)[:100]}")
            try:
                result = CheckResult(
                    str(item["name"]),
                    item["status"],
                    float(item["points"]),
                    float(item["max_points"]),
                    str(item["message"]),
                    str(item.get("hint", "")),
                )
            except (KeyError, TypeError, ValueError, OverflowError) as error:
                raise ValueError(f"a result lacks {error}: {str(item)[:100]}") from error
            if result.status not in _SYMBOLS or not 0 <= result.points <= result.max_points:
                raise ValueError(f"a result's status or points are impossible: {item}")
            expected = result.max_points if result.status == "passed" else 0.0
            if result.points != expected:
                raise ValueError(f"a result's status does not match its points: {item}")
            results.append(result)
        return cls(str(data.get("title", "")), results)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def __str__(self) -> str:
        lines = [
            f"{self.title}: {status_label(self.status)} "
            f"({_fmt(self.points)}/{_fmt(self.max_points)})"
        ]
        for r in self.results:
            lines.append(f"  {_SYMBOLS[r.status]} {r.name} [{_score(r)}]: {r.message}")
            if r.hint:
                lines.append("      " + translate("hint: {hint}", hint=r.hint))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            hint = translate("Hint: {hint}", hint=html.escape(r.hint)) if r.hint else ""
            hint = f"<br><i>{hint}</i>" if hint else ""
            rows.append(
                "<tr>"
                f'<td style="color:{_COLOURS[r.status]};font-weight:bold">'
                f"{_SYMBOLS[r.status]} {html.escape(status_label(r.status))}</td>"
                f"<td>{html.escape(r.name)}</td>"
                f"<td>{html.escape(_score(r))}</td>"
                f'<td style="text-align:left">{html.escape(r.message)}{hint}</td>'
                "</tr>"
            )
        colour = _COLOURS[self.status]
        score = translate(
            "{points}/{max_points} points",
            points=_fmt(self.points),
            max_points=_fmt(self.max_points),
        )
        headers = (translate("Status"), translate("Check"), translate("Points"))
        return (
            f'<div class="keras-course-report" data-status="{html.escape(self.status)}">'
            f'<p style="color:{colour};font-weight:bold">{html.escape(self.title)}: '
            f"{html.escape(status_label(self.status))} ({html.escape(score)})</p>"
            "<table><thead><tr>"
            + "".join(f"<th>{html.escape(header)}</th>" for header in headers)
            + f'<th style="text-align:left">{html.escape(translate("Details"))}</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def mime_bundle(self) -> dict[str, object]:
        """The report as a notebook output's data: text, HTML and :data:`REPORT_MIME`."""
        return {
            "text/plain": str(self),
            "text/html": self._repr_html_(),
            REPORT_MIME: self.to_dict(),
        }

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, object]:
        return self.mime_bundle()

    def finish(self) -> Report:
        """Return the report, or raise :class:`GradingFailed` in strict mode when it is
        not full marks (see :data:`STRICT_ENV_VAR`)."""
        if os.environ.get(STRICT_ENV_VAR) == "1" and self.points < self.max_points:
            raise GradingFailed(str(self))
        return self


P = ParamSpec("P")


def finishes(check: Callable[P, Report]) -> Callable[P, Report]:
    """``check``, whose report goes through :meth:`Report.finish` once, where it returns:
    strict mode judges the whole report, never a part of it that the check goes on to
    complete."""

    @functools.wraps(check)
    def finished(*args: P.args, **kwargs: P.kwargs) -> Report:
        return check(*args, **kwargs).finish()

    return finished


def _fmt(value: float) -> str:
    return f"{value:g}"


def status_label(status: Status) -> str:
    """How a report shows ``status`` (the data, and ``data-status``, stay English)."""
    labels = {
        "passed": translate("passed"),
        "failed": translate("failed"),
        "not attempted": translate("not attempted"),
    }
    return labels[status]


def _score(result: CheckResult) -> str:
    """``points/max_points`` of ``result``; for a result worth no points (an exercise that
    reports something without grading it), a phrase instead of a puzzling 0/0."""
    if not result.max_points:
        return translate("no points, for information")
    return f"{_fmt(result.points)}/{_fmt(result.max_points)}"
