"""``python -m batch_grader grade ...``: the instructor's batch grader (see batch_grader.cli);
``python -m batch_grader report RESULTS``: the class report of its results (see
batch_grader.report.class_report)."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys

from course_utils.tensorflow_settings import use_tensorflow_settings

COMMANDS = {
    "grade": "grade a class's submissions of one lesson, each in a sandbox",
    "report": "write a graded class's report.html and its gradebook CSVs (Canvas, Moodle) "
    "into its results folder",
}


def main(argv: list[str] | None = None) -> int:
    """Run ``grade`` or ``report`` with the rest of ``argv``; anything else gets the usage
    (``--help``: status 0, else 2)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        parser = argparse.ArgumentParser(
            prog="python -m batch_grader",
            description="The instructor's batch grader of keras-course, and its class report.",
            epilog="python -m batch_grader grade --help lists the options of a batch; "
            "python -m batch_grader report --help those of the report.",
        )
        parser.add_argument(
            "command",
            choices=list(COMMANDS),
            help="; ".join(f"{name}: {what}" for name, what in COMMANDS.items()),
        )
        parser.parse_args(args)  # exits with the usage, unless args are `-- grade ...`
        parser.error("put the command first: python -m batch_grader grade ... (or report ...)")
    if args[0] == "report":  # reads results only: no TensorFlow
        from batch_grader.report.class_report import main as report

        return report(args[1:])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    use_tensorflow_settings()
    # `kill -USR1 <grader pid>` prints where every thread of a grader that seems stuck is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    from batch_grader.cli import main as grade

    return grade(args[1:])


if __name__ == "__main__":
    sys.exit(main())
