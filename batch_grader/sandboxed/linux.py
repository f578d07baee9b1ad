"""The Linux system calls the batch grader makes that Python's ``os`` lacks (prctl, setns,
capset, mount), through the C library: on both sides of a sandbox, so that a sandboxed
job needs nothing of the grader's own modules."""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4


@functools.cache
def libc() -> ctypes.CDLL:
    """The C library, loaded once (when this module is imported on Linux, so that no
    forked child has to load it), with ``errno`` kept for :func:`raise_on_failure`."""
    return ctypes.CDLL(None, use_errno=True)


if sys.platform.startswith("linux"):
    libc()


def raise_on_failure(result: int, what: str) -> None:
    """Raise OSError (errno, ``what`` and the error's text) when ``result``, the return
    value of a C library call through :func:`libc`, says it failed (non-zero)."""
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def die_with_parent() -> None:
    """Have Linux kill this process (SIGKILL) when the thread that started it ends, as when
    the grader is killed (prctl's PR_SET_PDEATHSIG, kept across exec); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def set_dumpable(dumpable: bool) -> None:
    """Make this process dumpable or not: an undumpable one cannot be traced, nor its
    descriptors opened through ``/proc``, by another process of the same user (Linux
    only; elsewhere nothing)."""
    if sys.platform.startswith("linux"):
        libc().prctl(PR_SET_DUMPABLE, int(dumpable), 0, 0, 0)
