"""Repository-wide pytest setup: every notebook executed by nbval runs in strict grading mode.

Kernels inherit the environment, so with ``KERAS_COURSE_STRICT=1`` a graded check that is not
full marks raises inside the notebook and fails its nbval item. (tests/conftest.py clears the
variable again for Python tests, which inspect failing reports.)
"""

import os

from graders.report import STRICT_ENV_VAR


def pytest_configure(config):
    os.environ[STRICT_ENV_VAR] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
