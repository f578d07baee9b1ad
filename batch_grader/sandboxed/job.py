"""The one way a sandboxed job starts: ``python -m batch_grader.sandboxed.job MODULE ARGS...``
(a cold start) or :func:`run` in a process forked warm into its sandbox. Either way the job
first makes itself undumpable, so that nothing it runs (the notebook's kernel, a re-run
function) can attach to it and stall it, then runs ``python -m MODULE ARGS`` in this
process."""

from __future__ import annotations

import runpy
import sys

from batch_grader.sandboxed.linux import set_dumpable


def run(module: str, arguments: list[str]) -> None:
    """Run ``module`` as ``__main__`` with ``arguments``, undumpable; SystemExit passes."""
    set_dumpable(False)
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def command(module: str, arguments: list[str]) -> list[str]:
    """The command line that starts job ``module`` cold."""
    return [sys.executable, "-P", "-m", __name__, module, *arguments]


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
