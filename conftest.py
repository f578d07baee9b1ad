"""Repository-wide pytest setup: every notebook executed by nbval runs in strict grading mode.

Kernels inherit the environment, so with ``KERAS_COURSE_STRICT=1`` a graded check that is not
full marks raises inside the notebook and fails its nbval item. (tests/conftest.py clears the
variable again for Python tests, which inspect failing reports.)
"""

import os

from course_utils.tensorflow_settings import use_tensorflow_settings
from graders.report import STRICT_ENV_VAR

SLOWEST_FIRST = (
    "lessons/solutions/07_resnet50.ipynb",
    "lessons/solutions/08_mnist_mlp_vs_cnn.ipynb",
    "tests/lessons/test_student_notebooks.py",
    "tests/graders/batch/test_batch_grader.py",
    "tests/graders/batch/test_attacks.py",
    "lessons/solutions/06_happy_model.ipynb",
    "lessons/solutions/09_whole_workflow.ipynb",
    "tests/graders/batch/test_cluster.py",
    "lessons/solutions/10_augmentation.ipynb",
    "tests/graders/test_lesson09.py",
    "tests/graders/batch/test_lesson09_batch.py",
    "tests/graders/batch/test_batch_robustness.py",
    "tests/graders/batch/test_warm_kernels.py",
    "tests/graders/batch/test_lesson08_batch.py",
    "tests/graders/batch/test_lesson10_batch.py",
    "tests/graders/batch/test_lesson00_batch.py",
    "lessons/solutions/04_dropout.ipynb",
    "tests/graders/test_lesson10.py",
    "tests/graders/batch/test_nbgrader_interop.py",
    "tests/graders/batch/test_function_rerun.py",
    "lessons/solutions/02_convolutions.ipynb",
    "tests/lessons/test_browser.py",
    "tests/graders/test_lesson06.py",
    "lessons/solutions/05_testing.ipynb",
    "tests/course_utils/test_lab.py",
    "tests/graders/test_lesson01.py",
    "tests/graders/batch/test_memory_groups.py",
    "lessons/solutions/03_pooling.ipynb",
    "tests/graders/test_lesson08.py",
    "tests/graders/test_traffic_sign_lessons.py",
    "tests/course_utils/test_live_plot.py",
    "tests/graders/test_lesson07.py",
    "lessons/solutions/01_sequential_basics.ipynb",
    "tests/graders/batch/test_reaper.py",
    "tests/graders/test_cell_errors.py",
)
"""The test files that take 8 s or more (measured in full runs of the suite), longest
first. They start first, and the short files fill in around them: with one file per
process at a time (``--dist loadfile --no-loadscope-reorder``), a long file started last
would leave the other process idle at the end of the suite (its last two minutes ran at
60-65 % of the CPU while this list named only the 13 longest files)."""


def pytest_collection_modifyitems(config, items):
    """Run :data:`SLOWEST_FIRST` first, in that order; the rest as collected."""
    rank = {path: index for index, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_configure(config):
    os.environ[STRICT_ENV_VAR] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    use_tensorflow_settings()  # here and in every notebook kernel the tests start


BATCH_PROCESS = ("graders.batch", "keras-course-attack-daemon")
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
    from graders.batch.memory_groups import sweep_stale_groups

    sweep_stale_groups()  # the empty memory groups of the graders that tests killed
