"""Every notebook cell that calls a figure helper shows an image.

A Matplotlib figure that goes nowhere fails silently: with the wrong backend
(``agg``), ``plt.show()`` draws nothing and raises nothing. So for every cell that nbval
executes, a cell whose code calls one of :data:`course_utils.FIGURE_HELPERS` fails unless
one of its outputs is a PNG image. The browser run of every student notebook applies the
same check to what JupyterLab shows.

A cell is read as text: a helper called in a string, or in a loop that runs no time,
counts as called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pytest

from course_utils import FIGURE_HELPERS
from tests.plugins.tiers import is_notebook_cell

_CALL = re.compile(r"\b(" + "|".join(map(re.escape, FIGURE_HELPERS)) + r")\s*\(")
_COMMENT = re.compile(r"#.*$", re.M)


def figure_helpers_called(source: str) -> list[str]:
    """The figure helpers that the code ``source`` calls (comments left out), in order."""
    return _CALL.findall(_COMMENT.sub("", source))


def shows_an_image(outputs: Iterable[Mapping]) -> bool:
    """Whether one of a cell's ``outputs`` (nbformat output dicts) is a PNG image."""
    return any("image/png" in output.get("data", {}) for output in outputs)


def missing_figure(source: str, outputs: Iterable[Mapping]) -> str | None:
    """What is wrong when the code ``source`` calls a figure helper and its ``outputs``
    hold no image; None when nothing is."""
    called = figure_helpers_called(source)
    outputs = list(outputs)
    if not called or shows_an_image(outputs):
        return None
    kinds = sorted({o.get("output_type", "?") for o in outputs}) or ["none"]
    return (
        f"the cell calls {', '.join(dict.fromkeys(called))} but shows no image "
        f"(its outputs: {', '.join(kinds)}); is Matplotlib's backend inline?"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After nbval runs a cell (an item with ``cell`` and ``test_outputs``), fail it when it
    calls a figure helper and shows no image."""
    result = yield
    if not is_notebook_cell(item):
        return result
    cell, outputs = getattr(item, "cell", None), getattr(item, "test_outputs", None)
    if cell is None or outputs is None:  # nbval changed: this check would see nothing
        pytest.fail(f"{item.nodeid}: nbval's item has no cell and test_outputs to check")
    problem = missing_figure(cell.source, outputs)
    if problem:
        pytest.fail(f"{item.nodeid}: {problem}", pytrace=False)
    return result
