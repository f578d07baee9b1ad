"""The batch's reaper (batch_grader.trusted.reaper): after a grader dies, it kills what the
grader's sandboxes left behind, including a bubblewrap stuck half-way through starting,
and nothing that another grader started."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from batch_grader.trusted import isolation
from batch_grader.trusted.reaper import start, stop
from batch_grader.trusted.sandbox import TOKEN_ENV_VAR
from tests.batch_grader import isolation_here

pytestmark = pytest.mark.sandbox


def _carrying(prefix: str) -> list[psutil.Process]:
    """The processes with a token that starts with ``prefix`` on their command line (a
    bubblewrap still starting) or in their environment (the sandbox's command)."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        command, environment = process.info["cmdline"] or [], process.info["environ"] or {}
        if environment.get(TOKEN_ENV_VAR, "").startswith(prefix) or any(
            part.startswith(prefix) for part in command
        ):
            found.append(process)
    return found


def _stuck_bubblewrap(token: str, folder: Path) -> psutil.Process:
    """A bubblewrap process stuck before its command, as a grader killed while a sandbox
    starts leaves one (killing launchers at random within 30 ms of their start does so
    about once in ten): bubblewrap's second process waits for a word from the first,
    which died. Made here without chance: bubblewrap's ``--userns-block-fd`` holds the
    first process just before that word (after ``--info-fd`` names the second), and it is
    killed there. (That option excludes ``--disable-userns``, which plays no part.)"""
    here = isolation_here()
    sandbox = isolation.SandboxCommand(
        ["/usr/bin/sleep", "60"],
        identity=isolation.throwaway_identity() if here.throwaway else None,
        inputs=folder,
        data_folder=None,
        disk_mb=16,
        env={"PATH": "/usr/bin:/bin", TOKEN_ENV_VAR: token},
    )
    info_read, info_write = os.pipe()
    block_read, block_write = os.pipe()
    options = ["--info-fd", str(info_write), "--userns-block-fd", str(block_read)]
    argv = [sandbox.argv[0], *options, *(a for a in sandbox.argv[1:] if a != "--disable-userns")]
    launch = sandbox.launch(memory_bytes=None)
    launcher = subprocess.Popen(
        launch.command(argv),
        env=launch.launcher_environment(),
        start_new_session=True,
        pass_fds=(info_write, block_read),
        stderr=subprocess.PIPE,
    )
    os.close(info_write)
    os.close(block_read)
    with os.fdopen(info_read) as info:
        text = info.read()  # ends when the first process closes it, then blocks
    assert '"child-pid"' in text, (text, launcher.stderr.read())
    launcher.kill()
    launcher.wait()
    os.close(block_write)
    (stuck,) = [p for p in _carrying(token) if Path(p.info["cmdline"][0]).name == "bwrap"]
    time.sleep(0.5)
    assert stuck.is_running() and stuck.status() != psutil.STATUS_ZOMBIE
    return stuck


@pytest.fixture
def other_graders_process():
    """A process carrying another grader's token: no reaper but its own may touch it."""
    token = f"{secrets.token_hex(6)}-{secrets.token_hex(16)}"
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, TOKEN_ENV_VAR: token},
        start_new_session=True,
    )
    yield process
    process.kill()
    process.wait()


@pytest.mark.skipif(not isolation_here().isolated, reason="bubblewrap does not work here")
def test_a_dead_graders_reaper_kills_a_bubblewrap_stuck_while_starting(
    tmp_path, other_graders_process
):
    """When a launcher dies while bubblewrap's second process is still setting up, that
    process waits forever, outside the reach of Linux's die-with-parent. Does the reaper,
    once its grader's pipe closes without "done", kill it (and only what is its
    grader's)?"""
    tag = secrets.token_hex(6)
    stuck = _stuck_bubblewrap(f"{tag}-{secrets.token_hex(16)}", tmp_path)
    grader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    reaper = subprocess.Popen(
        [sys.executable, "-P", "-m", "batch_grader.trusted.reaper"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    reaper.stdin.write(f"{tag}\n".encode())
    reaper.stdin.close()  # as when the grader is killed: no "done"
    grader.kill()
    grader.wait()
    assert reaper.wait(timeout=30) == 0
    assert re.fullmatch(
        r"batch_grader\.trusted\.reaper: the grader died; killed 1 process\(es\) it left\n",
        reaper.stderr.read().decode(),
    )
    assert not stuck.is_running() or stuck.status() == psutil.STATUS_ZOMBIE
    assert _carrying(f"{tag}-") == []
    assert other_graders_process.poll() is None


def test_a_reaper_told_done_sweeps_its_own_batch_once_and_ends(other_graders_process):
    """Does a grader that ends normally get its reaper back within seconds, after one
    sweep that ends what still carries its batch's tag, with another batch's sandbox
    left running?"""
    tag = secrets.token_hex(6)
    straggler = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, TOKEN_ENV_VAR: f"{tag}-{secrets.token_hex(16)}"},
        start_new_session=True,
    )
    reaper = start(tag)
    began = time.monotonic()
    stop(reaper)
    assert reaper.returncode == 0
    assert time.monotonic() - began < 10
    assert straggler.wait(timeout=10) == -signal.SIGKILL
    assert other_graders_process.poll() is None


def test_a_killed_graders_tagged_processes_die(tmp_path):
    """A process started with a token of the grader's (here without bubblewrap: the
    unisolated path's runner) in a session of its own: killed by the reaper when the
    grader dies with kill -9?"""
    tag = secrets.token_hex(6)
    script = (
        "import os, subprocess, sys, time\n"
        "from batch_grader.trusted.reaper import start\n"
        f"start({tag!r})\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
        f" env={{**os.environ, {TOKEN_ENV_VAR!r}: {tag + '-x'!r}}}, start_new_session=True)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    grader = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )
    child = psutil.Process(int(grader.stdout.readline()))
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    gone, alive = psutil.wait_procs([child], timeout=20)
    assert gone and not alive


def test_a_reaper_refuses_a_malformed_tag():
    done = subprocess.run(
        [sys.executable, "-P", "-m", "batch_grader.trusted.reaper"],
        input=b"../etc\n",
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"expected a 12-digit hex tag, found '../etc'" in done.stderr
