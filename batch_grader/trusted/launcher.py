"""The program every sandboxed process starts through:
``python -P -m batch_grader.trusted.launcher SPEC -- COMMAND...``.

The grader's threads must not set up a child between fork and exec (Python's
``preexec_fn`` is unsafe in a process with threads: the child may deadlock on a lock that
another thread held at the fork). So the grader starts this small program instead, which,
single-threaded, does what a sandbox's first process needs before it becomes
``COMMAND``:

1. takes the limits (:class:`Launch`: memory, file size, no core dumps, processes);
2. joins its control groups (``cgroup.procs``), so that the sandbox is born in them;
3. with a throwaway identity, stages the read-only sources bubblewrap binds in a mount
   namespace of its own (see :class:`batch_grader.trusted.isolation.SandboxCommand`) and
   becomes that identity for good;
4. asks to die with the grader's thread that started it (Linux then kills it when that
   thread ends), and exits at once when the grader or that thread has already ended;
5. executes ``COMMAND`` with exactly the environment ``SPEC`` names, so that nothing of
   its own environment, its arguments or the grader's is left in ``/proc``.

Descriptors the grader passes (bubblewrap's ``--info-fd`` and ``--seccomp``) are kept open
through the exec. The launcher imports nothing but the standard library and
:mod:`batch_grader.sandboxed.linux`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from batch_grader.sandboxed.linux import die_with_parent, libc, raise_on_failure

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The folder the course's packages and the batch grader are imported from."""
MAX_FILE_BYTES = 1 << 30
STAGING = "/tmp"
"""Where a throwaway launcher mounts the folders it binds, in a mount namespace of its
own (the machine's ``/tmp`` is hidden from it, not changed)."""
FAILED = 126  # the exit status of a launcher that could not start its command


@dataclass(frozen=True)
class Launch:
    """How to start one sandboxed process.

    ``memory_bytes``, when given, limits its address space (``RLIMIT_AS``), or with
    ``data_only`` its data segment (``RLIMIT_DATA``: CUDA cannot start under an
    address-space limit);
    ``processes`` limits the processes and threads of its user (``RLIMIT_NPROC``), taken
    only as root (whom it does not bind, but the throwaway identity it becomes) since a
    plain user's limit would count all of that user's processes. ``groups`` are control
    group folders it joins; ``identity`` a throwaway user and group id it becomes after
    binding each ``staged`` (source, place under :data:`STAGING`) pair; ``env`` the whole
    environment of the command; ``parent`` the grader's process id and ``parent_thread``
    the native id of its thread that starts the launcher (see :meth:`here`), whose end
    kills it."""

    memory_bytes: int | None
    env: dict[str, str]
    parent: int
    parent_thread: int | None = None
    data_only: bool = False
    processes: int | None = None
    groups: tuple[str, ...] = ()
    identity: int | None = None
    staged: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def here(cls, **fields) -> Launch:
        """A launch started by this thread of this process (``parent`` and
        ``parent_thread``), with ``fields``."""
        return cls(parent=os.getpid(), parent_thread=threading.get_native_id(), **fields)

    def command(self, command: list[str]) -> list[str]:
        """The command line that runs ``command`` under this launch."""
        spec = json.dumps(asdict(self), sort_keys=True)
        return [sys.executable, "-P", "-m", __name__, spec, "--", *command]

    def launcher_environment(self, **extra: str) -> dict[str, str]:
        """The launcher's own environment, until it executes the command: its package
        importable, and ``extra`` (a sandbox's token, so that the reaper finds it)."""
        return {"PYTHONPATH": str(REPO_ROOT), **extra}


def _take_limits(launch: Launch) -> None:
    if launch.memory_bytes is not None:
        kind = resource.RLIMIT_DATA if launch.data_only else resource.RLIMIT_AS
        resource.setrlimit(kind, (launch.memory_bytes, launch.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if launch.processes is not None and os.geteuid() == 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (launch.processes, launch.processes))


def _join_groups(groups: tuple[str, ...]) -> None:
    for group in groups:
        with open(os.path.join(group, "cgroup.procs"), "w") as procs:
            procs.write(str(os.getpid()))


def _stage_and_become(identity: int, staged: tuple[tuple[str, str], ...]) -> None:
    """As root: take a mount namespace of its own, mount a tmpfs on :data:`STAGING`, bind
    each source there, then drop every group and become ``identity`` for good."""
    c = libc()
    ms_rec, ms_private, ms_bind = 0x4000, 0x40000, 0x1000
    clone_newns = 0x00020000
    raise_on_failure(c.unshare(clone_newns), "a mount namespace for the launcher")
    raise_on_failure(c.mount(b"none", b"/", None, ms_rec | ms_private, None), "private mounts")
    # opened before the tmpfs hides what lies under STAGING (a checkout in /tmp)
    sources = [os.open(source, os.O_PATH | os.O_CLOEXEC) for source, _ in staged]
    raise_on_failure(c.mount(b"tmpfs", STAGING.encode(), b"tmpfs", 0, b"mode=0755"), STAGING)
    for fd, (source, place) in zip(sources, staged, strict=True):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(place)
        else:
            os.close(os.open(place, os.O_CREAT | os.O_WRONLY, 0o644))
        origin = f"/proc/self/fd/{fd}".encode()
        raise_on_failure(c.mount(origin, place.encode(), None, ms_bind | ms_rec, None), source)
        os.close(fd)
    os.setgroups([])
    os.setresgid(identity, identity, identity)
    os.setresuid(identity, identity, identity)


def _thread_lives(launch: Launch) -> bool:
    """Whether the grader's thread that started this launcher still runs."""
    if launch.parent_thread is None:
        return True
    return os.path.exists(f"/proc/{launch.parent}/task/{launch.parent_thread}")


def become(launch: Launch, command: list[str]) -> None:
    """Set up this process as ``launch`` says (see the module) and execute ``command``;
    never returns. Raises OSError when a step fails."""
    _take_limits(launch)
    _join_groups(launch.groups)
    if launch.identity is not None:
        _stage_and_become(launch.identity, launch.staged)
    die_with_parent()  # last: a change of identity clears it
    if os.getppid() != launch.parent or not _thread_lives(launch):
        os._exit(1)  # it ended before the line above took effect: no signal will come
    os.execvpe(command[0], command, launch.env)


def main(argv: list[str]) -> int:
    """``SPEC -- COMMAND...``: launch, or say on stderr what failed (exit status 126)."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m batch_grader.trusted.launcher SPEC -- COMMAND...", file=sys.stderr)
        return 2
    fields = json.loads(argv[0])
    fields["groups"] = tuple(fields["groups"])
    fields["staged"] = tuple(tuple(pair) for pair in fields["staged"])
    try:
        become(Launch(**fields), argv[2:])
    except (OSError, ValueError) as error:  # setrlimit says ValueError when refused
        print(f"the sandbox's launcher failed: {error}", file=sys.stderr)
    return FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
