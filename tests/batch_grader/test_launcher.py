"""The launcher every sandboxed process starts through (batch_grader.trusted.launcher), in
place of a preexec_fn in the grader's threads: it takes the limits, joins its control
groups, executes the command with exactly the environment it was given (nothing of its
own or of its arguments left in /proc), and says what failed when it cannot; and no
module of the batch grader starts a process with a preexec_fn."""

from __future__ import annotations

import ast
import json
import os
import resource
import subprocess
import sys
import threading

import pytest

from batch_grader.trusted.isolation import read_first_process
from batch_grader.trusted.launcher import FAILED, Launch
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

REPORT = """
import json, os, resource
limits = {name: resource.getrlimit(getattr(resource, name))[0]
          for name in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_CORE")}
environ = open("/proc/self/environ", "rb").read().split(b"\\0")
print(json.dumps({"limits": limits, "env": sorted(os.environ), "environ": len(environ),
                  "ppid": os.getppid()}))
"""


def _run(launch: Launch, command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        launch.command(command),
        capture_output=True,
        text=True,
        env=launch.launcher_environment(EXTRA="launcher only"),
        timeout=60,
    )


def test_it_takes_the_limits_and_runs_the_command_with_exactly_its_environment():
    """Does the command run under the memory (address-space) limit, the 1 GiB file-size
    limit and no core dumps, with only the environment the launch names (not the
    launcher's own EXTRA), as the launcher's own process (its parent is the grader)?"""
    launch = Launch.here(memory_bytes=3 << 30, env={"ONLY": "this"})
    done = _run(launch, [sys.executable, "-c", REPORT])
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["limits"]["RLIMIT_AS"] == 3 << 30
    assert found["limits"]["RLIMIT_DATA"] == resource.RLIM_INFINITY
    assert found["limits"]["RLIMIT_FSIZE"] == 1 << 30 and found["limits"]["RLIMIT_CORE"] == 0
    assert found["env"] == ["LC_CTYPE", "ONLY"]  # LC_CTYPE: Python's own
    assert found["environ"] == 2  # ONLY=this and the terminating empty string
    assert found["ppid"] == os.getpid()


def test_a_gpus_launch_limits_the_data_segment_instead():
    launch = Launch.here(memory_bytes=3 << 30, env={}, data_only=True)
    done = _run(launch, [sys.executable, "-c", REPORT])
    found = json.loads(done.stdout)
    assert found["limits"]["RLIMIT_DATA"] == 3 << 30
    assert found["limits"]["RLIMIT_AS"] == resource.RLIM_INFINITY


def test_a_launch_whose_grader_is_gone_runs_nothing():
    """A launcher whose parent is not the grader that asked (it died before the launcher
    could ask to die with it) exits without running its command."""
    launch = Launch(memory_bytes=None, env={}, parent=1)
    done = _run(launch, [sys.executable, "-c", "print('ran')"])
    assert done.returncode == 1 and done.stdout == ""


def test_a_launch_whose_thread_has_ended_runs_nothing():
    """Linux kills a launcher when the grader's thread that started it ends, but only once
    it has asked: a thread that ended before (the launcher's Python was still starting)
    must be noticed, or the sandbox would outlive it."""
    ended = []
    thread = threading.Thread(target=lambda: ended.append(threading.get_native_id()))
    thread.start()
    thread.join()
    launch = Launch(memory_bytes=None, env={}, parent=os.getpid(), parent_thread=ended[0])
    done = _run(launch, [sys.executable, "-c", "print('ran')"])
    assert done.returncode == 1 and done.stdout == ""


def test_a_step_that_fails_is_named_and_nothing_runs(tmp_path):
    launch = Launch.here(memory_bytes=None, env={}, groups=(str(tmp_path / "no"),))
    done = _run(launch, [sys.executable, "-c", "print('ran')"])
    assert done.returncode == FAILED and done.stdout == ""
    assert done.stderr.startswith("the sandbox's launcher failed: [Errno 2] No such file")


def test_a_missing_command_is_said_to_be_missing():
    launch = Launch.here(memory_bytes=None, env={"PATH": "/nowhere"})
    done = _run(launch, ["no-such-program"])
    assert done.returncode == FAILED
    assert "the sandbox's launcher failed: [Errno 2]" in done.stderr


def test_bubblewraps_first_word_is_read_and_nothing_after_it():
    """The sandbox's first process id comes from the first JSON object on bubblewrap's
    --info-fd, written in pieces; a second object (what a sandbox that kept the descriptor
    could write) is never read, and a descriptor that ends first says so."""
    read_end, write_end = os.pipe()
    os.write(write_end, b'{\n    "child-pid": 4')
    os.write(write_end, b'2,\n    "cgroup-namespace": 1\n}\n{"child-pid": 1}')
    os.close(write_end)
    assert read_first_process(read_end) == 42
    os.close(read_end)
    read_end, write_end = os.pipe()
    os.write(write_end, b'{"child')
    os.close(write_end)
    with pytest.raises(OSError, match="--info-fd ended"):
        read_first_process(read_end)
    os.close(read_end)


def test_no_module_of_the_batch_grader_uses_a_preexec_fn():
    """Python's preexec_fn is unsafe in a process with threads, as the grader is: every
    process starts through the launcher instead."""
    users = []
    for path in sorted((REPO_ROOT / "batch_grader").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "preexec_fn":
                users.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert users == []
