"""The student's path in a real browser: the course's JupyterLab launcher serves lesson 01's
solution, headless
Chromium (driven by Playwright, through Debian's ``chromium``, no browser download) runs all
of its cells, and the test reads what the student would see.

Screenshots and the server log land in ``artifacts/browser/`` (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_utils.dataset_browsing import WIDGET_CLASS as BROWSER_CLASS
from course_utils.live_plot import WIDGET_CLASS as LIVE_PLOT_CLASS
from course_utils.release import LESSONS, REPO_ROOT
from tests.lab_server import running_lab

LESSON = "01_sequential_basics.ipynb"
ARTIFACTS = REPO_ROOT / "artifacts" / "browser"
CHROMIUM_ENV_VAR = "KERAS_COURSE_CHROMIUM"
RUN_TIMEOUT_MS = 480_000

# JavaScript run in the page: JupyterLab exposes its application object as window.jupyterapp
# (--LabApp.expose_app_in_browser), so the test reads the notebook's model, not pixels.
KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""
RUN_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  let pending = 0;
  const errors = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    if (!cell.executionCount) pending++;
    for (let j = 0; j < cell.outputs.length; j++) {
      const output = cell.outputs.get(j);
      if (output.type === 'error') {
        errors.push(`cell ${i}: ${output.toJSON().ename}: ${output.toJSON().evalue}`);
      }
    }
  }
  return {busy: panel.sessionContext.session.kernel.status !== 'idle', pending, errors};
}"""


def chromium_path() -> str:
    """The Chromium to drive: ``$KERAS_COURSE_CHROMIUM``, else ``chromium`` on the PATH."""
    candidates = [os.environ.get(CHROMIUM_ENV_VAR, "")]
    candidates += [shutil.which(name) or "" for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "No Chromium found for the browser test (looked at $KERAS_COURSE_CHROMIUM, `chromium` "
        "and `chromium-browser` on the PATH). `./course test` installs it with apt-get "
        "(scripts/install-system-packages.sh); elsewhere install Debian's `chromium` package "
        "or point KERAS_COURSE_CHROMIUM at a Chromium or Chrome binary."
    )


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """JupyterLab on 127.0.0.1 (random port, random token) over a copy of lessons/, so that
    running and autosaving never touch the committed notebooks. Yields (url, root)."""
    root = tmp_path / "lessons"
    shutil.copytree(LESSONS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp_path / "settings" / "@jupyterlab"
    # Every cell stays in the page (no virtual scrolling), so the widgets can be found.
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}'
    )
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings.parent),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    # The learner's launcher (`./course lab`), rooted at the copy.
    arguments = [f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    log = tmp_path / "jupyterlab.log"
    try:
        with running_lab(log, arguments, env) as server:
            yield f"{server.base}/lab/tree/solutions/{LESSON}?token={server.token}", root
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if log.exists():
            shutil.copyfile(log, ARTIFACTS / "jupyterlab.log")


def test_lesson_01_runs_in_jupyterlab_with_its_widgets_and_graded_report(jupyterlab):
    """Does a student who opens lesson 01 in JupyterLab and runs all cells see no error,
    the dataset browsers and the live training plot drawn as widgets, the passed report of
    the graded check, and no news prompt?"""
    from playwright.sync_api import sync_playwright

    url, _ = jupyterlab
    executable = chromium_path()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    arguments = ["--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        arguments.append("--no-sandbox")  # Chromium refuses its sandbox as root
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=arguments)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(url)
            page.wait_for_function(KERNEL_IDLE, timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(
                f"() => {{ const s = ({RUN_STATE})(); "
                "return s.errors.length > 0 || (!s.busy && s.pending === 0); }",
                timeout=RUN_TIMEOUT_MS,
                polling=500,
            )
            state = page.evaluate(RUN_STATE)
            assert state["errors"] == [], f"error output in the notebook: {state['errors']}"

            live_plot = page.locator(f".{LIVE_PLOT_CLASS}")
            assert live_plot.count() == 1, "the live training plot did not render as a widget"
            assert "epoch 3 of 3" in live_plot.inner_text()
            plot_image = live_plot.locator("img")
            plot_image.wait_for(state="visible")
            assert plot_image.evaluate("img => img.naturalWidth") > 300  # the curves, drawn

            browsers = page.locator(f".{BROWSER_CLASS}")
            assert browsers.count() == 2, "the two dataset browsers did not render as widgets"
            first, predictions = browsers.nth(0), browsers.nth(1)
            assert first.locator("img").count() == 24  # the first page of training images
            assert "images 1-24 of 3000" in first.inner_text()
            assert " / " in predictions.inner_text()  # tiles read "true / predicted"

            report = page.locator(".keras-course-report")
            assert report.count() == 1, "the graded check did not render its HTML report"
            assert report.get_attribute("data-status") == "passed", report.inner_text()

            assert page.get_by_text("Jupyter news").count() == 0  # no prompt for learners

            live_plot.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "lesson01_live_plot.png"))
            first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "lesson01_dataset_browser.png"))
            report.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "lesson01_report.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lesson01_failure.png"))
            raise
        finally:
            browser.close()


def test_a_missing_chromium_fails_the_test_with_how_to_install_it(monkeypatch):
    """Without a browser, does the browser test fail (not skip) and say how to get one?"""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(CHROMIUM_ENV_VAR, raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get"):
        chromium_path()
