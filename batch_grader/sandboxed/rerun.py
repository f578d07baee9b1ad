"""Re-run a learner's exported function on a check's fixed calls, in a fresh process:
``python -m batch_grader.sandboxed.rerun`` (run in a sandbox).

In the grader's input folder, ``job.json`` names the lesson, the check and the function;
``setup.py`` is the lesson's trusted setup cell and ``function.py`` the learner's source.
The function is called as the check calls it (the lesson's ``FUNCTION_CASES[check]``,
whose ``calls()`` lists the calls in order) and what each call gave is saved to
``outputs.npz`` (arrays) and ``outputs.json`` (numbers, strings, tuples and lists of them,
None, the type name of anything else, or the error it raised) in the working folder, and
sent to the grader, for :func:`batch_grader.sandboxed.grade.replay` in the checks' process.
"""

from __future__ import annotations

import importlib
import json
import numbers
import sys
from pathlib import Path

import numpy as np

from batch_grader.sandboxed import channel

RETURNED = {"outputs.json": 2**20, "outputs.npz": 256 * 2**20}
"""What a re-run hands back, and the most bytes each file may have."""
PLAIN = (str, bool, type(None))


def _plain(value: object) -> object | None:
    """``value`` as JSON when it is a number (a NumPy one too), a string, a bool or None,
    or a flat tuple or list of them, marked so that :func:`batch_grader.sandboxed.grade.replay`
    gives back the same type; else None."""
    if isinstance(value, PLAIN):
        return {"value": value}
    if isinstance(value, numbers.Integral):
        return {"value": int(value)}
    if isinstance(value, numbers.Real):
        return {"value": float(value)}
    if isinstance(value, (tuple, list)):
        items = [_plain(item) for item in value]
        if all(item is not None for item in items):
            kind = "tuple" if isinstance(value, tuple) else "list"
            return {kind: [item["value"] for item in items]}
    return None


def main() -> int:
    """Re-run the function the job names; write what each call gave."""
    work = Path.cwd()  # the learner's function might change directory
    folder = channel.input_folder().resolve()
    job = json.loads((folder / "job.json").read_text())
    case = importlib.import_module(f"graders.lesson{job['lesson']}").FUNCTION_CASES[job["check"]]
    namespace: dict = {"__name__": "__submission__"}
    exec(compile((folder / "setup.py").read_text(), "setup", "exec"), namespace)  # noqa: S102
    exec(compile((folder / "function.py").read_text(), "submission", "exec"), namespace)  # noqa: S102
    function = namespace[job["function"]]
    arrays, others = {}, {}
    for index, (arguments, keywords) in enumerate(case.calls()):
        key = str(index)
        try:
            value = function(*arguments, **keywords)
        except Exception as error:  # noqa: BLE001 - recorded for the grader to report
            others[key] = {"error": type(error).__name__, "message": str(error)[:1000]}
            break
        plain = None if value is None else _plain(value)
        if value is None:
            others[key] = None
        elif plain is not None:
            others[key] = plain
        elif hasattr(value, "shape") and hasattr(value, "dtype"):
            import keras

            arrays[key] = np.asarray(keras.ops.convert_to_numpy(value))
        else:
            others[key] = {"other": type(value).__name__}
    np.savez(work / "outputs.npz", **arrays)
    (work / "outputs.json").write_text(json.dumps(others))
    return 0


if __name__ == "__main__":
    sys.exit(main())
