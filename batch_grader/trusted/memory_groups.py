"""A memory limit on a whole sandbox, every process in it together, with the memory
controller of Linux control groups (cgroup v1).

The address-space limit that each process takes (:class:`batch_grader.trusted.sandbox.Limits`)
does not bound a sandbox that starts many processes: twenty of them, each under the limit,
could take the machine's memory, and Linux's out-of-memory killer would then pick the
largest process on the machine, perhaps another student's kernel or the grader. In a
memory control group of its own, a sandbox that goes over its limit loses one of its own
processes instead. Its tmpfs (the disk quota) counts too: files are memory there.

The groups live under the grader's own memory group (read from ``/proc/self/cgroup``): one
for the batch, ``keras-course-batch-<grader pid>-<batch tag>``, and one per sandbox in it.
Making them needs root and a writable cgroup v1 memory hierarchy; elsewhere (cgroup v2, or no root)
:meth:`MemoryGroups.start` says why not, and each process keeps its own limit only.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
import uuid
from pathlib import Path

import psutil

HIERARCHY = Path("/sys/fs/cgroup/memory")
BATCH_GROUP_PREFIX = "keras-course-batch-"
LIMIT_FILE = "memory.limit_in_bytes"
SWAP_LIMIT_FILE = "memory.memsw.limit_in_bytes"  # memory and swap together, where swap counts
PROCESSES_FILE = "cgroup.procs"
PEAK_FILE = "memory.max_usage_in_bytes"  # the most the group's processes held at once
REMOVE_SECONDS = 10  # for the processes of a killed sandbox to finish leaving its group


class MemoryGroupError(OSError):
    """A memory group could not be made, joined or removed."""


def own_group(hierarchy: Path = HIERARCHY, cgroup_file: Path = Path("/proc/self/cgroup")) -> Path:
    """The memory group this process is in, as a folder of ``hierarchy``. Raises
    MemoryGroupError when this machine has no cgroup v1 memory hierarchy."""
    for line in cgroup_file.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            folder = hierarchy / path.lstrip("/")
            if (folder / LIMIT_FILE).exists():
                return folder
    raise MemoryGroupError(f"no cgroup v1 memory hierarchy at {hierarchy}")


def move_into(group: Path, pid: int) -> None:
    """Move process ``pid`` (its threads too) into memory group ``group``; the processes
    it starts afterwards are born there."""
    try:
        (group / PROCESSES_FILE).write_text(str(pid))
    except OSError as error:
        raise MemoryGroupError(f"cannot move process {pid} into {group}: {error}") from error


def _remove(group: Path, seconds: float) -> bool:
    """Remove the group ``group``, killing any process still in it (and waiting up to
    ``seconds`` for them to go); whether it is gone."""
    try:
        for pid in (group / PROCESSES_FILE).read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    except (FileNotFoundError, ValueError):
        pass
    deadline = time.monotonic() + seconds
    while True:
        try:
            group.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


class MemoryGroups:
    """The batch's memory groups: :meth:`new` makes one for a sandbox, :meth:`remove`
    takes it away when the sandbox has ended, :meth:`close` removes the batch's own."""

    def __init__(self, batch_group: Path) -> None:
        self.batch_group = batch_group

    @classmethod
    def start(cls, hierarchy: Path = HIERARCHY, tag: str = "") -> MemoryGroups:
        """The batch's group, made under the grader's own (named by the grader's process
        id and the batch's ``tag``, so that two batches of one process keep apart).
        Raises MemoryGroupError saying why it cannot be made here."""
        name = f"{BATCH_GROUP_PREFIX}{psutil.Process().pid}" + (f"-{tag}" if tag else "")
        batch_group = own_group(hierarchy) / name
        try:
            batch_group.mkdir(exist_ok=True)
        except OSError as error:
            raise MemoryGroupError(f"cannot make a memory group here: {error}") from error
        groups = cls(batch_group)
        try:  # a sandbox's group takes its limit: check that one can be set here
            groups.remove(groups.new(64))
        except MemoryGroupError:
            groups.close()
            raise
        return groups

    def new(self, memory_mb: int) -> Path:
        """A new group for one sandbox whose processes may use ``memory_mb`` MiB in all."""
        group = self.batch_group / uuid.uuid4().hex
        try:
            group.mkdir()
            limit = str(memory_mb * 1024 * 1024)
            (group / LIMIT_FILE).write_text(limit)
            if (group / SWAP_LIMIT_FILE).exists():
                (group / SWAP_LIMIT_FILE).write_text(limit)
        except OSError as error:
            _remove(group, 0)
            raise MemoryGroupError(f"cannot limit the memory of {group}: {error}") from error
        return group

    def remove(self, group: Path) -> int | None:
        """Remove the group of a sandbox that has ended (left for the next batch's sweep,
        :func:`sweep_stale_groups`, if its processes are slow to go). Returns the most
        memory its processes held at once, in bytes (its tmpfs files included), or None
        when the machine does not say."""
        try:
            peak = int((group / PEAK_FILE).read_text())
        except (OSError, ValueError):
            peak = None
        _remove(group, REMOVE_SECONDS)
        return peak

    def close(self) -> None:
        """Remove the batch's group and any sandbox group still in it."""
        for group in self.batch_group.iterdir():
            if group.is_dir():
                _remove(group, REMOVE_SECONDS)
        _remove(self.batch_group, REMOVE_SECONDS)


def sweep_stale_groups(hierarchy: Path = HIERARCHY) -> list[Path]:
    """Remove the memory groups of batches whose grader is gone (killed before it could
    clean up); returns them. Nothing happens where there are no memory groups."""
    try:
        parent = own_group(hierarchy)
    except (MemoryGroupError, OSError):
        return []
    removed = []
    for batch_group in parent.glob(f"{BATCH_GROUP_PREFIX}*"):
        match = re.fullmatch(rf"{BATCH_GROUP_PREFIX}(\d+)(-[0-9a-f]+)?", batch_group.name)
        if match and not psutil.pid_exists(int(match[1])) and batch_group.is_dir():
            for group in batch_group.iterdir():
                if group.is_dir():
                    _remove(group, 0)
            if _remove(batch_group, 0):
                removed.append(batch_group)
    return removed
