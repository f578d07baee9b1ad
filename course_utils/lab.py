"""Start JupyterLab on the lessons, opening the first lesson (what `make lab` runs).

Usage: ``python -m course_utils.lab [JUPYTERLAB OPTIONS ...]``, e.g. ``--no-browser
--port 8899``. The server's root is ``lessons/``; the browser opens lesson 01.

The course's Jupyter configuration (``course_utils/jupyter_config/``) hides nbgrader's
instructor tools (its menu, the "Create Assignment" sidebar, the formgrader), which the
test environment installs but a learner has no use for, and JupyterLab's news prompt.
``.venv/bin/jupyter lab`` shows them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from course_utils.release import LESSONS, solution_paths

JUPYTER_CONFIG = Path(__file__).resolve().parent / "jupyter_config"


def lab_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with the course's Jupyter configuration first on JUPYTER_CONFIG_PATH."""
    paths = [
        str(JUPYTER_CONFIG),
        *filter(None, environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)),
    ]
    return {**environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(paths)}


def lab_arguments(extra: list[str]) -> list[str]:
    """JupyterLab's command-line arguments: root at lessons/, open the first lesson, then
    ``extra``; a root folder or default page given in ``extra`` replaces the course's."""
    first = solution_paths()[0].name if solution_paths() else ""
    defaults = {
        "--ServerApp.root_dir": str(LESSONS),
        "--LabApp.default_url": f"/lab/tree/{first}",
        # Settings defaults for learners: no prompt about news or update checks.
        "--LabApp.app_settings_dir": str(JUPYTER_CONFIG / "lab_settings"),
    }
    given = {argument.split("=", 1)[0] for argument in extra}
    arguments = [f"{name}={value}" for name, value in defaults.items() if name not in given]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root
        arguments.append("--allow-root")
    return arguments + extra


def main(argv: list[str] | None = None) -> None:
    os.environ.update(lab_environment(dict(os.environ)))
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=lab_arguments(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
