"""The control groups of a batch under either version (batch_grader/trusted/memory_groups.py),
on trees laid out like the kernel's in a temporary folder: cgroup v2 where its memory and
pids controllers are delegated (the grader moves into a leaf of its own and hands them
down), cgroup v1 where only that has a memory controller (as on this machine, whose
unified hierarchy holds hugetlb alone), and why neither, said. The real groups of this
machine are tested in test_memory_groups.py."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batch_grader.trusted import memory_groups
from batch_grader.trusted.memory_groups import (
    BATCH_GROUP_PREFIX,
    GRADER_LEAF_PREFIX,
    V1,
    V2,
    MemoryGroupError,
    MemoryGroups,
    sweep_stale_groups,
)

pytestmark = pytest.mark.unit

OWN = "user.slice/grader.scope"


class Tree:
    """A cgroup v2 hierarchy (``unified``) and a cgroup v1 memory one (``memory``), with
    the mount table and the /proc/self/cgroup that name them."""

    def __init__(
        self, root: Path, offered: str = "memory pids", v1: bool = False, delegated: bool = True
    ) -> None:
        self.unified = root / "unified"
        self.memory = root / "memory"
        self.own = self.unified / OWN
        self.own.mkdir(parents=True)
        (self.unified / "cgroup.controllers").write_text("cpu memory pids hugetlb\n")
        (self.own / "cgroup.controllers").write_text(f"{offered}\n")
        (self.own / "cgroup.subtree_control").write_text("\n")
        (self.own / "cgroup.procs").write_text(f"{os.getpid()}\n")
        if delegated:  # as systemd marks a group it delegates
            os.setxattr(self.own, "user.delegate", b"1")
        self.mounts = root / "mountinfo"
        self.mounts.write_text(
            f"35 24 0:30 / {self.unified} rw,nosuid,nodev,noexec,relatime shared:9 - "
            "cgroup2 cgroup2 rw,nsdelegate\n"
        )
        self.cgroup_file = root / "cgroup"
        lines = [f"0::/{OWN}"]
        if v1:
            (self.memory / "grader").mkdir(parents=True)
            (self.memory / "grader" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
            lines.insert(0, "4:memory:/grader")
        self.cgroup_file.write_text("\n".join(lines) + "\n")

    def start(self, tag: str = "abc123") -> MemoryGroups:
        return MemoryGroups.start(
            tag, v1_hierarchy=self.memory, mounts=self.mounts, cgroup_file=self.cgroup_file
        )


@pytest.fixture(autouse=True)
def plain_folders(monkeypatch):
    """A real group's files go with it on rmdir; a plain folder's must be removed."""
    monkeypatch.setattr(memory_groups, "_remove_folder", shutil.rmtree)


def test_under_cgroup_v2_the_grader_moves_into_a_leaf_and_hands_the_controllers_down(
    tmp_path, monkeypatch
):
    """With memory and pids delegated to the grader's group, does the batch take cgroup v2:
    the grader in a leaf of its own, both controllers enabled for the batch's group and
    for the sandboxes' groups below it, each sandbox limited in memory (no swap where
    swap counts) and in processes?"""
    tree = Tree(tmp_path)
    groups = tree.start()
    leaf = tree.own / f"{GRADER_LEAF_PREFIX}{os.getpid()}"
    assert groups.version is V2
    assert groups.batch_group == tree.own / f"{BATCH_GROUP_PREFIX}{os.getpid()}-abc123"
    assert (leaf / "cgroup.procs").read_text() == str(os.getpid())
    assert (tree.own / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (groups.batch_group / "cgroup.subtree_control").read_text() == "+memory +pids"
    group = groups.new(4096, 1024)
    assert (group / "memory.max").read_text() == str(4096 << 20)
    assert (group / "pids.max").read_text() == "1024"
    assert groups.describe(4096, 1024) == (
        "cgroup v2: 4096 MiB of memory and 1024 processes a whole sandbox"
    )
    (group / "memory.peak").write_text("123456789\n")
    (group / "cgroup.kill").write_text("0")
    killed = {}

    def remove(folder: Path) -> None:  # what cgroup.kill held when the group went
        killed[folder] = (folder / "cgroup.kill").read_text()
        shutil.rmtree(folder)

    monkeypatch.setattr(memory_groups, "_remove_folder", remove)
    assert groups.remove(group) == 123456789
    assert killed == {group: "1"} and not group.exists()
    monkeypatch.setattr(memory_groups, "_remove_folder", shutil.rmtree)
    groups.close()
    assert not groups.batch_group.exists()


def test_what_shares_the_graders_group_moves_into_the_leaf_with_it(tmp_path, monkeypatch):
    """The grader's reaper, or a Dask nanny, shares its group: the kernel would refuse to
    hand the controllers down while they stay. Are they moved too, the grader first, and
    one that ended meanwhile passed over?"""
    tree = Tree(tmp_path)
    (tree.own / "cgroup.procs").write_text(f"{os.getpid()}\n4242\n4343\n")
    moves = []
    real_move = memory_groups.move_into

    def move(group: Path, pid: int) -> None:
        if pid == 4343:  # ended meanwhile: the kernel says ESRCH
            raise MemoryGroupError("gone") from ProcessLookupError(errno.ESRCH, "gone")
        moves.append((group.name, pid))
        real_move(group, pid)

    monkeypatch.setattr(memory_groups, "move_into", move)
    tree.start().close()
    leaf = f"{GRADER_LEAF_PREFIX}{os.getpid()}"
    assert moves == [(leaf, os.getpid()), (leaf, 4242)]
    assert (tree.own / "cgroup.subtree_control").read_text() == "+memory +pids"


def test_a_group_not_delegated_to_the_grader_is_left_as_it_is(tmp_path):
    """A group systemd did not delegate (an ssh session's scope): are its processes left
    where they are, its controllers untouched, and the instructor told how to start?"""
    tree = Tree(tmp_path, delegated=False)
    with pytest.raises(MemoryGroupError, match="is not delegated to it") as refused:
        tree.start()
    assert "systemd-run --scope -p Delegate=yes" in str(refused.value)
    assert (tree.own / "cgroup.subtree_control").read_text() == "\n"
    assert [p.name for p in tree.own.iterdir() if p.is_dir()] == []


def test_a_second_batch_of_the_same_grader_stays_beside_the_leaf(tmp_path):
    """Once the grader is in its leaf (/proc/self/cgroup names it), does the next batch go
    in the group above, without a leaf in the leaf?"""
    tree = Tree(tmp_path)
    tree.start().close()
    tree.cgroup_file.write_text(f"0::/{OWN}/{GRADER_LEAF_PREFIX}{os.getpid()}\n")
    (tree.own / f"{GRADER_LEAF_PREFIX}{os.getpid()}" / "cgroup.controllers").write_text("")
    groups = tree.start("def456")
    assert groups.batch_group.parent == tree.own and groups.version is V2
    assert sorted(p.name for p in tree.own.iterdir() if p.is_dir()) == [
        f"{BATCH_GROUP_PREFIX}{os.getpid()}-def456",
        f"{GRADER_LEAF_PREFIX}{os.getpid()}",
    ]
    groups.close()


def test_where_only_cgroup_v1_has_memory_the_batch_takes_it(tmp_path):
    """This machine's layout: a unified hierarchy without memory or pids beside a cgroup
    v1 memory hierarchy. The batch takes v1: memory per sandbox, processes left to the
    per-user limit, and the grader stays where it is."""
    tree = Tree(tmp_path, offered="hugetlb", v1=True)
    groups = tree.start()
    assert groups.version is V1
    assert groups.batch_group.parent == tree.memory / "grader"
    group = groups.new(4096, 1024)
    assert (group / "memory.limit_in_bytes").read_text() == str(4096 << 20)
    assert not (group / "pids.max").exists()
    assert groups.describe(4096, 1024) == "cgroup v1: 4096 MiB of memory a whole sandbox"
    assert not any(p.name.startswith(GRADER_LEAF_PREFIX) for p in tree.own.iterdir())
    groups.close()


def test_without_either_it_says_why_for_each(tmp_path):
    tree = Tree(tmp_path, offered="cpu")
    with pytest.raises(MemoryGroupError) as refused:
        tree.start()
    assert str(refused.value) == (
        f"cgroup v2 at {tree.unified} does not delegate the memory and pids controller "
        f"to {tree.own} (it offers: cpu); no cgroup v1 memory hierarchy at {tree.memory}"
    )


def test_a_group_shared_with_other_processes_is_refused_and_the_grader_moved_back(
    tmp_path, monkeypatch
):
    """Where the kernel refuses to hand the controllers down (other processes share the
    grader's group: EBUSY), is the grader back in its
    group, its leaf gone, and the instructor told how to start it instead?"""
    tree = Tree(tmp_path)

    def busy(group: Path) -> None:  # what the kernel says while others share the group
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))

    monkeypatch.setattr(memory_groups, "_enable_controllers", busy)
    with pytest.raises(MemoryGroupError, match=r"Delegate=yes") as refused:
        tree.start()
    assert "cannot hand cgroup v2's memory and pids controllers down" in str(refused.value)
    assert (tree.own / "cgroup.procs").read_text() == str(os.getpid())
    assert not (tree.own / f"{GRADER_LEAF_PREFIX}{os.getpid()}").exists()


def test_a_dead_graders_groups_and_leaf_are_swept_and_a_live_ones_kept(tmp_path):
    tree = Tree(tmp_path)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)
    stale = tree.own / f"{BATCH_GROUP_PREFIX}{dead}-0a1b"
    (stale / "sandbox").mkdir(parents=True)
    (tree.own / f"{GRADER_LEAF_PREFIX}{dead}").mkdir()
    live = tree.start()
    swept = sweep_stale_groups(tree.memory, tree.mounts, tree.cgroup_file)
    assert sorted(swept) == sorted([stale, tree.own / f"{GRADER_LEAF_PREFIX}{dead}"])
    assert live.batch_group.is_dir()
    live.close()
