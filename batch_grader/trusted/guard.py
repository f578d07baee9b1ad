"""The results folder's guards: one grader at a time (a lock), and the undoing of any
write into it that the grader did not make (needed without isolation, where a submission
can reach the folder; with bubblewrap none can)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from batch_grader.trusted.results import TAMPERED


class OutLocked(Exception):
    """Another grader holds the lock on the results folder."""


def lock_results(out: Path):
    """Take the lock on ``out`` for this process (an open file; closing it releases the
    lock, as does the process's end). Raises :class:`OutLocked` naming the holder."""
    path = out / ".grader.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held open for the whole batch
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise OutLocked(
            f"another grader ({holder}) is writing to {out}: wait for it to finish, or choose "
            "another --out"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


class Guard:
    """The grader's record of the files it wrote under the results folder; anything else
    that appears or changes there was written by someone else, and is undone."""

    def __init__(self, out: Path, active: bool = True) -> None:
        self.out = out
        self.active = active  # False: nothing else can write there (isolation)
        self.files: dict[Path, bytes] = {}
        if active:
            for path in out.rglob("*"):
                if path.is_file():
                    self.files[path] = path.read_bytes()

    def record(self, paths: list[Path]) -> None:
        """Remember ``paths`` as the grader's own writes."""
        if self.active:
            for path in paths:
                self.files[path] = path.read_bytes()

    def undo_foreign_writes(self) -> list[str]:
        """Remove files the grader did not write, restore the ones it did; return the
        relative paths that had been touched."""
        if not self.active:
            return []
        touched = []
        for path in sorted(self.out.rglob("*")):
            if path.is_file() and path not in self.files:
                touched.append(str(path.relative_to(self.out)))
                path.unlink()
        for path, data in self.files.items():
            if not path.exists() or path.read_bytes() != data:
                touched.append(str(path.relative_to(self.out)))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return touched


def mark_tampered(result: dict, touched: list[str]) -> None:
    """Mark ``result`` tampered: 0 points, with the files it touched as the reason."""
    result.update(status=TAMPERED, score=0.0)
    result["reasons"].append(
        "it wrote into the results folder (" + ", ".join(touched[:5]) + "); "
        "its grade is 0 and the files were removed or restored"
    )
    for exercise in result["exercises"].values():
        exercise["score"] = 0.0
    for test in result["tests"]:
        test.update(score=0.0, status="failed")
