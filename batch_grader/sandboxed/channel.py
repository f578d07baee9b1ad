"""How a sandbox hands its results to the grader: a tar stream on a private pipe.

A sandbox shares no writable folder with the grader. Its first process, the holder
(:mod:`batch_grader.sandboxed.holder`), takes its standard output for itself when it starts
(:func:`open_channel`: the pipe moves to a descriptor no child inherits, and the holder
becomes undumpable, so a process of the same uid can neither trace it nor open its
descriptors through ``/proc``). When the job is done, :func:`send` kills every other
process of the sandbox, then writes the named files as a tar stream. The grader reads the
stream with :func:`receive`, which keeps regular files with expected names only, within a
byte budget.

Outside bubblewrap (``isolation: none``) there is no channel: the job works in the
grader's folder.
"""

from __future__ import annotations

import io
import os
import signal
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from batch_grader.sandboxed.layout import SANDBOX_UID
from batch_grader.sandboxed.linux import set_dumpable

ISOLATED_ENV_VAR = "KERAS_COURSE_ISOLATED"
INPUT_ENV_VAR = "KERAS_COURSE_INPUT"
WARM_ENV_VAR = "KERAS_COURSE_WARM_JOB"  # "1": the job was forked warm into its sandbox
MAX_RETURN_BYTES = 1 << 30  # everything one sandbox hands back


class ChannelError(Exception):
    """What came back on the channel is not what a runner sends; the message says why."""


def input_folder() -> Path:
    """The folder holding what the grader gave this runner (read-only in a sandbox)."""
    return Path(os.environ.get(INPUT_ENV_VAR, "."))


def isolated() -> bool:
    """Whether this process runs in a bubblewrap sandbox started by the grader (its
    environment says so, and it has the sandbox's uid: never "everything else" outside)."""
    return os.environ.get(ISOLATED_ENV_VAR) == "1" and os.getuid() == SANDBOX_UID


def open_channel() -> int | None:
    """In a sandbox, the holder's private descriptor for :func:`send` (its former standard
    output, which from now on goes to standard error); outside one, None."""
    if not isolated():
        return None
    private = os.dup(1)  # not inherited by children (os.dup makes non-inheritable copies)
    os.dup2(2, 1)
    set_dumpable(False)
    return private


def end_the_rest() -> None:
    """In a sandbox, kill every process of it but this one and its init (the holder, which
    ignores the signal from inside its namespace); outside one, nothing."""
    if not isolated():
        return
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def send(channel: int | None, folder: Path, names: Iterable[str]) -> None:
    """Send the regular files named (or found under the folders named) in ``folder`` on
    ``channel``, after killing the rest of the sandbox. Without a channel, nothing."""
    if channel is None:
        return
    end_the_rest()
    with os.fdopen(channel, "wb") as stream, tarfile.open(fileobj=stream, mode="w|") as tar:
        for name in names:
            path = folder / name
            paths = sorted(path.rglob("*")) if path.is_dir() and not path.is_symlink() else [path]
            for item in paths:
                if item.is_symlink() or not item.is_file():
                    continue
                try:
                    info = tar.gettarinfo(str(item), arcname=str(item.relative_to(folder)))
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with open(item, "rb") as handle:
                        tar.addfile(info, handle)
                except OSError:  # unreadable (a notebook may chmod 000 its own files)
                    continue


class _Budget(io.RawIOBase):
    """A reader over ``stream`` that refuses to read more than ``limit`` bytes."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(min(len(buffer), 1 << 20))
        self.left -= len(data)
        if self.left < 0:
            raise ChannelError(f"the sandbox sent more than {self.limit:,} bytes")
        buffer[: len(data)] = data
        return len(data)


def receive(
    stream: BinaryIO,
    folder: Path,
    expected: Callable[[PurePosixPath], int],
    limit: int = MAX_RETURN_BYTES,
) -> list[str]:
    """Unpack a holder's tar stream into ``folder``: only regular files whose relative
    paths ``expected`` accepts (it gives the most bytes such a file may have, 0 for a name
    not expected; never an absolute path or one with ``..``), at most ``limit`` bytes in
    all. Returns the names written. Raises :class:`ChannelError` for a stream that is not
    such a tar (an empty stream is no files)."""
    written = []
    reader = io.BufferedReader(_Budget(stream, limit), buffer_size=1 << 20)
    if not reader.peek(1):
        return written
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                name = PurePosixPath(member.name)
                if (
                    not member.isreg()
                    or name.is_absolute()
                    or ".." in name.parts
                    or member.size > expected(name)
                    or not expected(name)
                ):
                    continue
                target = folder.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with open(target, "wb") as handle:
                    while chunk := source.read(1 << 20):
                        handle.write(chunk)
                written.append(str(name))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ChannelError(f"the sandbox's results are unreadable: {error}") from error
    return written
