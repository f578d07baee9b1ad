"""The batch's reaper: a small process that outlives the grader by a few seconds and kills
whatever its sandboxes left behind, should the grader die without cleaning up (``kill -9``,
the machine's out-of-memory killer).

Linux kills a running sandbox when the grader dies (its launcher asks to die with its
parent), but not one caught half-way through starting: bubblewrap's second process asks
so only just before it runs the sandbox's command, and until then it waits for a word
from the first; if the first dies meanwhile, it waits forever. (Killing launchers at
random within 30 ms of their start left such a process behind 6 times out of 60.)

Every process of a sandbox carries the sandbox's token, in its environment or, for
bubblewrap (and its launcher), on its command line (a job forked warm into a sandbox shows
no environment, and ends with bubblewrap's PID namespace); every token of one batch starts with
the batch's tag (:func:`batch_grader.trusted.sandbox.new_batch_tag`). The grader starts the
batch's reaper with :func:`start`, hands it the tag on its standard input and keeps that
pipe open. When the pipe closes without ``done`` (:func:`stop` says it), the grader died:
the reaper kills what carries the tag until nothing does, for at most
:data:`SWEEP_SECONDS`. After ``done`` it sweeps once and ends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from batch_grader.trusted.sandbox import REPO_ROOT, kill_tagged

SWEEP_SECONDS = 15.0
"""How long a reaper whose grader died goes on looking for what it left."""
SWEEP_PAUSE = 0.5  # seconds between two sweeps
DONE = b"done\n"


def start(tag: str) -> subprocess.Popen:
    """Start the reaper of the batch tagged ``tag``, in a session of its own (so that
    whatever kills the grader's process group spares it)."""
    reaper = subprocess.Popen(
        [sys.executable, "-P", "-m", "batch_grader.trusted.reaper"],
        stdin=subprocess.PIPE,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        start_new_session=True,
    )
    reaper.stdin.write(f"{tag}\n".encode())
    reaper.stdin.flush()
    return reaper


def stop(reaper: subprocess.Popen) -> None:
    """Tell the ``reaper`` that the grader ends normally, and wait for its last sweep."""
    try:
        reaper.stdin.write(DONE)
        reaper.stdin.close()
    except OSError:  # it ended already
        pass
    try:
        reaper.wait(timeout=SWEEP_SECONDS)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()


def sweep_until_none_left(tag: str, seconds: float = SWEEP_SECONDS) -> int:
    """Kill what carries ``tag``, again and again, until two sweeps in a row find nothing
    (a launcher may still be turning into bubblewrap) or ``seconds`` have passed. Returns
    how many processes were killed."""
    deadline = time.monotonic() + seconds
    killed, quiet = 0, 0
    while quiet < 2 and time.monotonic() < deadline:
        found = kill_tagged(tag)
        killed += found
        quiet = 0 if found else quiet + 1
        time.sleep(SWEEP_PAUSE)
    return killed


def main() -> int:
    tag = sys.stdin.buffer.readline().decode(errors="replace").strip()
    if not re.fullmatch(r"[0-9a-f]{12}", tag):
        print(
            f"batch_grader.trusted.reaper: expected a 12-digit hex tag, found {tag!r}",
            file=sys.stderr,
        )
        return 2
    said = sys.stdin.buffer.read()  # until the grader closes the pipe or dies
    if said == DONE:
        kill_tagged(tag)
        return 0
    killed = sweep_until_none_left(tag)
    if killed:
        print(
            f"batch_grader.trusted.reaper: the grader died; killed {killed} process(es) it left",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
