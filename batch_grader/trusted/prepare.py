"""Turn a submitted notebook into the notebook the grader runs.

The trusted source is the lesson's released student notebook. Every locked cell of the
source (the graded cells) is found in the submission by its nbgrader ``grade_id``: edited
ones get their original source back, deleted ones are reported. Each graded cell is then
replaced by a call that exports the objects its check takes, the export helper is put in a
first cell, and the cells after the last graded one (which nothing grades) are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from batch_grader.sandboxed.export import EXPORT_HELPER, GradedCell, export_call, parse_check_call

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


class InvalidSubmission(ValueError):
    """The submission is not a notebook that can be run; the message says why."""


@dataclass
class Prepared:
    """The notebook to run, the graded cells it exports, and what was repaired."""

    notebook: nbformat.NotebookNode
    graded: list[GradedCell]
    deleted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(source: nbformat.NotebookNode) -> list[GradedCell]:
    """The graded cells of a trusted source notebook, in order."""
    cells = []
    for cell in source.cells:
        meta = _nbgrader(cell)
        if meta.get("grade") and cell.cell_type == "code":
            check, arguments = parse_check_call(cell.source)
            cells.append(GradedCell(meta["grade_id"], float(meta["points"]), check, arguments))
    return cells


def read_submission(path: Path) -> nbformat.NotebookNode:
    """Read and validate a submitted notebook; raise InvalidSubmission saying why not."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise InvalidSubmission(f"{path.name} is empty (0 bytes), not a notebook")
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidSubmission(
            f"{path.name} is {size / 2**20:.0f} MiB; notebooks over "
            f"{MAX_NOTEBOOK_BYTES / 2**20:.0f} MiB are not run (clear the outputs and resubmit)"
        )
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidSubmission(f"{path.name} is not valid notebook JSON: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidSubmission(f"{path.name} is JSON but not a notebook (no list of cells)")
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        raise InvalidSubmission(
            f"{path.name} is not a valid notebook: {type(error).__name__}: {first}"
        ) from error
    return notebook


def prepare(source: nbformat.NotebookNode, submission: nbformat.NotebookNode) -> Prepared:
    """The runnable notebook: locked cells restored, graded cells replaced by exports."""
    originals = {
        _nbgrader(c)["grade_id"]: c
        for c in source.cells
        if _nbgrader(c).get("locked") and _nbgrader(c).get("grade_id")
    }
    graded = graded_cells(source)
    graded_ids = {cell.grade_id for cell in graded}
    seen: set[str] = set()
    cells = [nbformat.v4.new_code_cell(EXPORT_HELPER)]
    notes: list[str] = []
    for cell in submission.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in seen:
            notes.append(f"a second copy of the locked cell {grade_id} was ignored")
            continue
        if grade_id in originals:
            seen.add(grade_id)
            original = originals[grade_id]
            if cell.get("source", "") != original.source or cell.cell_type != original.cell_type:
                notes.append(f"the locked cell {grade_id} was edited; its original was used")
            cell = nbformat.v4.new_code_cell(original.source, metadata=original.metadata)
            if grade_id in graded_ids:
                cell.source = export_call(grade_id, original.source)
        elif cell.cell_type == "code":
            cell = nbformat.v4.new_code_cell(cell.source)
        else:
            continue
        cells.append(cell)
    # Nothing after the last graded cell is graded: those cells are not run.
    last = max(
        (i for i, c in enumerate(cells) if _nbgrader(c).get("grade_id") in graded_ids),
        default=len(cells) - 1,
    )
    cells = cells[: last + 1]
    deleted = [grade_id for grade_id in originals if grade_id not in seen]
    notes += [f"the locked cell {grade_id} was deleted" for grade_id in deleted]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=source.metadata)
    return Prepared(notebook, graded, deleted, notes)
