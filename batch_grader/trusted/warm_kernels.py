"""Warm kernels: each submission's kernel is forked from a process that has already
imported TensorFlow, Keras and IPython, instead of starting Python and importing them
again (about 4-5 s of CPU a submission on a laptop, most of a lesson-01 run).

The *zygote*, ``python -m batch_grader.trusted.warm_kernels``, runs under the batch's sandbox
limits (its own session, memory limit, no core dumps, a sandbox environment with
nothing of the grader's) and imports only libraries: no submission code ever runs in it.
It reads one JSON request a line on stdin (the kernel's arguments, working folder and
environment) and answers the new kernel's process id on stdout. The forked kernel starts a
session of its own, swaps in the submission's folder and environment (its own HOME, TMPDIR
and sandbox token) and becomes an ordinary ipykernel, inheriting the zygote's limits.

:func:`batch_grader.sandboxed.forked_kernels.forked_kernel_manager` plugs this into
jupyter_client, so nbclient drives a forked
kernel like any other: interrupts, timeouts and deaths behave the same.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from batch_grader.sandboxed.forked_kernels import become_kernel
from batch_grader.sandboxed.job import run as run_job
from batch_grader.sandboxed.layout import SANDBOX_UID
from batch_grader.sandboxed.linux import libc, raise_on_failure
from batch_grader.trusted import memory_groups, syscall_filter

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
    "nbclient",
    "nbformat",
    "jupyter_client.manager",
    "batch_grader.sandboxed.execute",
    "batch_grader.sandboxed.evaluate",
    "batch_grader.sandboxed.rerun",
)
"""What the zygote imports before it forks anything (and the modules named on its command
line: the lesson's checks)."""
JOIN_ORDER = ("mnt", "net", "ipc", "uts", "cgroup", "pid", "user")
"""The sandbox namespaces a job joins, the user namespace last: joined first, it would
leave the zygote's child without the rights to join the others."""
READY = "ready"
START_TIMEOUT = 180.0  # seconds for the zygote's imports, on a slow, busy machine


class ZygoteUnavailable(RuntimeError):
    """The zygote could not start, or stopped: grade with a cold kernel instead."""


# --- the zygote process ---------------------------------------------------------------------
def _stat_field(process: int | str, number: int) -> str:
    """Field ``number`` (counted from 1, as proc(5) does) of ``/proc/PROCESS/stat``."""
    stat = Path(f"/proc/{process}/stat").read_text()
    after_name = stat[stat.rindex(")") + 2 :].split()  # field 3 on: the name may hold spaces
    return after_name[number - 3]


def _enter_sandbox(holder: int, bubblewrap: int) -> None:
    """Join the namespaces of the sandbox whose first process is ``holder``, the child of
    ``bubblewrap`` (process ids in this, the grader's, PID namespace). The holder is held
    by a pidfd while its namespaces are opened, and must still run once they are: a holder
    that ended meanwhile, its process id taken by another process, cannot send the job
    elsewhere. Raises OSError saying what failed."""
    c = libc()  # the C library
    pidfd = os.pidfd_open(holder)
    try:
        parent = int(_stat_field(holder, 4))
        if parent != bubblewrap:
            raise OSError(f"process {holder} is not the sandbox's first process")
        handles = [(ns, os.open(f"/proc/{holder}/ns/{ns}", os.O_RDONLY)) for ns in JOIN_ORDER]
        try:
            ended = select.poll()
            ended.register(pidfd, select.POLLIN)  # readable once the process has ended
            if ended.poll(0):
                raise OSError(f"the sandbox's first process {holder} has ended")
            for ns, handle in handles:
                raise_on_failure(c.setns(handle, 0), f"cannot join the sandbox's {ns} namespace")
        finally:
            for _, handle in handles:
                os.close(handle)
    finally:
        os.close(pidfd)


def _drop_capabilities() -> None:
    """Give up every capability (effective, permitted, inheritable, ambient and bounding)
    and the means to gain any (no_new_privs), as bubblewrap does for its own children."""
    import ctypes

    c = libc()  # the C library
    pr_capbset_drop, pr_set_no_new_privs = 24, 38
    for capability in range(64):
        c.prctl(pr_capbset_drop, capability, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]

    version_3 = 0x20080522
    raise_on_failure(
        c.capset(ctypes.byref(Header(version_3, 0)), (Data * 2)()), "cannot drop capabilities"
    )
    raise_on_failure(c.prctl(pr_set_no_new_privs, 1, 0, 0, 0), "cannot set no_new_privs")


def _clear_environment_block() -> None:
    """Zero the environment this process was started with, as the kernel keeps it (what
    ``/proc/self/environ`` shows): a job forked from the zygote would otherwise show the
    zygote's own (the grader's PATH, the batch folder's host path, which names the grader's
    process id, and the zygote's token) to anything in its sandbox. Call it
    once ``os.environ`` has been replaced (the C library's copy then points elsewhere)."""
    import ctypes

    env_start, env_end = int(_stat_field("self", 50)), int(_stat_field("self", 51))
    ctypes.memset(env_start, 0, env_end - env_start)


def _become_job(request: dict, answer: int) -> None:
    """In the forked child: join the sandbox, become its user (uid and gid
    :data:`~batch_grader.sandboxed.layout.SANDBOX_UID`: outside, the sandbox's throwaway
    identity and its process limit, where it has them) and fork into its PID namespace;
    there, give up every capability, take the system-call filter
    (:mod:`batch_grader.trusted.syscall_filter`) and fork the job, write its process id in
    the sandbox on ``answer`` (or the error), and exit, so that the job is orphaned inside
    the sandbox and its holder reaps it. The job takes the sandbox's folder and
    environment (nothing of the zygote's is left in its ``/proc/self/environ``) and runs
    ``python -m module argv`` as if started so; it never returns."""
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, answer)  # nothing of the zygote's goes into the sandbox
        os.closerange(answer + 1, os.sysconf("SC_OPEN_MAX"))
        if request.get("memory_group"):  # while the machine's cgroup files are in view
            memory_groups.move_into(Path(request["memory_group"]), os.getpid())
        if request.get("memory_bytes"):
            limit = int(request["memory_bytes"])
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.setgroups([])  # the zygote's (root's) groups are not the job's
        _enter_sandbox(int(request["holder"]), int(request["bubblewrap"]))
        ids = (SANDBOX_UID,) * 3  # the sandbox's user, whatever it is outside
        os.setresgid(*ids)
        os.setresuid(*ids)
        entered = os.fork()  # the first process to enter the PID namespace
    except Exception as error:  # noqa: BLE001 - told to the grader, which starts it cold
        os.write(answer, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
        os._exit(1)
    if entered:  # wait for it, so that its answer is written before this one's end
        try:
            os.waitpid(entered, 0)
        except ChildProcessError:  # reaped already (SIGCHLD is ignored here)
            pass
        finally:
            os._exit(0)
    try:
        _drop_capabilities()
        program = syscall_filter.program_here()
        if program is not None:  # as bubblewrap did for the holder
            syscall_filter.install(program)
        job = os.fork()  # orphaned inside the sandbox: the holder (its PID 1) reaps it
    except Exception as error:  # noqa: BLE001
        os.write(answer, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
        os._exit(1)
    if job:
        os.write(answer, json.dumps({"pid": job}).encode())  # its id in the sandbox
        os._exit(0)
    code = 1
    try:
        os.close(answer)
        os.chdir(request["cwd"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        _clear_environment_block()
        tempfile.tempdir = None
        try:
            run_job(request["module"], request["argv"])  # undumpable: nothing it runs traces it
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
    except BaseException:  # noqa: BLE001 - its log says why
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve_job(request: dict) -> dict:
    """Fork a job into a sandbox (see :func:`_become_job`); the job's process id, or the
    error."""
    read_end, write_end = os.pipe()
    try:
        child = os.fork()
    except OSError as error:
        os.close(read_end)
        os.close(write_end)
        return {"error": str(error)}
    if child == 0:
        os.close(read_end)
        _become_job(request, write_end)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        answer = reader.read()
    try:
        return json.loads(answer)
    except ValueError:
        return {"error": f"the job's start said {answer[:200]!r}"}


def serve(extra_modules: list[str] | None = None) -> int:
    """The zygote's main loop: import, say ready, then fork one kernel (or one job into a
    sandbox) per request."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does; the kernel adds its own folder back
    import importlib

    for module in (*PRELOAD, *(extra_modules or [])):
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished kernels are reaped at once
    zygote = os.getpid()
    print(READY, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "job" in request:
            print(json.dumps(_serve_job(request["job"])), flush=True)
            continue
        try:
            pid = os.fork()
        except OSError as error:  # out of processes or memory: this one kernel starts cold
            print(json.dumps({"error": str(error)}), flush=True)
            continue
        if pid == 0:
            become_kernel(request, zygote)
        print(json.dumps({"pid": pid}), flush=True)
    return 0


# --- the grader's side ------------------------------------------------------------------------
class Zygote:
    """A running zygote, shared by the batch's worker threads (requests are serialized).

    ``command`` runs the zygote (tests may point it elsewhere); ``popen(command,
    **streams)`` starts it under the sandbox's limits, in its folder, with its environment
    (:meth:`batch_grader.trusted.sandbox.LimitedStart.popen`).
    """

    answer_timeout = 30.0  # seconds for a fork's answer

    def __init__(
        self,
        popen: Callable[..., subprocess.Popen],
        command: list[str] | None = None,
        preload: tuple[str, ...] = (),
    ) -> None:
        self._lock = threading.Lock()
        self.jobs_possible = True  # False once a job could not be forked into a sandbox
        self.process = popen(
            command or [sys.executable, "-m", "batch_grader.trusted.warm_kernels", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        answer = self._read_line(START_TIMEOUT)
        if answer != READY:
            ended = self.process.poll()
            self.close()
            how = f"it ended with status {ended}" if ended is not None else f"it said {answer!r}"
            raise ZygoteUnavailable(f"the warm-kernel process did not start ({how})")

    def _read_line(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(
            target=lambda: result.append(self.process.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(timeout)
        return result[0].strip() if result else ""

    def _ask(self, request: dict, failure: str) -> int:
        """Send ``request``, one line; the process id it answers. Raises
        :class:`ZygoteUnavailable` (starting with ``failure`` when the fork failed)."""
        line = json.dumps(request) + "\n"
        with self._lock:
            if self.process.poll() is not None:
                raise ZygoteUnavailable(
                    f"the warm-kernel process exited ({self.process.returncode})"
                )
            try:
                self.process.stdin.write(line)
                self.process.stdin.flush()
                answer = self._read_line(self.answer_timeout)
            except (BrokenPipeError, OSError) as error:
                raise ZygoteUnavailable(f"the warm-kernel process stopped: {error}") from error
            if not answer:  # a late answer would be read as the next one's: stop it
                self.close()
                raise ZygoteUnavailable("the warm-kernel process did not answer")
        reply = json.loads(answer)
        if "error" in reply:
            raise ZygoteUnavailable(f"{failure}: {reply['error']}")
        return int(reply["pid"])

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        """Fork a kernel running ``ipykernel`` with ``argv`` in ``cwd`` with exactly ``env``;
        returns its process id (also its session and process-group id)."""
        request = {"argv": argv, "cwd": str(cwd), "env": env}
        return self._ask(request, "the warm-kernel process could not fork")

    def spawn_job(
        self,
        holder: int,
        bubblewrap: int,
        module: str,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        log: str,
        memory_group: Path | None = None,
        memory_bytes: int | None = None,
    ) -> int:
        """Fork ``python -m module argv`` (already imported: warm) into the sandbox whose
        first process is ``holder``, a child of the process ``bubblewrap`` (and into its
        ``memory_group``, when it has one), with
        exactly ``env``, in ``cwd``, its output in ``log``, its address space limited to
        ``memory_bytes`` when given (else it keeps the zygote's); returns its process id
        in the sandbox's PID namespace. Once the request is sent, a failure may leave the job
        started: the caller must not start another in the same sandbox without ending it
        first."""
        job = {"holder": holder, "bubblewrap": bubblewrap, "module": module, "argv": argv}
        job.update(env=env, cwd=cwd)
        job["memory_group"] = None if memory_group is None else str(memory_group)
        job["memory_bytes"] = memory_bytes
        return self._ask({"job": {**job, "log": log}}, "no warm job in the sandbox")

    def close(self) -> None:
        """Stop the zygote (the kernels it forked are stopped by their own runs)."""
        try:
            self.process.kill()
        except OSError:
            pass
        self.process.wait()


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
