"""Repository-wide pytest setup: every notebook executed by nbval runs in the learner's kernel
(the one `./course lab` starts), in strict grading mode.

Kernels inherit the environment, so with ``KERAS_COURSE_STRICT=1`` a graded check that is not
full marks raises inside the notebook and fails its nbval item. (tests/conftest.py clears the
variable again for Python tests, which inspect failing reports.)
"""

import os

from course_utils.lab import kernel_environment
from course_utils.language import LANGUAGE_ENV_VAR, SESSION_ENV_VAR
from course_utils.tensorflow_settings import use_tensorflow_settings
from data_loaders.small import SMALL_ENV_VAR
from graders.report import STRICT_ENV_VAR

pytest_plugins = ["tests.plugins.tiers", "tests.plugins.durations", "tests.plugins.figures"]


def pytest_configure(config):
    os.environ[STRICT_ENV_VAR] = "1"
    os.environ.pop(SMALL_ENV_VAR, None)  # full data, unless a test asks for the small subset
    for chosen in (LANGUAGE_ENV_VAR, SESSION_ENV_VAR):  # English, unless a test asks otherwise
        os.environ.pop(chosen, None)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    use_tensorflow_settings()  # here and in every notebook kernel the tests start
    # The kernel named python3 is the learner's, the one `./course lab` starts: nbval,
    # nbclient and the lab run every notebook in it.
    os.environ.update(kernel_environment(dict(os.environ)))


BATCH_PROCESS = ("batch_grader", "keras-course-attack-daemon")
"""Words in the command line of a process the batch grader (or an attack on it) starts."""


def pytest_sessionfinish(session, exitstatus):
    """After the whole suite (in the process that ran it, not in a worker), fail the run if
    any process started by a batch grader is still alive: nothing a grader starts may
    outlive it."""
    if hasattr(session.config, "workerinput"):
        return
    import time

    import psutil

    deadline = time.monotonic() + 15
    while True:
        left = []
        for process in psutil.process_iter(["cmdline"]):
            command = " ".join(process.info["cmdline"] or [])
            if any(word in command for word in BATCH_PROCESS) and process.pid != os.getpid():
                left.append(f"{process.pid}: {command[:200]}")
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if left:
        print("\nprocesses of the batch grader outlived the suite:\n" + "\n".join(left))
        session.exitstatus = 1
    from batch_grader.trusted.memory_groups import sweep_stale_groups

    sweep_stale_groups()  # the empty memory groups of the graders that tests killed
