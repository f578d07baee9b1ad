"""``python -m graders grade ...``: the instructor's batch grader (see graders.batch.cli)."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys

from course_utils.tensorflow_settings import use_tensorflow_settings


def main(argv: list[str] | None = None) -> int:
    """Run ``grade`` with the rest of ``argv``; anything else gets the usage (``--help``:
    status 0, else 2)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "grade":
        parser = argparse.ArgumentParser(
            prog="python -m graders",
            description="The instructor's batch grader of keras-course.",
            epilog="python -m graders grade --help lists the options of a batch.",
        )
        parser.add_argument(
            "command",
            choices=["grade"],
            help="grade: grade a class's submissions of one lesson, each in a sandbox",
        )
        parser.parse_args(args)  # exits with the usage, unless args are `-- grade ...`
        parser.error("put grade first: python -m graders grade ...")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    use_tensorflow_settings()
    # `kill -USR1 <grader pid>` prints where every thread of a grader that seems stuck is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    from graders.batch.cli import main as grade

    return grade(args[1:])


if __name__ == "__main__":
    sys.exit(main())
