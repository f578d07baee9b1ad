"""Run an untrusted command under limits: in a bubblewrap sandbox when the batch has one
(:mod:`batch_grader.trusted.isolation`), always in its own session (so the whole process tree can
be killed), with a memory limit, a file-size limit, no core dumps, a wall-clock
limit, and an environment that names nothing of the grader's. Every running sandbox is
registered, so that Ctrl-C ends them all at once (:data:`RUNNING`)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import psutil

from batch_grader.sandboxed import channel
from batch_grader.sandboxed.holder import JOB_LOG as HOLDER_JOB_LOG
from batch_grader.sandboxed.job import command as job_command
from batch_grader.trusted import isolation
from batch_grader.trusted.launcher import Launch
from batch_grader.trusted.memory_groups import MemoryGroupError, MemoryGroups
from batch_grader.trusted.warm_kernels import Zygote, ZygoteUnavailable
from course_utils.language import LANGUAGE_ENV_VAR, SOURCE
from course_utils.tensorflow_settings import TENSORFLOW_ENVIRONMENT
from data_loaders.cache import CACHE_ENV_VAR

REPO_ROOT = isolation.REPO_ROOT
TOKEN_ENV_VAR = "KERAS_COURSE_SANDBOX"


def new_batch_tag() -> str:
    """A batch's tag (12 hex digits), the first part of every sandbox token it hands out
    (see :func:`new_token`): its reaper (:mod:`batch_grader.trusted.reaper`) kills what carries
    it, and nothing of another batch, even one graded in the same process."""
    return secrets.token_hex(6)


def new_token(tag: str) -> str:
    """A new sandbox token of the batch tagged ``tag``: the tag, a dash, a random part."""
    return f"{tag}-{uuid.uuid4().hex}"


PROCESS_LIMIT = 1024
"""Processes and threads one sandbox may have at once (TensorFlow starts a few dozen
threads per core); a fork bomb stops there instead of taking the machine's process ids."""


@dataclass(frozen=True)
class Limits:
    """Wall-clock seconds for the whole run; memory in MiB, for each process its address
    space, or its data segment in a GPU's sandbox (CUDA cannot start under an
    address-space limit), and for the whole sandbox where it has a control group
    (:mod:`batch_grader.trusted.memory_groups`); in a bubblewrap sandbox, the size of its
    writable folder in MiB (its disk quota); and the processes and threads it may have at
    once (in its control group, or as a throwaway user: Linux exempts root)."""

    seconds: float
    memory_mb: int
    disk_mb: int = 2048
    processes: int = PROCESS_LIMIT


@dataclass(frozen=True)
class Outcome:
    """How the sandboxed command ended."""

    returncode: int | None  # None when it was killed (too long, or what it sent was bad)
    timed_out: bool
    stderr: str


JOB_SETTINGS = {
    "MPLBACKEND": "Agg",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    **TENSORFLOW_ENVIRONMENT,
    "JUPYTER_PLATFORM_DIRS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "PYTHONPATH": str(REPO_ROOT),
}
"""What every job's environment holds, isolated or not: headless plotting, quiet
TensorFlow with the course's settings (the learner's kernel has them too), and the
course's packages importable."""


def sandbox_environment(
    folder: Path, data_folder: Path, token: str, language: str = SOURCE
) -> dict[str, str]:
    """A minimal environment: HOME and temp in ``folder``, the course's packages importable,
    the public dataset cache ``data_folder``, headless plotting, the learner's ``language``
    (of the checks' feedback) and the sandbox's ``token`` (inherited by everything started
    in it, so that all of it can be found and killed, see :func:`kill_sandbox`)."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(JOB_SETTINGS)
    env.update({"HOME": str(folder), "TMPDIR": str(folder), CACHE_ENV_VAR: str(data_folder)})
    env[LANGUAGE_ENV_VAR] = language
    env[TOKEN_ENV_VAR] = token
    return env


@dataclass(frozen=True)
class LimitedStart:
    """How the batch starts a process under a sandbox's :class:`Limits` outside any
    bubblewrap sandbox (the zygote, a job without isolation): in ``cwd``, with exactly
    ``env`` (which carries the sandbox's token), in a session of its own, through the
    launcher (:mod:`batch_grader.trusted.launcher`), which takes the memory limit (of a
    GPU's kind with ``gpu``: see :attr:`Limits.memory_mb`), the file-size and core-dump
    limits and, as root, the process limit, and dies with the thread that started it."""

    cwd: Path
    env: dict[str, str]
    limits: Limits
    gpu: bool = False

    def popen(self, command: list[str], **streams) -> subprocess.Popen:
        """Start ``command``; ``streams`` are Popen's (stdin, stdout, stderr, text)."""
        launch = Launch.here(
            memory_bytes=self.limits.memory_mb * 1024 * 1024,
            env=self.env,
            data_only=self.gpu,
            processes=self.limits.processes,
        )
        return subprocess.Popen(
            launch.command(command),
            cwd=self.cwd,
            env=launch.launcher_environment(**{TOKEN_ENV_VAR: self.env[TOKEN_ENV_VAR]}),
            start_new_session=True,
            **streams,
        )


def limited_start(
    folder: Path,
    data_folder: Path,
    limits: Limits,
    token: str,
    gpu: bool = False,
    language: str = SOURCE,
) -> LimitedStart:
    """A :class:`LimitedStart` in ``folder`` with the sandbox environment
    (:func:`sandbox_environment` with ``token`` and ``language``)."""
    environment = sandbox_environment(folder, data_folder, token, language)
    return LimitedStart(folder, environment, limits, gpu)


class Stopped(Exception):
    """The batch is stopping (Ctrl-C): no new sandbox starts."""


class _Running:
    """The sandboxes running now, so that a stopping batch can kill them at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = False
        self.processes: dict[int, tuple[subprocess.Popen, str]] = {}
        self.cleanups: dict[int, Callable[[], object]] = {}

    def add(self, process: subprocess.Popen, token: str) -> None:
        with self.lock:
            if self.stopping:
                process.kill()
                raise Stopped()
            self.processes[process.pid] = (process, token)

    def remove(self, process: subprocess.Popen) -> None:
        with self.lock:
            self.processes.pop(process.pid, None)

    def on_stop(self, key: int, cleanup) -> None:
        """Run ``cleanup()`` if the batch stops before :meth:`forget` ``(key)``."""
        with self.lock:
            if self.stopping:
                cleanup()
                raise Stopped()
            self.cleanups[key] = cleanup

    def forget(self, key: int) -> None:
        with self.lock:
            self.cleanups.pop(key, None)

    def check(self) -> None:
        if self.stopping:
            raise Stopped()

    def reset(self) -> None:
        """Accept sandboxes again (a new batch in this process)."""
        with self.lock:
            self.stopping = False

    def stop_all(self) -> None:
        """Refuse new sandboxes and kill every running one with all its processes."""
        with self.lock:
            self.stopping = True
            running = list(self.processes.values())
            cleanups = list(self.cleanups.values())
        for process, token in running:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            kill_sandbox(token)
        for cleanup in cleanups:
            cleanup()


RUNNING = _Running()
READY_SECONDS = 120  # for a sandbox to start, on a slow, busy machine
STDERR_TAIL = 2000  # bytes of a job's standard error kept for its reasons
"""Every sandbox the batch is running; :meth:`_Running.stop_all` ends them all."""


def _drain(stream, keep: int, into: list[bytes]) -> threading.Thread:
    """Read ``stream`` to its end on a thread, keeping its last ``keep`` bytes in ``into``."""

    def read() -> None:
        tail = b""
        while chunk := stream.read(65536):
            tail = (tail + chunk)[-keep:]
        into.append(tail)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def isolated_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment inside a bubblewrap sandbox (paths as the sandbox sees them)."""
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **JOB_SETTINGS,
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": isolation.SANDBOX_HOME,
        "TMPDIR": f"{isolation.SANDBOX_HOME}/tmp",
        CACHE_ENV_VAR: isolation.SANDBOX_DATA,
        channel.ISOLATED_ENV_VAR: "1",
        channel.INPUT_ENV_VAR: isolation.SANDBOX_INPUT,
    }
    env.update(extra or {})
    return env


def run_sandboxed(
    module: str,
    arguments: list[str],
    *,
    inputs: Path,
    outputs: Path,
    data_folder: Path | None,
    limits: Limits,
    isolation_used: isolation.Isolation,
    expected: Callable[[PurePosixPath], int],
    returned: tuple[str, ...],
    env: dict[str, str] | None = None,
    devices: tuple[Path, ...] = (),
    zygote: Zygote | None = None,
    memory_groups: MemoryGroups | None = None,
    tag: str,
) -> Outcome:
    """Run ``python -m module arguments`` on the files in ``inputs``, under ``limits``;
    the files it makes land in ``outputs``.

    With bubblewrap, ``inputs`` and ``data_folder`` are read-only, the job runs in the
    sandbox's own folder, and the sandbox's holder sends back the ``returned`` files and
    folders (:mod:`batch_grader.sandboxed.holder`), kept when ``expected`` gives their names a
    byte budget (see :func:`batch_grader.sandboxed.channel.receive`); a
    ``zygote`` (:class:`batch_grader.trusted.warm_kernels.Zygote`) forks the job in warm, else it
    starts cold; with ``memory_groups``, the whole sandbox runs in a memory group of
    its own, limited to ``limits.memory_mb``. Every process of the sandbox carries a token
    of the batch tagged ``tag`` (:func:`new_token`). A sandbox given ``devices`` (a GPU's) has
    a data-segment limit instead of an address-space limit, under which CUDA cannot
    start (see :class:`Limits`; the zygote of a batch with such sandboxes starts so, and
    each other job it forks takes an address-space limit of its own). Without
    bubblewrap, the inputs are copied into ``outputs``, where the job runs. ``env`` adds
    to the job's environment; ``devices`` are passed through."""
    RUNNING.check()
    token = new_token(tag)
    if not isolation_used.isolated:
        return _run_unisolated(
            module, arguments, inputs, outputs, data_folder, limits, env, token, bool(devices)
        )
    job_env = isolated_environment({**(env or {}), TOKEN_ENV_VAR: token})
    identity = isolation.throwaway_identity() if isolation_used.throwaway else None
    if identity is not None:
        readable_by_all(inputs)  # the data folders are made so once, by the batch
    group = _new_group(memory_groups, limits)  # the sandbox is born in it
    process = None
    info = -1
    try:
        process, info = _start_bubblewrap(
            job_env, limits, identity, inputs, data_folder, devices, group, token
        )
        RUNNING.add(process, token)
    except BaseException:  # Stopped, or no sandbox could start: nothing is left behind
        if info >= 0:
            os.close(info)
        if process is not None:
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                stream.close()
        if group is not None:
            memory_groups.remove(group)
        raise
    expired = threading.Event()  # set by the wall-clock limit only

    def kill() -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass

    def expire() -> None:
        expired.set()
        kill()

    timer = threading.Timer(limits.seconds, expire)
    timer.start()
    slow = threading.Event()  # set when the sandbox did not start in time

    def too_slow() -> None:
        slow.set()
        kill()

    not_ready = threading.Timer(READY_SECONDS, too_slow)  # a sandbox that never starts
    not_ready.start()
    tail: list[bytes] = []
    reader = _drain(process.stderr, STDERR_TAIL, tail)
    problem = ""
    try:
        ready = process.stdout.readline() == b"ready\n"
        not_ready.cancel()
        if ready:
            memory = None if devices else limits.memory_mb * 1024 * 1024
            sandbox = (process.pid, info)
            instruction = _instruction(sandbox, module, arguments, job_env, zygote, group, memory)
            process.stdin.write(json.dumps({**instruction, "returned": returned}).encode())
            process.stdin.write(b"\n")
            process.stdin.close()
            channel.receive(process.stdout, outputs, expected)
        elif slow.is_set():
            problem = f"the sandbox did not start within {READY_SECONDS} s"
        elif RUNNING.stopping:
            problem = "the batch is stopping"
        elif not expired.is_set():  # its launcher or bubblewrap said why, on stderr
            problem = "the sandbox did not start"
    except (channel.ChannelError, OSError) as error:
        problem = str(error)
        kill()
    finally:
        not_ready.cancel()
        os.close(info)
        process.stdout.close()
        process.wait()
        timer.cancel()
        RUNNING.remove(process)
        if group is not None:
            _note_peak(memory_groups.remove(group))
    reader.join(5)
    stderr = (tail[0] if tail else b"").decode(errors="replace")
    if problem or expired.is_set():  # nothing half-sent is graded
        shutil.rmtree(outputs, ignore_errors=True)
        outputs.mkdir()
    if problem:
        stderr = f"{stderr}\n{problem}".strip()
    finished = not expired.is_set() and not problem
    return Outcome(
        process.returncode if finished else None, expired.is_set(), stderr[-STDERR_TAIL:]
    )


def _start_bubblewrap(
    job_env: dict[str, str],
    limits: Limits,
    identity: int | None,
    inputs: Path,
    data_folder: Path | None,
    devices: tuple[Path, ...],
    group: Path | None,
    token: str,
) -> tuple[subprocess.Popen, int]:
    """Start a sandbox's bubblewrap through its launcher (as ``identity`` outside, when
    given; born in control group ``group``, when given), its holder's channel on its
    standard streams, under the system-call filter (where it has a table for this
    machine). Returns the process and the read end
    of bubblewrap's ``--info-fd`` (:func:`batch_grader.trusted.isolation.read_first_process`),
    which the caller closes."""
    info, bubblewrap_info = os.pipe()
    program = None
    try:
        program = isolation.filter_descriptor()
        sandbox = isolation.SandboxCommand(
            [sys.executable, "-P", "-m", "batch_grader.sandboxed.holder"],
            identity=identity,
            inputs=inputs,
            data_folder=data_folder,
            disk_mb=limits.disk_mb,
            env=job_env,
            devices=devices,
            info_fd=bubblewrap_info,
            seccomp_fd=program,
        )
        launch = sandbox.launch(
            memory_bytes=limits.memory_mb * 1024 * 1024,
            data_only=bool(devices),
            processes=limits.processes,
            groups=() if group is None else (str(group),),
        )
        process = subprocess.Popen(
            launch.command(sandbox.argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd="/",
            env=launch.launcher_environment(**{TOKEN_ENV_VAR: token}),
            start_new_session=True,
            pass_fds=(bubblewrap_info,) if program is None else (bubblewrap_info, program),
        )
    except BaseException:
        os.close(info)
        raise
    finally:
        os.close(bubblewrap_info)
        if program is not None:
            os.close(program)
    return process, info


_PEAK = threading.local()


def measure_peak_memory() -> None:
    """Start measuring, on this thread, the memory of the sandboxes it runs (see
    :func:`peak_memory_mb`)."""
    _PEAK.bytes = None


def _note_peak(peak: int | None) -> None:
    if peak is not None:
        _PEAK.bytes = max(peak, getattr(_PEAK, "bytes", None) or 0)


def peak_memory_mb() -> float | None:
    """The most memory one sandbox run by this thread held at once since
    :func:`measure_peak_memory`, in MiB (rounded to 0.1); None where no sandbox ran in a
    memory group (:mod:`batch_grader.trusted.memory_groups`) that measures it."""
    peak = getattr(_PEAK, "bytes", None)
    return None if peak is None else round(peak / 2**20, 1)


def readable_by_all(folder: Path) -> None:
    """Let any user read ``folder`` and everything in it (a sandbox's throwaway user reads
    its inputs and data; the batch's private folder around them stays the grader's)."""
    for path in (folder, *folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            path.chmod(stat.S_IMODE(mode) | 0o555)
        elif stat.S_ISREG(mode):
            path.chmod(stat.S_IMODE(mode) | 0o444)


def _new_group(groups: MemoryGroups | None, limits: Limits) -> Path | None:
    """A new control group of ``limits`` for one sandbox, from ``groups``; None without
    groups, or, said on stderr, when the machine refuses (the sandbox then runs with its
    per-process limits only: a fault of the grader's machine is not the student's)."""
    if groups is None:
        return None
    try:
        return groups.new(limits.memory_mb, limits.processes)
    except MemoryGroupError as error:
        print(f"a sandbox runs without its memory group: {error}", file=sys.stderr)
        return None


def _instruction(
    sandbox: tuple[int, int],
    module: str,
    arguments: list[str],
    env: dict,
    zygote,
    memory_group: Path | None,
    memory_bytes: int | None,
) -> dict:
    """What the holder of a ``sandbox`` (bubblewrap's process id, and the read end of its
    ``--info-fd``) is to do: wait for the job that ``zygote`` forks in (warm, into the
    holder's namespaces, its process id read from that descriptor; born in
    ``memory_group``, its address space limited to ``memory_bytes`` when given), or start
    it itself (cold)."""
    if zygote is not None and zygote.jobs_possible:
        bubblewrap, info = sandbox
        try:
            holder = isolation.read_first_process(info)
            warm_env = {**env, channel.WARM_ENV_VAR: "1"}
            log = f"{isolation.SANDBOX_HOME}/{HOLDER_JOB_LOG}"
            pid = zygote.spawn_job(
                holder,
                bubblewrap,
                module,
                arguments,
                warm_env,
                isolation.SANDBOX_HOME,
                log,
                memory_group=memory_group,
                memory_bytes=memory_bytes,
            )
            return {"warm": pid}
        except (ZygoteUnavailable, OSError) as error:
            # The holder ends anything that started before it starts the job cold.
            zygote.jobs_possible = False
            print(f"warm jobs unavailable, starting each cold: {error}", file=sys.stderr)
    return {"cold": [module, *arguments]}


def _run_unisolated(module, arguments, inputs, outputs, data_folder, limits, env, token, gpu):
    """:func:`run_sandboxed` without bubblewrap: in ``outputs``, its own session."""
    shutil.copytree(inputs, outputs, dirs_exist_ok=True)
    job_env = {
        **sandbox_environment(outputs, data_folder or outputs, token),
        channel.INPUT_ENV_VAR: str(outputs),
        **(env or {}),
    }
    process = LimitedStart(outputs, job_env, limits, gpu).popen(
        job_command(module, arguments),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    RUNNING.add(process, token)
    tail: list[bytes] = []
    reader = _drain(process.stderr, STDERR_TAIL, tail)
    try:
        process.wait(timeout=limits.seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        kill_sandbox(token)
        RUNNING.remove(process)
    process.wait()
    reader.join(5)
    stderr = (tail[0] if tail else b"").decode(errors="replace")
    return Outcome(None if timed_out else process.returncode, timed_out, stderr[-STDERR_TAIL:])


def kill_sandbox(token: str) -> int:
    """Kill every process that carries the sandbox's token in its environment (the runner,
    its kernel, anything they started, even if orphaned). Returns how many were killed. A
    job forked warm into a bubblewrap sandbox shows no environment in ``/proc`` (see
    :mod:`batch_grader.trusted.warm_kernels`): it ends with its sandbox's PID namespace,
    when bubblewrap, which carries the token on its command line, is killed."""
    return _kill_where(lambda process: process.environ().get(TOKEN_ENV_VAR) == token)


def kill_tagged(tag: str) -> int:
    """Kill every process that carries a token of the batch tagged ``tag`` (see
    :func:`new_batch_tag`): on its command line (a bubblewrap that has not yet started its
    command holds the token only there) or in its environment. Returns how many."""
    prefix = f"{tag}-"

    def tagged(process: psutil.Process) -> bool:
        if any(part.startswith(prefix) for part in process.cmdline()):
            return True
        return process.environ().get(TOKEN_ENV_VAR, "").startswith(prefix)

    return _kill_where(tagged)


def _kill_where(carries: Callable[[psutil.Process], bool]) -> int:
    """Kill every process (but this one) for which ``carries(process)`` is true, and wait
    up to 5 s for them to end. Returns how many were killed."""
    victims = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and carries(process):
                victims.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    for process in victims:
        try:
            process.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    psutil.wait_procs(victims, timeout=5)
    return len(victims)
