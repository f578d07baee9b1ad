"""The first process of every bubblewrap sandbox: ``python -m batch_grader.sandboxed.holder``.

It is the sandbox's PID 1 (no process inside can kill, stop or trace it: Linux drops
signals without a handler to an init from inside its namespace, it ignores SIGINT, and it
makes itself undumpable) and imports
nothing but the standard library. It takes its standard output as the private channel to
the grader (:mod:`batch_grader.sandboxed.channel`), says ``ready``, and reads one instruction, a
JSON line, on its standard input (which nothing else in the sandbox can reach):

- ``{"cold": [module, arguments...], "returned": [...]}``: run ``python -m module
  arguments`` as its child;
- ``{"warm": pid, "returned": [...]}``: wait for process ``pid`` (in this namespace), a job
  that the grader's warm process forked into the sandbox
  (:meth:`batch_grader.trusted.warm_kernels.Zygote.spawn_job`).

When the job ends, it kills every other process of the sandbox, sends the ``returned``
files of its working folder to the grader, and exits, which ends the sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from batch_grader.sandboxed import channel
from batch_grader.sandboxed.job import command as job_command

JOB_LOG = "job.log"  # a warm job's standard output and error, in the working folder


def _wait_for(pid: int) -> None:
    """Reap children (orphans come to PID 1) until ``pid`` has ended. A warm job is
    orphaned inside the sandbox, so it becomes this process's child a moment after it
    starts: not being its parent yet is not its end."""
    while True:
        try:
            ended, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            if not os.path.exists(f"/proc/{pid}"):
                return
            time.sleep(0.01)
            continue
        if ended == pid:
            return


def main() -> int:
    """Hold the sandbox: say ready, run or wait for the job, send its files back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Python's handler would let a kernel kill it
    private = channel.open_channel()
    os.write(private, b"ready\n")
    instruction = json.loads(sys.stdin.readline())
    work = Path.cwd()
    if "cold" in instruction:
        channel.end_the_rest()  # a warm job that started after all must not run twice
        module, *arguments = instruction["cold"]
        job = subprocess.Popen(job_command(module, arguments), stdin=subprocess.DEVNULL)
        _wait_for(job.pid)
    else:
        _wait_for(int(instruction["warm"]))
        log = work / JOB_LOG
        if log.is_file() and not log.is_symlink():
            with open(log, "rb") as handle:
                handle.seek(max(0, log.stat().st_size - 2000))
                sys.stderr.buffer.write(handle.read())
    channel.send(private, work, instruction["returned"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
