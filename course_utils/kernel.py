"""The learner's Jupyter kernel: IPython's kernel with TensorFlow already imported, quietly.

TensorFlow's C++ libraries log start-up notices on the process's standard error when they
load ("oneDNN custom operations are on", "All log messages before absl::InitializeLog()
...") whatever ``TF_CPP_MIN_LOG_LEVEL`` says, and a Jupyter kernel shows that output under
the cell that imports Keras: a learner's first output would be C++ logging instead of the
course's device banner. This kernel imports TensorFlow before it starts, with standard
error pointed at /dev/null, so the setup cell's ``import keras`` finds it loaded. Errors
are not hidden: a failed import restores standard error and says so, and everything later
(warnings during training included) shows as usual. TensorFlow loads with the course's
settings (:mod:`course_utils.tensorflow_settings`: oneDNN on every x86 CPU).

TensorFlow imports Matplotlib, which picks its backend when it is first imported. IPython's
kernel names its inline backend only later, as it starts, so Matplotlib would settle on
``agg`` and every ``plt.show()`` would draw nothing, silently. This kernel names the inline
backend (:data:`INLINE_BACKEND`) first, unless ``MPLBACKEND`` is already set.

``./course lab`` uses it as the ``python3`` kernel (``course_utils/jupyter_data``); run
by hand: ``python -m course_utils.kernel -f CONNECTION_FILE``.
"""

from __future__ import annotations

import os
import sys

from course_utils.tensorflow_settings import use_tensorflow_settings

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
"""Matplotlib's backend that shows figures as images under the cell (IPython's default)."""


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 on /dev/null for the time of the import."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            finally:
                os.dup2(saved, 2)
    except Exception as error:  # noqa: BLE001 - the learner's `import keras` shows it again
        print(f"keras-course: TensorFlow could not be imported: {error}", file=sys.stderr)
    finally:
        os.close(saved)


def main() -> None:
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    use_tensorflow_settings()
    import_tensorflow_quietly()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
