"""Release check: every lesson's solution notebook, graded by the batch grader as an
instructor grades a class, must get full marks.

The suite runs each solution's checks in its own kernel (nbval). The batch path differs:
the notebook runs in a sandbox, its artifacts are checked in another, and test accuracy is
measured on the grader's held-out images, rendered from the instructor's secret. This
script grades each solution that way, with a fresh random secret unless ``--secret`` names
one, so each run draws other held-out images. It trains every lesson's models (about 9
minutes on 2 cores with AVX-512, two to three times as long on a slower CPU), so it is a
check to run before a release, not a test. Lessons 08-10 need MNIST and Fashion-MNIST
installed (``python -m data_loaders install``, which ``./course test`` runs).

Prints, per lesson, the score, the maximum, the seconds the grading took (the submission's
``execution_time``) and its status, then every check that did not pass, with its message,
or why the grader failed. Exits with 1 when a solution lacks full marks. The results and
the secret are kept in ``--out`` (by default a new folder, removed when every solution got
full marks), so that a failing draw can be read and graded again with ``--secret``.

Usage: python bench/solutions_in_batch.py [--secret FILE] [--out FOLDER] [LESSON_NUMBER ...]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from batch_grader.request import LESSONS  # noqa: E402
from batch_grader.trusted.results import (  # noqa: E402
    GRADED,  # noqa: E402
    RESULT,
    student_folder,
)
from course_utils.release import solution_paths  # noqa: E402

STUDENT = "solution"
"""The name the solution is graded under (its file is ``solution.ipynb``)."""
STDERR_LINES = 5
"""How many of the grader's last lines of stderr say why it failed."""


def not_passed(result: dict) -> list[str]:
    """The lines of ``result`` (a ``result.json``) that name what cost points: each
    exercise's check marked ✘ under its exercise's heading, then the submission's
    ``reasons``."""
    lines = []
    for test in result.get("tests", []):
        if test.get("score") == test.get("max_score"):
            continue
        output = test.get("output", "").splitlines()
        lines += output[:1] + [line for line in output[1:] if "✘" in line]
    return lines + [f"reason: {reason}" for reason in result.get("reasons", [])]


def grade_solution(lesson: str, solution: Path, work: Path, secret: Path) -> dict | list[str]:
    """Grade ``solution`` as lesson ``lesson`` with the batch grader, in ``work``: its
    ``result.json``, or the lines that say why the grader gave none."""
    submissions = work / f"lesson{lesson}"
    submissions.mkdir()
    shutil.copy(solution, submissions / f"{STUDENT}.ipynb")
    results = work / f"results{lesson}"
    command = [sys.executable, "-m", "batch_grader", "grade", "--lesson", lesson, str(submissions)]
    command += ["--out", str(results), "--jobs", "1", "--heldout-secret", str(secret)]
    run = subprocess.run(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    result = student_folder(results, STUDENT) / RESULT
    if run.returncode == 0 and result.is_file():
        return json.loads(result.read_text())
    last = [line for line in run.stderr.splitlines() if line.strip()][-STDERR_LINES:]
    return [f"the grader exited with {run.returncode} and wrote no {RESULT}:", *last]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--secret", type=lambda path: Path(path).resolve(), help="the held-out secret"
    )
    parser.add_argument(
        "--out", type=lambda path: Path(path).resolve(), help="where results are kept"
    )
    parser.add_argument("lessons", nargs="*", help="lesson numbers, e.g. 05 07 (default: all)")
    args = parser.parse_args(argv)
    lessons = list(dict.fromkeys(args.lessons)) or LESSONS
    unknown = sorted(set(lessons) - set(LESSONS))
    if unknown:
        parser.error(f"expected graded lessons among {', '.join(LESSONS)}, found {unknown}")
    if args.out and args.out.exists() and any(args.out.iterdir()):
        parser.error(f"expected a new or empty folder for --out, found files in {args.out}")
    solutions = {path.name[:2]: path for path in solution_paths()}
    work = args.out or Path(tempfile.mkdtemp(prefix="solutions-in-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    secret = args.secret
    if secret is None:
        secret = work / "heldout-secret"
        secret.write_text(secrets.token_hex(32) + "\n")
    failures = {}
    print(f"{'lesson':<8}{'score':>7}{'max':>7}{'seconds':>9}  status", flush=True)
    for lesson in lessons:
        result = grade_solution(lesson, solutions[lesson], work, secret)
        if isinstance(result, list):
            print(f"{lesson:<8}{'':>7}{'':>7}{'':>9}  grader failed", flush=True)
            failures[lesson] = result
            continue
        score, most = result.get("score", 0.0), result.get("max_score", 0.0)
        seconds = result.get("execution_time") or 0.0
        status = result.get("status")
        print(f"{lesson:<8}{score:>7.1f}{most:>7.1f}{seconds:>9.1f}  {status}", flush=True)
        if score != most or status != GRADED:
            failures[lesson] = not_passed(result)
    for lesson, lines in failures.items():
        print(f"\nlesson {lesson}'s solution lost points:")
        print("\n".join(f"  {line}" for line in lines))
    if failures or args.out:
        print(f"\nresults kept in {work}; the held-out secret: {secret}")
    else:
        shutil.rmtree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
