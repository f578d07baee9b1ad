"""The course's JupyterLab launcher (``python -m course_utils.lab``, what `./course lab`
runs), started for a test on 127.0.0.1 with a free port and a random token."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@dataclass(frozen=True)
class LabServer:
    base: str  # http://127.0.0.1:PORT
    token: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_lab(
    log: Path,
    arguments: list[str] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
) -> Iterator[LabServer]:
    """Run the launcher with ``arguments`` in ``env``, from the course folder ``cwd`` (the
    repository, or a student edition), until the block ends; fail the test, with the end
    of ``log``, when it exits or does not answer within 90 s."""
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "course_utils.lab", "--no-browser", "--ip=127.0.0.1"]
    command += [f"--port={port}", "--ServerApp.port_retries=0"]
    command += [f"--IdentityProvider.token={token}", *(arguments or [])]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env if env is not None else dict(os.environ),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within 90 s:\n{_tail(log)}")
            try:
                urllib.request.urlopen(f"{server.base}/api/status?token={token}", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
