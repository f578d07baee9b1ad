"""Kernels forked warm, as a sandboxed job drives them: :class:`ForkedProcess` and
:func:`forked_kernel_manager` plug a kernel forked by someone else (the grader's zygote, see
:mod:`batch_grader.trusted.warm_kernels`, or a job's own :class:`PreForkedKernel`) into
jupyter_client, so that nbclient drives it like any other: interrupts, timeouts and deaths
behave the same. :func:`become_kernel` is what the forked child runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Protocol

import psutil

from batch_grader.sandboxed.linux import die_with_parent, set_dumpable

WATCH_CELLS = "__import__('graders.cell_errors').cell_errors.watch_this_shell()"
"""What a forked kernel runs first: the lesson's checks, imported by the zygote before any
shell existed, start watching its cells as they do in a kernel that imports them."""


class KernelSpawner(Protocol):
    """What forks kernels: :meth:`spawn` starts ``ipykernel`` with ``argv`` in ``cwd`` with
    exactly ``env`` and returns its process id."""

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int: ...


def become_kernel(request: dict, zygote: int) -> None:
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
        set_dumpable(True)  # as any process (a warm job's is not)
        argv = [*request["argv"], f"--IPKernelApp.exec_lines={WATCH_CELLS}"]
        sys.argv = ["ipykernel_launcher", *argv]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=argv)
        code = 0
    finally:
        os._exit(code)


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


def forked_kernel_manager(zygote: KernelSpawner, cwd: Path, env: dict[str, str]):
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


class PreForkedKernel:
    """A kernel forked from this (warm) process now, before anything else runs in it, that
    starts when :meth:`spawn` gives it its arguments: a warm job's own one-kernel zygote."""

    def __init__(self) -> None:
        parent = os.getpid()
        read_end, self._write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write_end)
            with os.fdopen(read_end, "rb") as reader:
                request = json.loads(reader.read() or b"null")
            if request is None:
                os._exit(0)
            become_kernel(request, parent)
        os.close(read_end)

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        """Start the kernel with ``argv`` in ``cwd`` with ``env``; returns its process id."""
        request = json.dumps({"argv": argv, "cwd": str(cwd), "env": env}).encode()
        with os.fdopen(self._write_end, "wb") as writer:
            writer.write(request)
        return self.pid
