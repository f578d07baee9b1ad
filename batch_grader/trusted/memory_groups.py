"""A memory limit (and, with cgroup v2, a process limit) on a whole sandbox, every
process in it together, with Linux control groups: the unified hierarchy (cgroup v2)
where its memory and pids controllers are delegated to the grader, else the memory
hierarchy of cgroup v1.

The address-space limit that each process takes (:class:`batch_grader.trusted.sandbox.Limits`)
does not bound a sandbox that starts many processes: twenty of them, each under the limit,
could take the machine's memory, and Linux's out-of-memory killer would then pick the
largest process on the machine, perhaps another student's kernel or the grader. In a
memory control group of its own, a sandbox that goes over its limit loses one of its own
processes instead. Its tmpfs (the disk quota) counts too: files are memory there. Under
cgroup v2 its group also bounds its processes and threads (``pids.max``), as root too, and
is ended at once with ``cgroup.kill``.

The groups live beside the grader (read from ``/proc/self/cgroup``): one for the batch,
``keras-course-batch-<grader pid>-<batch tag>``, and one per sandbox in it. Under cgroup
v2 a group with processes cannot hand controllers to groups below it, so the grader first
moves every process of its group (itself, and what shares it) into a leaf
(``keras-course-grader-<pid>``) and enables the controllers there. It does so only in a
group that is its own: one systemd delegated (``systemd-run --scope -p Delegate=yes``), or
the root of its cgroup namespace (a container's); elsewhere it says how to start it. Making
groups needs root or a delegated subtree; elsewhere :meth:`MemoryGroups.start` says why
not, and each process keeps its own limits only.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

V1_HIERARCHY = Path("/sys/fs/cgroup/memory")
BATCH_GROUP_PREFIX = "keras-course-batch-"
GRADER_LEAF_PREFIX = "keras-course-grader-"
PROCESSES_FILE = "cgroup.procs"
REMOVE_SECONDS = 10  # for the processes of a killed sandbox to finish leaving its group
MOUNTS = Path("/proc/self/mountinfo")
OWN_GROUPS = Path("/proc/self/cgroup")


class MemoryGroupError(OSError):
    """A memory group could not be made, joined or removed."""


@dataclass(frozen=True)
class Version:
    """What one version of control groups calls its files.

    ``controller`` names the memory hierarchy's line in ``/proc/self/cgroup`` (v1), or is
    empty for the unified hierarchy's ``0::`` line (v2); ``marker`` is a file every group
    of the version has; ``hands_down`` the controllers a group enables for the groups
    below it (v2; v1 hierarchies have theirs everywhere). ``swap_is_total``: the swap file
    limits memory and swap together (v1), else swap alone (v2, set to 0)."""

    name: str
    controller: str
    marker: str
    hands_down: tuple[str, ...]
    memory_limit: str
    swap_limit: str
    swap_is_total: bool
    peak: str  # the most the group's processes held at once
    process_limit: str | None  # None: processes are limited per user instead
    kill: str | None  # a file that kills every process of the group at once


V2 = Version(
    name="cgroup v2",
    controller="",
    marker="cgroup.controllers",
    hands_down=("memory", "pids"),
    memory_limit="memory.max",
    swap_limit="memory.swap.max",
    swap_is_total=False,
    peak="memory.peak",
    process_limit="pids.max",
    kill="cgroup.kill",
)
V1 = Version(
    name="cgroup v1",
    controller="memory",
    marker="memory.limit_in_bytes",
    hands_down=(),
    memory_limit="memory.limit_in_bytes",
    swap_limit="memory.memsw.limit_in_bytes",
    swap_is_total=True,
    peak="memory.max_usage_in_bytes",
    process_limit=None,
    kill=None,
)


def _own_path(version: Version, cgroup_file: Path) -> str | None:
    """This process's group path in ``version``'s hierarchy, from ``cgroup_file``."""
    for line in cgroup_file.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if version.controller in controllers.split(","):  # "" for the "0::" line
            return path
    return None


def unified_hierarchy(mounts: Path = MOUNTS) -> Path | None:
    """Where the unified hierarchy (cgroup v2) is mounted (``/sys/fs/cgroup``, or
    ``/sys/fs/cgroup/unified`` beside cgroup v1); None where it is not."""
    for line in mounts.read_text().splitlines():
        fields = line.split()
        separator = fields.index("-")
        if fields[separator + 1] == "cgroup2":
            return Path(fields[4])
    return None


def own_group(
    hierarchy: Path = V1_HIERARCHY, cgroup_file: Path = OWN_GROUPS, version: Version = V1
) -> Path:
    """The group this process is in, as a folder of ``hierarchy`` (``version``'s). Raises
    MemoryGroupError when the machine has no such group with a memory controller."""
    path = _own_path(version, cgroup_file)
    if path is not None:
        folder = hierarchy / path.lstrip("/")
        if (folder / version.marker).exists():
            return folder
    raise MemoryGroupError(f"no {version.name} memory hierarchy at {hierarchy}")


def move_into(group: Path, pid: int) -> None:
    """Move process ``pid`` (its threads too) into group ``group``; the processes it
    starts afterwards are born there."""
    try:
        (group / PROCESSES_FILE).write_text(str(pid))
    except OSError as error:
        raise MemoryGroupError(f"cannot move process {pid} into {group}: {error}") from error


def _remove_folder(group: Path) -> None:
    group.rmdir()  # a group's files go with it


def _remove(group: Path, seconds: float, kill_file: str | None = None) -> bool:
    """Remove the group ``group``, killing any process still in it (with ``kill_file``
    where the group has one, else one by one) and waiting up to ``seconds`` for them to
    go; whether it is gone."""
    killed = False
    if kill_file is not None and (group / kill_file).exists():
        with contextlib.suppress(OSError):
            (group / kill_file).write_text("1")
            killed = True
    if not killed:
        try:
            for pid in (group / PROCESSES_FILE).read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        except (FileNotFoundError, ValueError):
            pass
    deadline = time.monotonic() + seconds
    while True:
        try:
            _remove_folder(group)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _enable_controllers(group: Path, controllers: tuple[str, ...] = V2.hands_down) -> None:
    """Hand ``controllers`` (cgroup v2's) to the groups below ``group``."""
    wanted = " ".join(f"+{controller}" for controller in controllers)
    (group / "cgroup.subtree_control").write_text(wanted)


DELEGATION_MARKS = ("trusted.delegate", "user.delegate")
"""The extended attributes systemd sets on a group it delegates (``Delegate=yes``)."""


def _delegated(own: Path, hierarchy: Path) -> bool:
    """Whether the grader may rearrange ``own``: the root of what it sees (a machine's, or
    a container's own cgroup namespace), or a group systemd delegated."""
    if own == hierarchy:
        return True
    for mark in DELEGATION_MARKS:
        with contextlib.suppress(OSError):
            os.getxattr(own, mark)
            return True
    return False


def _members(group: Path) -> list[int]:
    """The processes in ``group``, this one first."""
    listed = [int(pid) for pid in (group / PROCESSES_FILE).read_text().split()]
    return [os.getpid(), *(pid for pid in listed if pid != os.getpid())]


def _v2_base(hierarchy: Path, cgroup_file: Path) -> Path:
    """The cgroup v2 group the batch's groups go in: the grader's own, once every process
    in it (the grader, and what shares its delegated group: its reaper, a Dask nanny) has
    moved into a leaf of it (see the module). Raises MemoryGroupError saying why not."""
    own = own_group(hierarchy, cgroup_file, V2)
    if own.name.startswith(GRADER_LEAF_PREFIX):  # moved already (an earlier batch, a parent)
        return own.parent
    offered = (own / "cgroup.controllers").read_text().split()
    missing = [c for c in V2.hands_down if c not in offered]
    if missing:
        raise MemoryGroupError(
            f"cgroup v2 at {hierarchy} does not delegate the {' and '.join(missing)} "
            f"controller to {own} (it offers: {' '.join(offered) or 'none'})"
        )
    enabled = (own / "cgroup.subtree_control").read_text().split()
    if all(controller in enabled for controller in V2.hands_down):
        return own
    if not _delegated(own, hierarchy):
        raise MemoryGroupError(
            f"the grader's cgroup v2 group {own} is not delegated to it: start the grader "
            "in a delegated group of its own (systemd-run --scope -p Delegate=yes ...)"
        )
    leaf = own / f"{GRADER_LEAF_PREFIX}{os.getpid()}"
    moved: list[int] = []
    try:
        leaf.mkdir(exist_ok=True)
        for pid in _members(own):
            try:
                move_into(leaf, pid)
                moved.append(pid)
            except MemoryGroupError as error:
                if not isinstance(error.__cause__, ProcessLookupError):  # not gone meanwhile
                    raise
        _enable_controllers(own)
    except OSError as error:
        for pid in moved:
            with contextlib.suppress(OSError):
                move_into(own, pid)
        with contextlib.suppress(OSError):
            _remove_folder(leaf)  # never killing what is in it: the grader, if not moved
        raise MemoryGroupError(
            f"cannot hand cgroup v2's memory and pids controllers down from {own} ({error}): "
            "start the grader in a delegated group of its own "
            "(systemd-run --scope -p Delegate=yes ...)"
        ) from error
    return own


class MemoryGroups:
    """The batch's control groups, of ``version``: :meth:`new` makes one for a sandbox,
    :meth:`remove` takes it away when the sandbox has ended, :meth:`close` removes the
    batch's own."""

    def __init__(self, batch_group: Path, version: Version = V1) -> None:
        self.batch_group = batch_group
        self.version = version

    @classmethod
    def start(
        cls,
        tag: str = "",
        *,
        v1_hierarchy: Path = V1_HIERARCHY,
        mounts: Path = MOUNTS,
        cgroup_file: Path = OWN_GROUPS,
    ) -> MemoryGroups:
        """The batch's group (named by the grader's process id and the batch's ``tag``, so
        that two batches of one process keep apart), under cgroup v2 where its controllers
        are delegated, else cgroup v1. Raises MemoryGroupError saying why neither works."""
        name = f"{BATCH_GROUP_PREFIX}{os.getpid()}" + (f"-{tag}" if tag else "")
        reasons = []
        unified = unified_hierarchy(mounts)
        if unified is None:
            reasons.append("no cgroup v2 hierarchy is mounted")
        else:
            try:
                return cls._started(_v2_base(unified, cgroup_file) / name, V2)
            except (MemoryGroupError, OSError) as error:
                reasons.append(str(error))
        try:
            return cls._started(own_group(v1_hierarchy, cgroup_file, V1) / name, V1)
        except (MemoryGroupError, OSError) as error:
            reasons.append(str(error))
        raise MemoryGroupError("; ".join(reasons))

    @classmethod
    def _started(cls, batch_group: Path, version: Version) -> MemoryGroups:
        try:
            batch_group.mkdir(exist_ok=True)
            if version.hands_down:
                _enable_controllers(batch_group, version.hands_down)
        except OSError as error:
            _remove(batch_group, 0)
            raise MemoryGroupError(f"cannot make a memory group here: {error}") from error
        groups = cls(batch_group, version)
        try:  # a sandbox's group takes its limits: check that they can be set here
            groups.remove(groups.new(64, 64))
        except MemoryGroupError:
            groups.close()
            raise
        return groups

    def describe(self, memory_mb: int, processes: int) -> str:
        """What holds a whole sandbox, for the results: "cgroup v2: 4096 MiB of memory and
        1024 processes a whole sandbox"."""
        limits = f"{memory_mb} MiB of memory"
        if self.version.process_limit is not None:
            limits += f" and {processes} processes"
        return f"{self.version.name}: {limits} a whole sandbox"

    def new(self, memory_mb: int, processes: int) -> Path:
        """A new group for one sandbox whose processes may use ``memory_mb`` MiB in all
        and, under cgroup v2, be ``processes`` at most (threads count)."""
        group = self.batch_group / uuid.uuid4().hex
        version = self.version
        try:
            group.mkdir()
            limit = str(memory_mb * 1024 * 1024)
            (group / version.memory_limit).write_text(limit)
            if (group / version.swap_limit).exists():  # where swap is on and counted
                (group / version.swap_limit).write_text(limit if version.swap_is_total else "0")
            if version.process_limit is not None:
                (group / version.process_limit).write_text(str(processes))
        except OSError as error:
            _remove(group, 0)
            raise MemoryGroupError(f"cannot limit {group}: {error}") from error
        return group

    def remove(self, group: Path) -> int | None:
        """Remove the group of a sandbox that has ended (left for the next batch's sweep,
        :func:`sweep_stale_groups`, if its processes are slow to go). Returns the most
        memory its processes held at once, in bytes (its tmpfs files included), or None
        when the machine does not say."""
        try:
            peak = int((group / self.version.peak).read_text())
        except (OSError, ValueError):
            peak = None
        _remove(group, REMOVE_SECONDS, self.version.kill)
        return peak

    def close(self) -> None:
        """Remove the batch's group and any sandbox group still in it."""
        for group in self.batch_group.iterdir():
            if group.is_dir():
                _remove(group, REMOVE_SECONDS, self.version.kill)
        _remove(self.batch_group, REMOVE_SECONDS)


def _parents(v1_hierarchy: Path, mounts: Path, cgroup_file: Path) -> list[Path]:
    """The groups batches may have been made in, under either version."""
    parents = []
    with contextlib.suppress(MemoryGroupError, OSError):
        parents.append(own_group(v1_hierarchy, cgroup_file, V1))
    with contextlib.suppress(MemoryGroupError, OSError, TypeError):
        own = own_group(unified_hierarchy(mounts), cgroup_file, V2)
        parents.append(own.parent if own.name.startswith(GRADER_LEAF_PREFIX) else own)
    return parents


def sweep_stale_groups(
    v1_hierarchy: Path = V1_HIERARCHY, mounts: Path = MOUNTS, cgroup_file: Path = OWN_GROUPS
) -> list[Path]:
    """Remove the groups of batches whose grader is gone (killed before it could clean
    up), and such a grader's empty cgroup v2 leaf; returns them. Nothing happens where
    there are no groups."""
    removed = []
    for parent in _parents(v1_hierarchy, mounts, cgroup_file):
        for folder in parent.glob(f"{GRADER_LEAF_PREFIX}*"):
            match = re.fullmatch(rf"{GRADER_LEAF_PREFIX}(\d+)", folder.name)
            if match and not psutil.pid_exists(int(match[1])):
                with contextlib.suppress(OSError):  # kept while what it started runs on
                    _remove_folder(folder)
                    removed.append(folder)
        for batch_group in parent.glob(f"{BATCH_GROUP_PREFIX}*"):
            match = re.fullmatch(rf"{BATCH_GROUP_PREFIX}(\d+)(-[0-9a-f]+)?", batch_group.name)
            if match and not psutil.pid_exists(int(match[1])) and batch_group.is_dir():
                for group in batch_group.iterdir():
                    if group.is_dir():
                        _remove(group, 0, V2.kill)
                if _remove(batch_group, 0):
                    removed.append(batch_group)
    return removed
