"""Isolation of untrusted processes with bubblewrap (``bwrap``), without Docker.

Every process the batch grader runs for a submission (its notebook's kernel and everything
the kernel starts, the re-run of its functions, the checks that load its model) runs in a
bubblewrap sandbox of its own:

- namespaces of its own: user (it is uid/gid ``SANDBOX_UID`` with no capabilities, and may
  not make user namespaces of its own), mount, PID, IPC, UTS, cgroup, and network (a
  loopback interface only: nothing outside the sandbox is reachable, not even another
  sandbox's kernel on 127.0.0.1);
- a root file system that holds only what Python needs, read-only: ``/usr`` and the
  library links, a few files of ``/etc``, the Python installation and virtual environment,
  the course's three packages and the batch grader's sandboxed part
  (:data:`SANDBOX_SOURCES`), and the inputs the grader gives (a folder, read-only);
- one writable folder, ``SANDBOX_HOME``, a tmpfs of ``disk_mb`` MiB (the disk quota), which
  vanishes with the sandbox (``TMPDIR`` is in it; ``/tmp`` and ``/dev/shm`` are small tmpfs
  of their own);
- a throwaway identity outside (when the grader is root): bubblewrap itself runs as a user
  and group id drawn at random for this one sandbox (:func:`throwaway_identity`), which
  owns nothing on the machine, so that whatever got out of the namespaces would be nobody,
  and its processes count against a process limit of their own (``RLIMIT_NPROC``, which
  Linux does not apply to root); the folders it binds are handed to it by the grader, so
  that it needs no right to reach them by path (:class:`SandboxCommand`);
- its own session (no terminal to push keys into), and it dies with the grader: bubblewrap
  is killed when the grader's thread ends, and when bubblewrap dies the kernel kills the
  whole PID namespace;
- the grader's runner is the namespace's PID 1 (``--as-pid-1``): the kernel cannot kill or
  stop it (Linux drops such signals to an init from inside its namespace), nor trace it
  (the runner makes itself undumpable), and when the runner ends, everything else does.

Nothing of the grader is visible: not its processes (they are in another PID namespace, so
none can be signalled or traced), not its files, the submissions, the results, other
sandboxes, or the grader's held-out data (given only to the checks' sandbox). Results come
back through a private channel (:mod:`batch_grader.sandboxed.channel`), never a shared folder.

Bubblewrap needs unprivileged user namespaces, or root. Where it is missing or cannot make
its namespaces, :func:`probe` says why and the batch runs with ``isolation: none``, loudly.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from batch_grader.sandboxed.layout import SANDBOX_DATA, SANDBOX_HOME, SANDBOX_INPUT, SANDBOX_UID
from batch_grader.trusted import syscall_filter
from batch_grader.trusted.launcher import REPO_ROOT, STAGING, Launch

SANDBOX_SOURCES = (
    "graders",
    "course_utils",
    "data_loaders",
    "batch_grader/__init__.py",
    "batch_grader/sandboxed",
)
"""The only part of the repository a sandbox sees: the course's packages, and of the batch
grader the code that runs inside a sandbox (nothing of the grader's own side)."""

TMP_MB = 64  # /tmp and /dev/shm, tmpfs of their own (TMPDIR is in the home folder)
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/mime.types",
)
"""What a sandbox sees of ``/etc`` (dynamic linking, time zone, fonts for matplotlib)."""

GPU_DEVICE_PATTERNS = ("nvidia*", "nvidia-caps/*", "dri/*")
"""The device nodes a GPU lesson's sandbox gets, when the machine has them."""

NAMESPACES = "user, mount, pid, ipc, uts, cgroup, network (loopback only)"
THROWAWAY_IDS = range(1_000_000_000, 2_000_000_000)
"""Where a sandbox's outer user and group id are drawn from: far above any account's."""


@dataclass(frozen=True)
class Isolation:
    """How submissions are isolated: ``kind`` is "bubblewrap" or "none"; ``detail`` says
    what that means (or why there is none). Recorded in every result. ``throwaway``:
    whether each sandbox runs as a throwaway user outside (:func:`throwaway_identity`).
    ``limits``: what holds a whole sandbox's memory, "cgroup v2" or "cgroup v1"
    (:mod:`batch_grader.trusted.memory_groups`), or "per process" where no control group
    does."""

    kind: str
    detail: str
    throwaway: bool = False
    limits: str = "per process"

    @property
    def isolated(self) -> bool:
        """Whether submissions run in bubblewrap sandboxes."""
        return self.kind == "bubblewrap"

    def record(self) -> dict[str, str]:
        """The fields every result carries: ``isolation``, ``isolation_detail`` and
        ``sandbox_limits``."""
        return {
            "isolation": self.kind,
            "isolation_detail": self.detail,
            "sandbox_limits": self.limits,
        }


NONE_REQUESTED = Isolation("none", "turned off with --isolation none")


def _python_roots() -> list[Path]:
    """The folders the sandbox's Python needs: its installation and the environment."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    executable = Path(sys.executable)
    roots.add(executable.parent.parent)
    roots.add(executable.resolve().parent.parent)
    return sorted(r for r in roots if not _under(r, Path("/usr")))


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def gpu_devices(dev: Path = Path("/dev")) -> list[Path]:
    """The NVIDIA (and DRI) device nodes under ``dev``, sorted; none on a machine without."""
    found = set()
    for pattern in GPU_DEVICE_PATTERNS:
        found.update(p for p in dev.glob(pattern) if not p.is_dir())
    return sorted(found)


def bwrap_arguments(
    *,
    inputs: Path,
    data_folder: Path | None,
    disk_mb: int,
    env: dict[str, str],
    devices: Iterable[Path] = (),
    info_fd: int | None = None,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The ``bwrap`` options (up to, not including, the command) for one sandbox.

    ``inputs`` appears read-only at :data:`SANDBOX_INPUT` and ``data_folder`` (a dataset
    cache) at :data:`SANDBOX_DATA`; ``env`` is the whole environment; ``devices`` are
    device nodes passed through (a GPU's, see :func:`gpu_devices`). Bubblewrap writes the
    sandbox's first process id on descriptor ``info_fd`` (see :func:`read_first_process`)
    and reads the system-call filter it applies from ``seccomp_fd``
    (:mod:`batch_grader.trusted.syscall_filter`, see :func:`filter_descriptor`).
    """
    args = []
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",
        "--ro-bind",
        "/usr",
        "/usr",
        # /tmp first: a checkout or a venv under /tmp is bound below it
        "--size",
        str(TMP_MB * 1024 * 1024),
        "--tmpfs",
        "/tmp",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for root in _python_roots():
        args += ["--ro-bind", str(root), str(root)]
    for source in SANDBOX_SOURCES:
        args += ["--ro-bind", str(REPO_ROOT / source), str(REPO_ROOT / source)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for device in devices:
        args += ["--dev-bind", str(device), str(device)]
    args += ["--size", str(disk_mb * 1024 * 1024), "--tmpfs", SANDBOX_HOME]
    args += ["--dir", f"{SANDBOX_HOME}/tmp"]
    args += ["--size", str(TMP_MB * 1024 * 1024), "--tmpfs", "/dev/shm"]
    args += ["--ro-bind", str(inputs), SANDBOX_INPUT]
    if data_folder is not None:
        args += ["--ro-bind", str(data_folder), SANDBOX_DATA]
    args += ["--remount-ro", "/", "--chdir", SANDBOX_HOME, "--clearenv"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    return args


def throwaway_identity() -> int:
    """A user id (also the group id) for one sandbox's processes as the machine sees them:
    drawn at random from :data:`THROWAWAY_IDS`, so that no account and, but by a one in
    10**9 chance, no other sandbox has it. Only root can take it (see
    :class:`SandboxCommand`)."""
    return THROWAWAY_IDS.start + secrets.randbelow(len(THROWAWAY_IDS))


class SandboxCommand:
    """A ``bwrap`` command line, :attr:`argv`: :func:`bwrap_arguments` ``**options``, then
    ``command``.

    With an ``identity`` (see :func:`throwaway_identity`), bubblewrap runs as that user,
    who could not reach most of what it binds by path (a Python under ``/root``, the
    batch's private folder). So its launcher (:mod:`batch_grader.trusted.launcher`, as
    root) takes a mount namespace of its own, binds each read-only source under
    :data:`~batch_grader.trusted.launcher.STAGING` (:attr:`staged`), and only then becomes
    ``identity``; bubblewrap binds from there. The machine's mounts are not changed.
    """

    def __init__(self, command: list[str], *, identity: int | None = None, **options) -> None:
        self.identity = identity
        self.staged: list[tuple[str, str]] = []  # (source, its place in STAGING)
        self.argv = [_bwrap_path() or "bwrap"]
        arguments = iter(bwrap_arguments(**options))
        for argument in arguments:
            if argument == "--ro-bind" and identity is not None:
                source, destination = next(arguments), next(arguments)
                self.staged.append((source, f"{STAGING}/{len(self.staged)}"))
                self.argv += ["--ro-bind", self.staged[-1][1], destination]
            else:
                self.argv.append(argument)
        self.argv += ["--", *command]

    def launch(self, *, memory_bytes: int | None, **options) -> Launch:
        """How its launcher starts it: with bubblewrap's own environment
        (:func:`bwrap_launcher_environment`), as :attr:`identity` after staging,
        ``memory_bytes`` and the other :class:`~batch_grader.trusted.launcher.Launch`
        ``options``."""
        return Launch.here(
            memory_bytes=memory_bytes,
            env=bwrap_launcher_environment(),
            identity=self.identity,
            staged=tuple(self.staged),
            **options,
        )


def bwrap_launcher_environment() -> dict[str, str]:
    """The environment bubblewrap itself starts with: nothing of the grader's (the sandbox
    gets its own with ``--setenv``; this one would be readable in ``/proc``)."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def _bwrap_path() -> str | None:
    return shutil.which("bwrap")


def filter_descriptor() -> int | None:
    """A descriptor holding the sandbox's system-call filter
    (:func:`batch_grader.trusted.syscall_filter.program`), for ``bwrap --seccomp``: the read
    end of a pipe, the whole program written and the write end closed; None where the
    filter has no table for this machine. The caller closes it once bubblewrap has
    started."""
    program = syscall_filter.program_here()
    if program is None:
        return None
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few hundred bytes: the pipe holds it
    finally:
        os.close(write_end)
    return read_end


INFO_SECONDS = 10.0  # for bubblewrap's word on descriptor --info-fd, once the sandbox is up


def read_first_process(info: int, seconds: float = INFO_SECONDS) -> int:
    """The process id, here, of the sandbox's first process, read from ``info``, the read
    end of bubblewrap's ``--info-fd``. Bubblewrap writes it (a JSON object, ``child-pid``)
    before it lets that process run, so the first object on ``info`` is bubblewrap's and
    nothing the sandbox could write. Raises OSError when none came within ``seconds``."""
    received = b""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found, _ = json.JSONDecoder().raw_decode(received.decode().lstrip())
            return int(found["child-pid"])
        except (ValueError, KeyError, TypeError):
            pass
        waiting = select.poll()  # not select(): a busy grader's descriptors pass 1024
        waiting.register(info, select.POLLIN)
        left_ms = max(0, int((deadline - time.monotonic()) * 1000))
        readable = bool(waiting.poll(left_ms))
        chunk = os.read(info, 4096) if readable else b""
        if not chunk:
            what = "ended" if readable else f"said nothing within {seconds:g} s"
            raise OSError(f"bubblewrap's --info-fd {what} (read {received[:200]!r})")
        received += chunk


def _run_probe(identity: int | None) -> str | None:
    """Start Python in a sandbox (as ``identity`` outside, when given) that must see itself
    as uid 1000 and PID 1, with no network but loopback and its system calls filtered
    (where the filter has a table for this machine), and import the grader's jobs; None
    when it did, else why not."""
    program = filter_descriptor()
    script = (
        "import ctypes, os, socket\n"
        f"assert os.getuid() == {SANDBOX_UID}, os.getuid()\n"
        f"assert ctypes.CDLL(None).unshare(0) == -1 or {program is None}, 'calls unfiltered'\n"
        "assert os.getpid() == 1, os.getpid()\n"
        "assert {n for _, n in socket.if_nameindex()} == {'lo'}, socket.if_nameindex()\n"
        # the environment works too
        "import batch_grader.sandboxed.holder, batch_grader.sandboxed.execute\n"
        "print('isolated')\n"
    )
    inputs = Path(os.devnull).parent  # any folder does: nothing is read from it
    try:
        sandbox = SandboxCommand(
            [sys.executable, "-P", "-c", script],
            identity=identity,
            inputs=inputs,
            data_folder=None,
            disk_mb=16,
            env={"PATH": "/usr/bin:/bin", "HOME": SANDBOX_HOME, "PYTHONPATH": str(REPO_ROOT)},
            seccomp_fd=program,
        )
        launch = sandbox.launch(memory_bytes=None)
        done = subprocess.run(
            launch.command(sandbox.argv),
            capture_output=True,
            text=True,
            timeout=60,
            env=launch.launcher_environment(),
            pass_fds=() if program is None else (program,),
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"bubblewrap could not start: {error}"
    finally:
        if program is not None:
            os.close(program)
    if done.returncode != 0 or "isolated" not in done.stdout:
        why = (done.stderr.strip() or done.stdout.strip())[-300:]
        return f"bubblewrap could not make its namespaces here: {why}"
    return None


def probe() -> Isolation:
    """Bubblewrap isolation when it works here (bubblewrap 0.8 or newer), with a throwaway
    identity outside when the grader is root and the machine lets a plain user make user
    namespaces; otherwise "none", with the reason."""
    if not sys.platform.startswith("linux"):
        return Isolation("none", f"bubblewrap needs Linux; this is {sys.platform}")
    if _bwrap_path() is None:
        return Isolation(
            "none",
            "bubblewrap (bwrap) is not installed: run ./course setup as root, or "
            "apt-get install bubblewrap",
        )
    inside = f"namespaces {NAMESPACES}; uid {SANDBOX_UID} without capabilities"
    system = "read-only system, one private tmpfs, " + (
        "system calls filtered"
        if syscall_filter.program_here() is not None
        else f"no system-call filter ({platform.machine()} has no table)"
    )
    outside = f"the grader's own uid {os.geteuid()} outside"
    if os.geteuid() == 0:
        throwaway_failed = _run_probe(throwaway_identity())
        if throwaway_failed is None:
            return Isolation(
                "bubblewrap",
                f"bubblewrap: {inside}, a throwaway uid outside; {system}",
                throwaway=True,
            )
        outside = f"root outside (a throwaway user failed: {throwaway_failed})"
    failed = _run_probe(None)
    if failed is not None:
        return Isolation("none", failed)
    return Isolation("bubblewrap", f"bubblewrap: {inside}, {outside}; {system}")
