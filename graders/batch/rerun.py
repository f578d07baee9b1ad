"""Re-run a learner's exported function on a check's fixed inputs, in a fresh process:
``python -m graders.batch.rerun`` (run in a sandbox).

In the grader's input folder, ``job.json`` names the lesson, the check and the function;
``setup.py`` is the lesson's trusted setup cell and ``function.py`` the learner's source.
The function is called as the check calls it (:data:`graders.resnet_blocks.CALLS`) and
what each call gave is saved to ``outputs.npz`` (arrays) and ``outputs.json`` (None or an
error) in the working folder, and sent to the grader, for
:func:`graders.batch.grade.replay` in the checks' process.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np

from graders.batch import channel

RETURNED = {"outputs.json": 2**20, "outputs.npz": 256 * 2**20}
"""What a re-run hands back, and the most bytes each file may have."""


def main() -> int:
    """Re-run the function the job names; write what each call gave."""
    work = Path.cwd()  # the learner's function might change directory
    folder = channel.input_folder().resolve()
    job = json.loads((folder / "job.json").read_text())
    case = importlib.import_module(f"graders.lesson{job['lesson']}").FUNCTION_CASES[job["check"]]
    from graders.resnet_blocks import CALLS

    namespace: dict = {"__name__": "__submission__"}
    exec(compile((folder / "setup.py").read_text(), "setup", "exec"), namespace)  # noqa: S102
    exec(compile((folder / "function.py").read_text(), "submission", "exec"), namespace)  # noqa: S102
    function = namespace[job["function"]]
    arrays, others, counts = {}, {}, {}
    for training, phase in CALLS:
        index = counts.get(training, 0)
        counts[training] = index + 1
        key = f"{training}-{index}"
        try:
            value = function(case.inputs(), **case.kwargs(training, phase))
        except Exception as error:  # noqa: BLE001 - recorded for the grader to report
            others[key] = {"error": type(error).__name__, "message": str(error)[:1000]}
            break
        if value is None:
            others[key] = None
        else:
            import keras

            arrays[key] = np.asarray(keras.ops.convert_to_numpy(value))
    np.savez(work / "outputs.npz", **arrays)
    (work / "outputs.json").write_text(json.dumps(others))
    return 0


if __name__ == "__main__":
    sys.exit(main())
