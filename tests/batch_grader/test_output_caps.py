"""Every kind of output a submission makes is bounded in the executed notebook: streams,
error messages and tracebacks, and in-place display updates."""

from __future__ import annotations

import re

import nbformat
import pytest

from batch_grader.sandboxed import execute

pytestmark = pytest.mark.notebook

CELLS = [
    'raise ValueError("x" * 5_000_000)',
    "from IPython.display import display\n"
    'handle = display("small", display_id=True)\n'
    'handle.update("y" * 3_000_000)',
    'print("z" * 1_000_000)',
    'print("the next cell still runs")',
]


def test_huge_errors_display_updates_and_prints_are_cut(tmp_path):
    """Does a notebook that raises a 5 MB error, updates a display with 3 MB and prints
    1 MB leave an executed notebook well under a megabyte, with notices of the cuts?"""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbformat.write(notebook, tmp_path / "prepared.ipynb")
    record = execute.run(tmp_path / "prepared.ipynb", tmp_path, cell_timeout=60)
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert (tmp_path / "executed.ipynb").stat().st_size < 4 * execute.MAX_OUTPUT_BYTES
    error = executed.cells[0].outputs[0]
    assert error.output_type == "error" and error.ename == "ValueError"
    assert len(error.evalue) + sum(map(len, error.traceback)) <= execute.MAX_ERROR_CHARS + 30
    (display,) = executed.cells[1].outputs
    assert list(display.data) == ["text/plain"]
    assert re.fullmatch(
        r"\[grader: a display update of 3,0\d\d,\d\d\d bytes was cut\]", display.data["text/plain"]
    )
    assert "[grader: output cut after 200,000 bytes]" in executed.cells[2].outputs[-1].text
    assert executed.cells[3].outputs[0].text == "the next cell still runs\n"
    assert record["truncated"] == [1, 2]
