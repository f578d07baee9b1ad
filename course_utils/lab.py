"""Start JupyterLab on the lessons, opening the first lesson (what `make lab` runs).

Usage: ``python -m course_utils.lab [--lang LANG] [JUPYTERLAB OPTIONS ...]``, e.g.
``--no-browser --port 8899``. The server's root is ``lessons/``; the browser opens the first
lesson, 00. With ``--lang zh`` it opens the Chinese lesson (``lessons/zh/``) and every
kernel speaks Chinese (:data:`course_utils.language.LANGUAGE_ENV_VAR`): the checks'
reports, the explanations of errors, the widgets. Without, a kernel speaks the language of
its notebook's folder (:func:`course_utils.language.learner_language`).

The course's Jupyter configuration (``course_utils/jupyter_config/``) hides nbgrader's
instructor tools (its menu, the "Create Assignment" sidebar, the formgrader), which the
test environment installs but a learner has no use for, and JupyterLab's news prompt.
``.venv/bin/jupyter lab`` shows them. Its data folder (``course_utils/jupyter_data/``)
makes the ``python3`` kernel :mod:`course_utils.kernel`, which loads TensorFlow before the
first cell so that no C++ start-up log reaches the learner's setup cell, and its server
serves each lesson with that kernel's metadata (:mod:`course_utils.lab_contents`), so that
a lesson opens unmodified.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_utils.language import LANGUAGE_ENV_VAR, SOURCE, TRANSLATED
from course_utils.lesson_files import LESSONS, lesson_paths

JUPYTER_CONFIG = Path(__file__).resolve().parent / "jupyter_config"
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter_data"


def _first_on(variable: str, folder: Path, environ: dict[str, str]) -> str:
    """``environ[variable]``, a path list, with ``folder`` first and nowhere else."""
    others = [p for p in environ.get(variable, "").split(os.pathsep) if p and p != str(folder)]
    return os.pathsep.join([str(folder), *others])


def kernel_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with the course's data folder first on JUPYTER_PATH, so that the
    ``python3`` kernel is the learner's (:mod:`course_utils.kernel`) for every Jupyter client
    started with it: the lab, nbval, nbclient."""
    return {**environ, "JUPYTER_PATH": _first_on("JUPYTER_PATH", JUPYTER_DATA, environ)}


def lab_environment(environ: dict[str, str]) -> dict[str, str]:
    """:func:`kernel_environment` of ``environ``, with the course's Jupyter configuration
    first on JUPYTER_CONFIG_PATH."""
    return {
        **kernel_environment(environ),
        "JUPYTER_CONFIG_PATH": _first_on("JUPYTER_CONFIG_PATH", JUPYTER_CONFIG, environ),
    }


def lab_arguments(extra: list[str], language: str = SOURCE) -> list[str]:
    """JupyterLab's command-line arguments: root at lessons/, open the first lesson (of
    ``language``'s folder, for a translation), then ``extra``; a root folder or default
    page given in ``extra`` replaces the course's."""
    folder = "" if language == SOURCE else f"{language}/"
    first = lesson_paths(LESSONS / folder)
    defaults = {
        "--ServerApp.root_dir": str(LESSONS),
        "--LabApp.default_url": f"/lab/tree/{folder}{first[0].name if first else ''}",
        # Settings defaults for learners: no prompt about news or update checks.
        "--LabApp.app_settings_dir": str(JUPYTER_CONFIG / "lab_settings"),
    }
    given = {argument.split("=", 1)[0] for argument in extra}
    arguments = [f"{name}={value}" for name, value in defaults.items() if name not in given]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root
        arguments.append("--allow-root")
    return arguments + extra


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.lab",
        description="JupyterLab on the lessons; other options go to JupyterLab.",
    )
    parser.add_argument(
        "--lang",
        choices=[SOURCE, *TRANSLATED],
        default=None,
        help="the learner's language: its lessons, and the kernels' messages "
        f"(default: ${LANGUAGE_ENV_VAR}, else {SOURCE})",
    )
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    language = args.lang or os.environ.get(LANGUAGE_ENV_VAR) or SOURCE
    if language not in (SOURCE, *TRANSLATED):
        parser.error(
            f"${LANGUAGE_ENV_VAR} is {language!r}: expected one of {SOURCE}, "
            f"{', '.join(TRANSLATED)}"
        )
    os.environ.update(lab_environment(dict(os.environ)))
    if args.lang:  # the kernels the lab starts inherit it; else each speaks its folder's
        os.environ[LANGUAGE_ENV_VAR] = args.lang
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=lab_arguments(extra, language))


if __name__ == "__main__":
    main()
