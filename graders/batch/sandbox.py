"""Run an untrusted command under limits: its own session (so the whole process tree can
be killed), an address-space limit, a file-size limit, no core dumps, a wall-clock limit,
and an environment that names nothing of the grader's."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_BYTES = 1 << 30
TOKEN_ENV_VAR = "KERAS_COURSE_SANDBOX"


@dataclass(frozen=True)
class Limits:
    """Wall-clock seconds for the whole run, and memory (address space) in MiB."""

    seconds: float
    memory_mb: int


@dataclass(frozen=True)
class Outcome:
    """How the sandboxed command ended."""

    returncode: int | None  # None when it was killed for running too long
    timed_out: bool
    stderr: str


def sandbox_environment(folder: Path, data_folder: Path, token: str) -> dict[str, str]:
    """A minimal environment: HOME and temp in ``folder``, the course's packages importable,
    the public dataset cache ``data_folder``, headless plotting, and the sandbox's
    ``token`` (inherited by everything started in it, so that all of it can be found and
    killed, see :func:`kill_sandbox`)."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        HOME=str(folder),
        TMPDIR=str(folder),
        PYTHONPATH=str(REPO_ROOT),
        KERAS_COURSE_DATA=str(data_folder),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="3",
        JUPYTER_PLATFORM_DIRS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env[TOKEN_ENV_VAR] = token
    return env


def die_with_parent() -> None:
    """Have Linux kill this process (SIGKILL) when the thread that started it ends, as when
    the grader is killed (prctl's PR_SET_PDEATHSIG, kept across exec); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _limit(memory_mb: int):
    def apply() -> None:
        die_with_parent()
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def sandbox_popen_args(folder: Path, data_folder: Path, limits: Limits, token: str) -> dict:
    """subprocess.Popen arguments that start a process in the sandbox: working folder and
    environment (:func:`sandbox_environment` plus ``token``), its own session, and the
    memory, file-size and core-dump limits."""
    return {
        "cwd": folder,
        "env": sandbox_environment(folder, data_folder, token),
        "start_new_session": True,
        "preexec_fn": _limit(limits.memory_mb),
    }


def run_sandboxed(
    module: str, arguments: list[str], folder: Path, data_folder: Path, limits: Limits
) -> Outcome:
    """Run ``python -m module arguments`` in ``folder`` under ``limits``."""
    token = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-m", module, *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **sandbox_popen_args(folder, data_folder, limits, token),
    )
    try:
        _, stderr = process.communicate(timeout=limits.seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        stderr = b""
    finally:
        kill_sandbox(token)
    if timed_out:
        process.communicate()
    return Outcome(
        None if timed_out else process.returncode,
        timed_out,
        stderr.decode(errors="replace")[-2000:],
    )


def kill_sandbox(token: str) -> int:
    """Kill every process that carries the sandbox's token in its environment (the runner,
    its kernel, anything they started, even if orphaned). Returns how many were killed."""
    victims = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(TOKEN_ENV_VAR) == token:
                victims.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    for process in victims:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(victims, timeout=5)
    return len(victims)
