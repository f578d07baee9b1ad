"""Run a lesson's checks on one submission's artifacts:
``python -m batch_grader.sandboxed.evaluate``.

Loading a learner's model and measuring it is untrusted compute: a crafted model file may
take all the memory or all the time there is. So it runs here, in a sandbox of its own
with the batch's time and memory limits (:func:`batch_grader.trusted.sandbox.run_sandboxed`),
never in the grader process that writes results; the grader takes back only the reports,
as JSON, and checks them (:meth:`graders.report.Report.from_dict`).

The grader's input folder holds ``job.json`` (the lesson, the graded cells, the deleted
ones, why a cell may have exported nothing, the cells stopped at the cell timeout and that
timeout, and the seed of the grader's held-out split),
the run's ``artifacts/`` and the re-runs' outputs in ``reruns/``. It writes
``reports.json``, one report per graded cell; the grader takes it only from a run that
ended with status 0.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from batch_grader.sandboxed import channel

RETURNED = {"reports.json": 4 * 2**20}
"""What the checks hand back, and the most bytes it may have."""
NOTEBOOK_FOLDER = "notebook"
"""The checks' working folder, inside theirs: the notebook's files are put back there."""


def main() -> int:
    """Run the job's checks on its artifacts; write their reports."""
    work = Path.cwd()
    folder = channel.input_folder().resolve()
    job = json.loads((folder / "job.json").read_text())

    from batch_grader.sandboxed.export import GradedCell
    from batch_grader.sandboxed.grade import CellTimeouts, grade_run
    from graders.heldout import use_grader_heldout

    if job.get("heldout_seed") is not None:
        use_grader_heldout(job["dataset"], int(job["heldout_seed"]))
    graded = [GradedCell(**cell) for cell in job["graded"]]
    # The checks run in a folder of their own, where the copies of the files the notebook
    # wrote are put back (batch_grader.sandboxed.grade.place_copy): never where the reports go.
    notebook_folder = work / NOTEBOOK_FOLDER
    notebook_folder.mkdir()
    os.chdir(notebook_folder)
    try:
        timeouts = CellTimeouts(frozenset(job["timed_out"]), float(job["cell_timeout"]))
        reports = grade_run(
            job["lesson"],
            folder,
            graded,
            job["deleted"],
            job["why_missing"],
            folder / "reruns",
            timeouts,
        )
    finally:
        os.chdir(work)
    (work / "reports.json").write_text(json.dumps([report.to_dict() for report in reports]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
