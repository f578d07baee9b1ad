"""Start JupyterLab on the lessons, opening the first lesson (what `make lab` runs).

Usage: ``python -m course_utils.lab [JUPYTERLAB OPTIONS ...]``, e.g. ``--no-browser
--port 8899``. The server's root is ``lessons/``; the browser opens lesson 01.
"""

from __future__ import annotations

import os
import sys

from course_utils.release import LESSONS, solution_paths


def lab_arguments(extra: list[str]) -> list[str]:
    """JupyterLab's command-line arguments: root at lessons/, open the first lesson."""
    first = solution_paths()[0].name if solution_paths() else ""
    arguments = [f"--ServerApp.root_dir={LESSONS}", f"--LabApp.default_url=/lab/tree/{first}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root
        arguments.append("--allow-root")
    return arguments + extra


def main(argv: list[str] | None = None) -> None:
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=lab_arguments(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
