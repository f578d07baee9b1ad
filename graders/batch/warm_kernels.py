"""Warm kernels: each submission's kernel is forked from a process that has already
imported TensorFlow, Keras and IPython, instead of starting Python and importing them
again (about 4-5 s of CPU a submission on a laptop, most of a lesson-01 run).

The *zygote*, ``python -m graders.batch.warm_kernels``, runs under the batch's sandbox
limits (its own session, address-space limit, no core dumps, a sandbox environment with
nothing of the grader's) and imports only libraries: no submission code ever runs in it.
It reads one JSON request a line on stdin (the kernel's arguments, working folder and
environment) and answers the new kernel's process id on stdout. The forked kernel starts a
session of its own, swaps in the submission's folder and environment (its own HOME, TMPDIR
and sandbox token) and becomes an ordinary ipykernel, inheriting the zygote's limits.

:class:`ForkedProvisioner` plugs this into jupyter_client, so nbclient drives a forked
kernel like any other: interrupts, timeouts and deaths behave the same.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

from graders.batch.sandbox import die_with_parent

PRELOAD = (
    "numpy",
    "PIL.Image",
    "matplotlib.pyplot",
    "tensorflow",
    "keras",
    "ipywidgets",
    "IPython",
    "ipykernel.kernelapp",
    "course_utils",
    "data_loaders",
)
READY = "ready"
START_TIMEOUT = 180.0  # seconds for the zygote's imports, on a slow, busy machine


class ZygoteUnavailable(RuntimeError):
    """The zygote could not start, or stopped: grade with a cold kernel instead."""


# --- the zygote process ---------------------------------------------------------------------
def _become_kernel(request: dict, zygote: int) -> None:
    """In the forked child: leave the zygote's session, files and environment behind, then
    run ipykernel until it shuts down. Never returns. It dies with the ``zygote`` (its
    parent), which dies with the grader, so a killed grader leaves no kernel behind."""
    code = 1
    try:
        os.setsid()
        die_with_parent()
        if os.getppid() != zygote:  # the zygote died before the line above took effect
            return
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote ignores it; kernels wait
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the zygote's request and answer pipes are not the kernel's
            os.dup2(null, fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # recomputed from the new TMPDIR
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=request["argv"])
        code = 0
    finally:
        os._exit(code)


def serve() -> int:
    """The zygote's main loop: import, say ready, then fork one kernel per request."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does; the kernel adds its own folder back
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished kernels are reaped at once
    zygote = os.getpid()
    print(READY, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            pid = os.fork()
        except OSError as error:  # out of processes or memory: this one kernel starts cold
            print(json.dumps({"error": str(error)}), flush=True)
            continue
        if pid == 0:
            _become_kernel(request, zygote)
        print(json.dumps({"pid": pid}), flush=True)
    return 0


# --- the grader's side ------------------------------------------------------------------------
class Zygote:
    """A running zygote, shared by the batch's worker threads (requests are serialized).

    ``command`` runs the zygote (tests may point it elsewhere); ``popen_args`` are the
    sandbox's Popen arguments (environment, working folder, limits).
    """

    answer_timeout = 30.0  # seconds for a fork's answer

    def __init__(self, popen_args: dict, command: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", "graders.batch.warm_kernels"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            **popen_args,
        )
        answer = self._read_line(START_TIMEOUT)
        if answer != READY:
            self.close()
            raise ZygoteUnavailable(f"the warm-kernel process did not start ({answer!r})")

    def _read_line(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()))
        reader.start()
        reader.join(timeout)
        return result[0].strip() if result else ""

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        """Fork a kernel running ``ipykernel`` with ``argv`` in ``cwd`` with exactly ``env``;
        returns its process id (also its session and process-group id)."""
        request = json.dumps({"argv": argv, "cwd": str(cwd), "env": env}) + "\n"
        with self._lock:
            if self.process.poll() is not None:
                raise ZygoteUnavailable(
                    f"the warm-kernel process exited ({self.process.returncode})"
                )
            try:
                self.process.stdin.write(request)
                self.process.stdin.flush()
                answer = self._read_line(self.answer_timeout)
            except (BrokenPipeError, OSError) as error:
                raise ZygoteUnavailable(f"the warm-kernel process stopped: {error}") from error
            if not answer:  # a late answer would be read as the next one's: stop it
                self.close()
                raise ZygoteUnavailable("the warm-kernel process did not answer")
        reply = json.loads(answer)
        if "error" in reply:
            raise ZygoteUnavailable(f"the warm-kernel process could not fork: {reply['error']}")
        return int(reply["pid"])

    def close(self) -> None:
        """Stop the zygote (the kernels it forked are stopped by their own runs)."""
        try:
            self.process.kill()
        except OSError:
            pass
        self.process.wait()


class ForkedProcess:
    """What jupyter_client's LocalProvisioner expects of a Popen, for a forked kernel that
    is the zygote's child, not ours: liveness from /proc, signals by process group."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                alive = psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                alive = False
            if not alive:
                self.returncode = -signal.SIGKILL  # its exit status went to the zygote
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        kill_tree(self.pid)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def kill_tree(pid: int) -> None:
    """Kill a forked kernel's process group and every descendant it still has."""
    try:
        victims = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        victims = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    for process in victims:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def forked_kernel_manager(zygote: Zygote, cwd: Path, env: dict[str, str]):
    """An AsyncKernelManager whose kernel is forked from ``zygote`` into ``cwd`` with
    ``env`` (not the grader's environment). Once started, its ``forked_pid`` is the
    kernel's process id."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkedProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs):
            start = cmd.index("-f") if "-f" in cmd else len(cmd)
            pid = zygote.spawn(cmd[start:], cwd, env)
            manager.forked_pid = pid  # kept after jupyter_client drops its provisioner
            self.process = ForkedProcess(pid)
            self.pid = self.pgid = pid
            self.cwd = cwd
            return self.connection_info

    manager = AsyncKernelManager(kernel_name="python3")
    manager.forked_pid = None
    manager.kernel_id = str(uuid.uuid4())
    manager.provisioner = ForkedProvisioner(
        kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager
    )
    return manager


if __name__ == "__main__":
    sys.exit(serve())
