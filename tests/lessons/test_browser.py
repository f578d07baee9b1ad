"""The learner's path in a real browser: the course's JupyterLab launcher serves the
lessons, headless Chromium (driven by Playwright, through Debian's ``chromium``, no browser
download) opens each student notebook and runs its cells one by one on the small subset of
the data, then runs lesson 01's solution with its widgets, and the tests read what the
learner would see.

Screenshots and the server logs land in ``artifacts/browser/`` (ignored by git).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from course_utils.dataset_browsing import WIDGET_CLASS as BROWSER_CLASS
from course_utils.language import module_translations
from course_utils.lesson_files import LESSONS, REPO_ROOT
from course_utils.live_plot import WIDGET_CLASS as LIVE_PLOT_CLASS
from course_utils.student_notebooks import is_solution_cell, solution_paths
from data_loaders.small import SMALL_ENV_VAR
from graders.report import STRICT_ENV_VAR
from tests.lab_server import running_lab
from tests.plugins.figures import missing_figure

pytestmark = pytest.mark.browser

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
# The lab writes the kernel's language info into the notebook once the kernel has answered;
# then the notebook shows as modified if anything changed.
KERNEL_METADATA_WRITTEN = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const info = panel && panel.content.model && panel.content.model.getMetadata('language_info');
  return !!info && !!info.version;
}"""
MODIFIED = "() => window.jupyterapp.shell.currentWidget.context.model.dirty"
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


@contextmanager
def lab_over_a_copy(tmp_path: Path, **environment: str) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab on 127.0.0.1 (random port, random token) over a copy of lessons/, so that
    running and autosaving never touch the committed notebooks, with ``environment`` added
    to the server's (and so the kernels'). Yields (base url, token, root)."""
    root = tmp_path / "lessons"
    shutil.copytree(LESSONS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp_path / "settings" / "@jupyterlab"
    # Every cell stays in the page (no virtual scrolling), so the widgets can be found.
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}'
    )
    learner = {name: value for name, value in os.environ.items() if name != STRICT_ENV_VAR}
    env = dict(
        learner,
        JUPYTERLAB_SETTINGS_DIR=str(settings.parent),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        **environment,
    )
    # The learner's launcher (`./course lab`), rooted at the copy.
    arguments = [f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    log = tmp_path / "jupyterlab.log"
    try:
        with running_lab(log, arguments, env) as server:
            yield server.base, server.token, root
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if log.exists():
            shutil.copyfile(log, ARTIFACTS / f"jupyterlab_{tmp_path.name}.log")


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The lab over a copy of lessons/, at lesson 01's solution. Yields (url, root)."""
    with lab_over_a_copy(tmp_path) as (base, token, root):
        yield f"{base}/lab/tree/solutions/{LESSON}?token={token}", root


@contextmanager
def chromium_page() -> Iterator:
    """A Playwright page in headless Chromium, 1400 x 1000."""
    from playwright.sync_api import sync_playwright

    arguments = ["--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        arguments.append("--no-sandbox")  # Chromium refuses its sandbox as root
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=arguments)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def test_lesson_01_runs_in_jupyterlab_with_its_widgets_and_graded_report(jupyterlab):
    """Does a student who opens lesson 01 in JupyterLab and runs all cells see no error,
    the dataset browsers and the live training plot drawn as widgets, the passed report of
    the graded check, and no news prompt?"""
    url, _ = jupyterlab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
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


RUN_ALL = """() => {
  window.courseRunDone = false;
  window.courseRunError = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells')
    .catch(error => { window.courseRunError = `${error}`; })
    .finally(() => { window.courseRunDone = true; });
}"""
CELLS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  const found = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    found.push({type: cell.type, source: cell.sharedModel.getSource(),
                outputs: cell.type === 'code' ? cell.outputs.toJSON() : [],
                execution_count: cell.type === 'code' ? cell.executionCount : null});
  }
  return found;
}"""
OVERLAPPING_OPTIONS = """() => {
  const overlaps = [];
  for (const box of document.querySelectorAll('.widget-radio-box')) {
    // The box of each option's text as drawn, overflow included (a label's own box keeps
    // its fixed height when its text wraps onto a second line).
    const rects = [...box.querySelectorAll('label')].map(label => {
      const range = document.createRange();
      range.selectNodeContents(label);
      return [label.innerText, range.getBoundingClientRect()];
    });
    for (let a = 0; a < rects.length; a++) {
      for (let b = a + 1; b < rects.length; b++) {
        const [p, q] = [rects[a][1], rects[b][1]];
        const width = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const height = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (width > 1 && height > 1) overlaps.push(`${rects[a][0]} / ${rects[b][0]}`);
      }
    }
  }
  return overlaps;
}"""
STUDENT_NOTEBOOKS = [path.name for path in solution_paths()]
TRANSLATED_NOTEBOOK = "zh/03_pooling.ipynb"
"""One translated lesson (course_utils.translation), run like the others."""
EXERCISE_TO_COMPLETE = {
    "en": r"keras-course: .*\bcomplete (it in )?exercise \d+",
    "zh": r"keras-course: .*(完成练习 \d+|在练习 \d+ 中完成)",
}
"""What a cell that stops for want of an exercise says (graders.cell_errors), by language."""


def _text(outputs: list[dict]) -> str:
    """Everything a cell's outputs show as text or HTML."""
    texts = []
    for output in outputs:
        data = output.get("data", {})
        texts += [data.get("text/html", ""), data.get("text/plain", ""), output.get("text", "")]
        texts += output.get("traceback", [])
    return "\n".join(texts)


@pytest.fixture(scope="module")
def small_lab(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """One lab for every student notebook, on the small subset of the data
    (KERAS_COURSE_SMALL=1: the test reads what the learner sees, not accuracy)."""
    with lab_over_a_copy(tmp_path_factory.mktemp("small"), **{SMALL_ENV_VAR: "1"}) as lab:
        yield lab[0], lab[1]


def _chinese_font() -> None:
    """Fail, saying how to install one, when no font here covers Chinese (the screenshots
    of a translated lesson would show empty boxes)."""
    fonts = shutil.which("fc-list")
    if fonts and subprocess.run([fonts, ":lang=zh"], capture_output=True, text=True).stdout:
        return
    pytest.fail(
        "No font covering Chinese for the translated lesson's screenshots: `./course test` "
        "installs fonts-wqy-microhei with apt-get (scripts/install-system-packages.sh)."
    )


@pytest.mark.parametrize("name", [*STUDENT_NOTEBOOKS, TRANSLATED_NOTEBOOK])
def test_every_student_notebook_shows_its_figures_widgets_and_reports_in_jupyterlab(
    small_lab, name
):
    """Opened in JupyterLab and run with Run All as a learner would, does each untouched
    student notebook stay unmodified once its kernel is up, show its first screen, run
    every cell to the end without an error (a cell that needs an unfinished exercise shows
    the course's note naming it, and Run All goes on), show an image under every cell that
    calls a figure helper, lay out every quiz's options without overlap, write nothing to
    stderr, and render each graded check as "not attempted"?"""
    base, token = small_lab
    language, _, file_name = name.rpartition("/")
    lesson = file_name[:2] + (f"_{language}" if language else "")
    if language:
        _chinese_font()
    cells = nbformat.read(LESSONS / name, as_version=4).cells
    first_exercise = next(i for i, cell in enumerate(cells) if is_solution_cell(cell))
    graded = [i for i, cell in enumerate(cells) if cell.metadata.get("nbgrader", {}).get("grade")]
    assert graded, f"{name} has no graded cell"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        try:
            page.goto(f"{base}/lab/tree/{name}?token={token}&reset")  # no earlier tabs
            page.wait_for_function(KERNEL_IDLE, timeout=120_000)
            page.wait_for_function(KERNEL_METADATA_WRITTEN, timeout=60_000)
            assert page.evaluate(MODIFIED) is False, f"{name} shows as modified on opening"
            heading = page.locator(".jp-RenderedMarkdown h1").first.inner_text()
            assert heading.rstrip("¶").strip() == cells[0].source.splitlines()[0].lstrip("# ")
            page.screenshot(path=str(ARTIFACTS / f"lesson{lesson}_first_screen.png"))
            page.evaluate(RUN_ALL)
            page.wait_for_function(
                "() => window.courseRunDone === true", timeout=RUN_TIMEOUT_MS, polling=500
            )
            assert page.evaluate("window.courseRunError") is None, "JupyterLab could not run it"
            shown = page.evaluate(CELLS)
            assert [cell["source"] for cell in shown] == [cell.source for cell in cells]
            for index, cell in enumerate(shown):
                where = f"{name}, cell {index}"
                if cell["type"] != "code":
                    continue
                assert cell["execution_count"], f"{where}: Run All stopped before it"
                errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
                assert not errors, f"{where}: {errors}"
                if re.search(EXERCISE_TO_COMPLETE[language or "en"], _text(cell["outputs"])):
                    assert index > first_exercise, where
                else:
                    assert missing_figure(cell["source"], cell["outputs"]) is None, where
                stderr = [o["text"] for o in cell["outputs"] if o.get("name") == "stderr"]
                assert not stderr, f"{where} wrote to stderr: {stderr}"
            for index in graded:
                text = _text(shown[index]["outputs"])
                assert 'data-status="not attempted"' in text, f"{name}, cell {index}: {text}"
                if language:  # the kernel of a lesson under zh/ speaks its language
                    words = module_translations(language)["graders.report"]["not attempted"]
                    assert words in text, f"{name}, cell {index}: {text}"
                assert "Traceback" not in text, f"{name}, cell {index}: {text}"
            assert page.evaluate(OVERLAPPING_OPTIONS) == []
            # In view: the first quiz, else the first figure, else the first graded check.
            quizzes, figures = page.locator(".widget-radio-box"), page.locator("img")
            target = quizzes.first if quizzes.count() else figures.first
            if not target.count():
                target = page.locator(".jp-Notebook .jp-Cell").nth(graded[0])
            target.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"lesson{lesson}_after_run.png"))
            if language:  # its check's report, in its language
                page.locator(".jp-Notebook .jp-Cell").nth(graded[0]).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"lesson{lesson}_report.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"lesson{lesson}_failure.png"))
            raise
        finally:  # the lesson's kernel, if it started
            page.evaluate("window.jupyterapp?.shell.currentWidget?.sessionContext?.shutdown()")


def test_a_missing_chromium_fails_the_test_with_how_to_install_it(monkeypatch):
    """Without a browser, does the browser test fail (not skip) and say how to get one?"""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(CHROMIUM_ENV_VAR, raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get"):
        chromium_path()
