"""The memory limit on a whole sandbox (batch_grader/trusted/memory_groups.py), on this machine's
real control groups: it holds for all of a group's processes together, the groups a
killed grader leaves are swept, and a GPU's sandbox relies on it instead of the
address-space limit, under which CUDA cannot start."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

from batch_grader.sandboxed import execute
from batch_grader.trusted.memory_groups import (
    BATCH_GROUP_PREFIX,
    MemoryGroupError,
    MemoryGroups,
    move_into,
    own_group,
    sweep_stale_groups,
)
from batch_grader.trusted.sandbox import (
    PROCESS_LIMIT,
    Limits,
    kill_sandbox,
    limited_start,
    new_batch_tag,
    run_sandboxed,
)
from batch_grader.trusted.warm_kernels import Zygote
from tests.batch_grader import isolation_here

pytestmark = pytest.mark.sandbox

MEMORY_MB = 3072


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
        group = groups.new(256, PROCESS_LIMIT)
        process = subprocess.Popen(
            [sys.executable, "-c", HOG], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        move_into(group, process.pid)
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
        swept = sweep_stale_groups()  # other tests' killed graders may have left some too
        assert stale in swept and groups.batch_group not in swept
        assert not stale.exists() and groups.batch_group.exists()
    finally:
        groups.close()


def _address_space_limit(tmp_path: Path, devices: tuple[Path, ...], zygote, groups) -> str:
    """The address-space limit a notebook sees in a sandbox given ``devices``."""
    inputs, outputs = tmp_path / "input", tmp_path / "output"
    inputs.mkdir(parents=True)
    outputs.mkdir()
    cell = (
        "import resource\n"
        "print(*(resource.getrlimit(kind)[0] for kind in (resource.RLIMIT_AS, "
        "resource.RLIMIT_DATA)))"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nbformat.write(notebook, inputs / "prepared.ipynb")
    outcome = run_sandboxed(
        "batch_grader.sandboxed.execute",
        ["60"],
        inputs=inputs,
        outputs=outputs,
        data_folder=None,
        limits=Limits(seconds=120, memory_mb=MEMORY_MB),
        isolation_used=isolation_here(),
        expected=lambda name: execute.RETURNED.get(str(name), 0),
        returned=tuple(execute.RETURNED),
        devices=devices,
        zygote=zygote,
        memory_groups=groups,
        tag=new_batch_tag(),
    )
    assert outcome.returncode == 0, outcome.stderr
    executed = nbformat.read(outputs / "executed.ipynb", as_version=4)
    return executed.cells[0].outputs[0]["text"].strip()


@pytest.mark.skipif(not isolation_here().isolated, reason="bubblewrap does not work here")
@pytest.mark.parametrize("start", ["cold", "warm"])
def test_a_gpu_sandbox_limits_its_data_not_its_address_space_and_others_keep_theirs(
    tmp_path, start
):
    """CUDA cannot start under an address-space limit: does a sandbox given device nodes
    (a GPU's; /dev/null stands in) run without one, with a data-segment limit instead,
    while a sandbox of the same batch without devices keeps its address-space limit,
    started cold or forked warm from a zygote that has none?"""
    groups = _groups()
    zygote = None
    if start == "warm":
        token = uuid.uuid4().hex
        limits = Limits(seconds=300, memory_mb=MEMORY_MB)
        zygote = Zygote(limited_start(tmp_path, tmp_path, limits, token, gpu=True).popen)
    try:
        gpu = _address_space_limit(tmp_path / "gpu", (Path("/dev/null"),), zygote, groups)
        cpu = _address_space_limit(tmp_path / "cpu", (), zygote, groups)
        assert zygote is None or zygote.jobs_possible  # both ran warm
    finally:
        groups.close()
        if zygote is not None:
            zygote.close()
            kill_sandbox(token)
    memory = str(MEMORY_MB * 2**20)
    assert gpu.split() == [str(resource.RLIM_INFINITY), memory]
    assert cpu.split()[0] == memory
