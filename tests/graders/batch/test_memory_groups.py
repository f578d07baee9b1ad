"""The memory limit on a whole sandbox (graders/batch/memory_groups.py), on this machine's
real control groups: it holds for all of a group's processes together, and the groups a
killed grader leaves are swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from graders.batch.memory_groups import (
    BATCH_GROUP_PREFIX,
    MemoryGroupError,
    MemoryGroups,
    join,
    own_group,
    sweep_stale_groups,
)


def _groups() -> MemoryGroups:
    try:
        return MemoryGroups.start()
    except MemoryGroupError as error:
        if os.geteuid() == 0 and os.path.isdir("/sys/fs/cgroup/memory"):
            raise  # root with a cgroup v1 memory hierarchy must have them
        pytest.skip(f"no memory groups here: {error}")


HOG = (
    "import sys\n"
    "sys.stdin.readline()\n"  # joined its group: now take 160 MiB, twice
    "import subprocess\n"
    'take = \'import time\\nheld = b"x" * (160 << 20)\\nprint("held", flush=True)\\n'
    "time.sleep(3)'\n"
    "first = subprocess.Popen([sys.executable, '-c', take], stdout=subprocess.PIPE)\n"
    "first.stdout.readline()\n"
    "second = subprocess.run([sys.executable, '-c', take], capture_output=True, timeout=60)\n"
    "print(second.returncode, first.poll(), flush=True)\n"
    "first.kill()\n"
)


def test_a_group_limits_all_its_processes_together_and_is_removed_after():
    """Two processes of 160 MiB each, in a group of 256 MiB: is one of them killed
    (SIGKILL, by the out-of-memory killer), and are the groups gone once closed?"""
    groups = _groups()
    try:
        group = groups.new(256)
        process = subprocess.Popen(
            [sys.executable, "-c", HOG], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        join(group, process.pid)
        process.stdin.write("go\n")
        process.stdin.flush()
        second, first = process.stdout.readline().split()
        process.wait(60)
        assert -signal.SIGKILL in (int(second), None if first == "None" else int(first))
        groups.remove(group)
        assert not group.exists()
    finally:
        groups.close()
    assert not groups.batch_group.exists()


def test_a_killed_graders_groups_are_swept_and_a_live_ones_kept():
    """Are the groups named after a grader that no longer runs removed by the next batch,
    and those of a running grader (this one) kept?"""
    groups = _groups()
    try:
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        ).stdout.strip()
        stale = own_group() / f"{BATCH_GROUP_PREFIX}{gone}"
        (stale / "sandbox").mkdir(parents=True)
        assert sweep_stale_groups() == [stale]
        assert not stale.exists() and groups.batch_group.exists()
    finally:
        groups.close()
