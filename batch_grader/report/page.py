"""The class report's page: ``report.html`` and its PNG figures in ``report_figures/``.

The page is self-contained but for the figures beside it (no script, no style sheet or font
from elsewhere) and links each student to look at to their ``feedback.html``. Every string
that a submission can influence (student names, messages, reasons) is escaped. Figures are
drawn by Matplotlib's Agg renderer, without pyplot, so no display or global state is used.
"""

from __future__ import annotations

import html
import io
import statistics
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from batch_grader.report.gradebooks import CANVAS, MOODLE
from batch_grader.report.summary import UNREADABLE, ClassSummary, status_meaning
from batch_grader.trusted.results import FEEDBACK, GRADED, GRADES, student_folder
from course_utils.figure_fonts import add_fallback_fonts
from data_loaders.cache import atomic_write_bytes

PAGE = "report.html"
FIGURES = "report_figures"
MAX_MESSAGES = 25
"""The most failing messages the page lists (the most frequent ones)."""

COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "not attempted": "#8c959f"}
BAR = "#0969da"
DPI = 100


def _text(value: str) -> str:
    """``value`` safe to draw: Matplotlib reads ``$...$`` as mathematics."""
    return value.replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    add_fallback_fonts()  # the titles of a batch graded with --lang zh
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _bins(maximum: float) -> np.ndarray:
    """The edges of eleven equal bins centred on 0, a tenth of ``maximum``, ..., and
    ``maximum`` points (one bin around 0 when there are no points)."""
    step = maximum / 10 if maximum > 0 else 1.0
    return np.linspace(-step / 2, maximum + step / 2, 12) if maximum > 0 else np.array([-0.5, 0.5])


def scores_figure(summary: ClassSummary) -> tuple[bytes, str]:
    """A histogram of each exercise's scores, and of the totals when there are several
    exercises; returns the PNG and its alt text."""
    panels = summary.score_columns
    columns = min(len(panels), 2) or 1
    rows = max(1, -(-len(panels) // columns))
    width = 7.0 if columns == 1 else 5.2 * columns
    figure = Figure(figsize=(width, 2.9 * rows), layout="constrained")
    described = []
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        edges = _bins(panel.max_score)
        counts, _ = np.histogram(np.clip(panel.scores, edges[0], edges[-1]), bins=edges)
        step = edges[1] - edges[0]
        axes.bar(edges[:-1] + step / 2, counts, width=step * 0.85, color=BAR)
        axes.set_title(_text(f"{panel.title} (out of {panel.max_score:g})"), fontsize=10)
        axes.set_xlabel("points")
        axes.set_ylabel("students")
        axes.set_xlim(edges[0], edges[-1])
        axes.yaxis.get_major_locator().set_params(integer=True)
        exact = Counter(panel.scores)
        described.append(
            f"{panel.title}: "
            + ", ".join(
                f"{count} at {score:g}" for score, count in sorted(exact.items(), reverse=True)
            )
        )
    alt = "Histograms of the students' points. " + "; ".join(described) + "."
    return _png(figure), alt


def items_figure(summary: ClassSummary) -> tuple[bytes, str]:
    """One horizontal bar per check item: how many students passed, failed and did not
    attempt it; returns the PNG and its alt text."""
    items = list(summary.items)
    several = len({item.grade_id for item in items}) > 1
    labels = [
        _text(f"{item.exercise.split(' · ')[0]} · {item.name}" if several else item.name)
        for item in items
    ]
    height = 1.2 + 0.38 * max(len(items), 1)
    figure = Figure(figsize=(10.4, height), layout="constrained")
    axes = figure.add_subplot()
    positions = np.arange(len(items))[::-1]
    left = np.zeros(len(items))
    for status, attribute in (
        ("passed", "passed"),
        ("failed", "failed"),
        ("not attempted", "not_attempted"),
    ):
        values = np.array([getattr(item, attribute) for item in items], dtype=float)
        axes.barh(positions, values, left=left, color=COLOURS[status], label=status, height=0.7)
        left += values
    axes.set_yticks(positions, labels, fontsize=9)
    axes.set_xlabel("students")
    axes.xaxis.get_major_locator().set_params(integer=True)
    figure.legend(loc="outside upper center", fontsize=9, ncols=3, frameon=False)
    alt = "Bars of each check item. " + "; ".join(
        f"{item.exercise}, {item.name}: {item.passed} passed, {item.failed} failed, "
        f"{item.not_attempted} not attempted"
        for item in items
    )
    return _png(figure), alt + "."


def time_figure(summary: ClassSummary) -> tuple[bytes, str]:
    """A histogram of the grading time of each submission, with the median marked;
    returns the PNG and its alt text."""
    seconds = np.array(summary.seconds, dtype=float)
    figure = Figure(figsize=(10.4, 2.8), layout="constrained")
    axes = figure.add_subplot()
    top = float(seconds.max()) if seconds.size else 1.0
    edges = np.linspace(0.0, max(top, 1.0), 21)
    axes.hist(seconds, bins=edges, color=BAR, rwidth=0.9)
    median = float(np.median(seconds)) if seconds.size else 0.0
    axes.axvline(median, color="#24292f", linestyle="--", linewidth=1)
    axes.annotate(
        f"median {median:.0f} s",
        (median, 1),
        xycoords=("data", "axes fraction"),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        fontsize=9,
    )
    axes.set_xlabel("seconds to grade one submission")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    alt = (
        f"Histogram of the grading time of {seconds.size} submissions: median {median:.0f} s, "
        f"the longest {top:.0f} s."
    )
    return _png(figure), alt


# -- the page ----------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f;
       max-width: 72em; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #d0d7de; }
.lead { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.6em; vertical-align: top;
         text-align: left; }
th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.none td { color: #8c959f; }
td.message { max-width: 44em; } td.check { max-width: 16em; }
.wordings { color: #57606a; font-size: 0.9em; }
img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
ul.why { margin: 0; padding-left: 1.2em; }
.note { color: #57606a; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(head: list[str], rows: list[str]) -> str:
    cells = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(name: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{FIGURES}/{name}" alt="{_e(alt)}">'
        f"<figcaption class='note'>{_e(caption)}</figcaption></figure>"
    )


def _statuses(summary: ClassSummary) -> str:
    rows = []
    for status, count in summary.statuses:
        meaning = status_meaning(status)
        css = "" if count else " class='none'"
        rows.append(
            f"<tr{css}><td>{_e(status)}</td><td class='n'>{count}</td><td>{_e(meaning)}</td></tr>"
        )
    return _table(["status", "students", "what it means"], rows)


def _scores_table(summary: ClassSummary) -> str:
    rows = []
    for column in summary.score_columns:
        scores = column.scores or (0.0,)
        full = sum(1 for s in column.scores if s >= column.max_score > 0)
        zero = sum(1 for s in column.scores if s == 0)
        rows.append(
            f"<tr><td>{_e(column.title)}</td><td class='n'>{column.max_score:g}</td>"
            f"<td class='n'>{statistics.mean(scores):.1f}</td>"
            f"<td class='n'>{statistics.median(scores):g}</td>"
            f"<td class='n'>{full}</td><td class='n'>{zero}</td></tr>"
        )
    return _table(["exercise", "points", "mean", "median", "full marks", "zero"], rows)


def _failing(summary: ClassSummary) -> str:
    if not summary.failing:
        return "<p>No check failed for anyone.</p>"
    several = len(summary.exercises) > 1  # else the exercise column says nothing
    rows = []
    for failing in summary.failing[:MAX_MESSAGES]:
        wordings = (
            f"<br><span class='wordings'>{failing.wordings} wordings that differ in their "
            "figures; the most frequent one</span>"
            if failing.wordings > 1
            else ""
        )
        exercise = f"<td>{_e(failing.exercise)}</td>" if several else ""
        rows.append(
            f"<tr><td class='n'>{failing.students}</td>{exercise}"
            f"<td class='check'>{_e(', '.join(failing.items))}</td>"
            f"<td class='message'>{_e(failing.message)}"
            f"{wordings}</td></tr>"
        )
    head = ["students", *(["exercise"] if several else []), "check", "message"]
    table = _table(head, rows)
    rest = len(summary.failing) - MAX_MESSAGES
    more = f"<p class='note'>And {rest} rarer message(s), in each student's feedback.</p>"
    return table + (more if rest > 0 else "")


def _feedback_link(student: str, has_feedback: bool) -> str:
    if not has_feedback:
        return _e(student)
    href = (student_folder(Path(), quote(student)) / FEEDBACK).as_posix()
    return f'<a href="{_e(href)}">{_e(student)}</a>'


def _look_at(summary: ClassSummary) -> str:
    if not summary.look_at:
        return "<p>No one: every submission was graded, and no model leads on the test split.</p>"
    rows = []
    for row in summary.look_at:
        why = "".join(f"<li>{_e(reason)}</li>" for reason in row.why)
        score = f"{row.score:g} / {row.max_score:g}" if row.status != UNREADABLE else ""
        rows.append(
            f"<tr><td>{_feedback_link(row.student, row.has_feedback)}</td>"
            f"<td>{_e(row.status)}</td><td class='n'>{_e(score)}</td>"
            f"<td><ul class='why'>{why}</ul></td></tr>"
        )
    return _table(["student", "status", "points", "why"], rows)


def _timing(summary: ClassSummary) -> str:
    seconds = summary.seconds
    if not seconds:
        return ""
    slowest = max(summary.results, key=lambda r: r.seconds)
    text = (
        f"Median {statistics.median(seconds):.0f} s a submission, the longest "
        f"{slowest.seconds:.0f} s ({_e(slowest.student)}); {sum(seconds) / 60:.1f} minutes "
        "in all."
    )
    memory = [r.peak_memory_mb for r in summary.results if r.peak_memory_mb is not None]
    if memory:
        text += (
            f" The most memory one sandbox held: median {statistics.median(memory):.0f} MiB, "
            f"at most {max(memory):.0f} MiB."
        )
    return f"<p>{text}</p>"


def page_html(summary: ClassSummary, alts: dict[str, str]) -> str:
    """The page of ``summary``, its figures' ``alt`` texts by file name."""
    results = summary.results
    graded = sum(1 for r in results if r.status == GRADED)
    mean = statistics.mean(summary.totals) if results else 0.0
    heading = f"Class report · {summary.heading}"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lead = (
        f"{len(results)} submission(s), {graded} graded to the end; mean {mean:.1f} of "
        f"{summary.max_total:g} points. {len(summary.look_at)} student(s) to look at. "
        f"From {summary.folder} on {made}."
    )
    downloads = " · ".join(f'<a href="{name}">{name}</a>' for name in (GRADES, CANVAS, MOODLE))
    sections = [
        f"<h1>{_e(heading)}</h1><p class='lead'>{_e(lead)}</p>",
        f"<p>Grades: {downloads} (see the README's “Grading a class” for the layouts).</p>",
        "<h2 id='look-at'>Students to look at</h2>",
        _look_at(summary),
        "<h2 id='statuses'>Statuses</h2>",
        _statuses(summary),
        "<h2 id='scores'>Scores</h2>",
        _scores_table(summary),
        _figure(
            "scores.png",
            alts["scores.png"],
            "Points of each exercise: each bar counts the students within a twentieth of the "
            "maximum of its value.",
        ),
        "<h2 id='items'>Check items</h2>",
        _figure(
            "check_items.png",
            alts["check_items.png"],
            "Each check of each exercise: the students who passed it, failed it, or did not "
            "attempt it. “graded cell” counts the submissions whose graded cell could not be "
            "checked at all (deleted, never run, not a notebook, the grader's failure).",
        ),
        "<h2 id='messages'>Most frequent failing messages</h2>",
        "<p class='note'>What the class got wrong, in the checks' own words: the number of "
        "students each message was given to.</p>",
        _failing(summary),
        "<h2 id='time'>Grading time</h2>",
        _timing(summary),
        _figure("grading_time.png", alts["grading_time.png"], "Seconds to grade each submission."),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(heading)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )


def write_report(summary: ClassSummary, folder: Path) -> list[Path]:
    """Write the figures, then ``report.html``, into ``folder``, each atomically; returns
    the paths written (the page first)."""
    figures = {
        "scores.png": scores_figure(summary),
        "check_items.png": items_figure(summary),
        "grading_time.png": time_figure(summary),
    }
    written = []
    for name, (png, _) in figures.items():
        atomic_write_bytes(folder / FIGURES / name, png)
        written.append(folder / FIGURES / name)
    page = page_html(summary, {name: alt for name, (_, alt) in figures.items()})
    atomic_write_bytes(folder / PAGE, page.encode())
    return [folder / PAGE, *written]
