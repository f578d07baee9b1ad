"""``python -m graders grade ...``: the instructor's batch grader (see graders.batch.cli)."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys

from course_utils.tensorflow_settings import use_tensorflow_settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "grade":
        print(
            "usage: python -m graders grade --lesson NN SUBMISSIONS... --out RESULTS/ "
            "[--jobs N] [--cell-timeout S] [--timeout S] [--memory-mb M] [--regrade]",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    use_tensorflow_settings()
    # `kill -USR1 <grader pid>` prints where every thread of a grader that seems stuck is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    from graders.batch.cli import main as grade

    return grade(args[1:])


if __name__ == "__main__":
    sys.exit(main())
