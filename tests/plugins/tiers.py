"""The suite's tiers: every test carries one of :data:`TIERS`, declared as a pytest marker
(``--strict-markers`` refuses any other), so that a part of the suite can be chosen by
what it needs.

A test module says its tier with ``pytestmark = pytest.mark.TIER``; a test that needs more
than its module's tier adds its own marker. Notebook cells executed by nbval are
``notebook`` tests. A test with no tier stops the run at collection, naming its file.

``--quick`` (``./course test --quick``, ``make test-quick``) runs the tests that need no
tier of :data:`SLOW_TIERS`: no notebook executed, no sandbox, no cluster, no browser.
"""

from __future__ import annotations

import pytest

TIERS = {
    "unit": "no TensorFlow model trained, no notebook, no process of the grader",
    "model": "builds or trains real TensorFlow models in the test's own process",
    "notebook": "executes notebooks in a Jupyter kernel (nbval, nbclient, the lab)",
    "sandbox": "runs the batch grader or its bubblewrap sandboxes",
    "cluster": "runs the batch grader on a Dask cluster on 127.0.0.1",
    "browser": "drives JupyterLab in headless Chromium",
}
"""Each tier and what a test of it needs."""

SLOW_TIERS = ("notebook", "sandbox", "cluster", "browser")
"""The tiers that ``--quick`` leaves out."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick",
        action="store_true",
        help=f"run only the tests of no tier in {', '.join(SLOW_TIERS)} (minutes, not tens)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, description in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def tiers_of(item: pytest.Item) -> set[str]:
    """The tiers that ``item`` is marked with (its own markers and its module's)."""
    return {marker.name for marker in item.iter_markers() if marker.name in TIERS}


def is_notebook_cell(item: pytest.Item) -> bool:
    """Whether ``item`` is a cell of a notebook that nbval runs."""
    return item.path.suffix == ".ipynb"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark nbval's cells ``notebook``; refuse a test without a tier; with ``--quick``,
    deselect every test of a tier in :data:`SLOW_TIERS`."""
    untiered = set()
    for item in items:
        if is_notebook_cell(item):
            item.add_marker("notebook")
        elif not tiers_of(item):
            untiered.add(str(item.path.relative_to(config.rootpath)))
    if untiered:
        raise pytest.UsageError(
            "every test needs a tier, one of " + ", ".join(TIERS) + " (a module's "
            "`pytestmark = pytest.mark.TIER`); none found in: " + ", ".join(sorted(untiered))
        )
    if config.getoption("quick"):
        slow = {item for item in items if tiers_of(item) & set(SLOW_TIERS)}
        kept = [item for item in items if item not in slow]
        deselected = [item for item in items if item in slow]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = kept
