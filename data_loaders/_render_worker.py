"""Worker processes for rendering an embedded dataset in parallel.

A worker is ``python -m data_loaders._render_worker``: it reads one JSON request, one line
on stdin (the renderer's module and name, the image size, and its chunks of labels with
their seed streams) and writes the rendered uint8 images, raw, on stdout. Workers are fresh
interpreters started with :mod:`subprocess`, not :mod:`multiprocessing`: that never re-runs
the caller's script (a student's ``train.py`` that loads data at top level) and never forks
a process in which TensorFlow has started threads. Only renderers of this package are
accepted.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent

Chunk = tuple[np.ndarray, np.random.SeedSequence]


def render_chunks(
    render_one: Callable[[int, np.random.Generator, int], np.ndarray],
    chunks: list[tuple[np.ndarray, np.random.SeedSequence]],
    size: int,
) -> np.ndarray:
    """Render each ``(labels, stream)`` chunk from a generator seeded with its stream, in
    order, in this process. Returns uint8 (total labels, size, size, 3)."""
    total = sum(len(labels) for labels, _ in chunks)
    images = np.empty((total, size, size, 3), dtype=np.uint8)
    i = 0
    for labels, stream in chunks:
        rng = np.random.default_rng(stream)
        for label in labels:
            images[i] = render_one(int(label), rng, size)
            i += 1
    return images


def _request(render_one: Callable, chunks: list[Chunk], size: int) -> bytes:
    return (
        json.dumps(
            {
                "module": render_one.__module__,
                "function": render_one.__qualname__,
                "size": size,
                "chunks": [
                    {
                        "labels": [int(label) for label in labels],
                        "entropy": stream.entropy,
                        "spawn_key": list(stream.spawn_key),
                    }
                    for labels, stream in chunks
                ],
            }
        ).encode()
        + b"\n"
    )  # one line: the worker starts on it without waiting for EOF


def render_in_workers(
    render_one: Callable[[int, np.random.Generator, int], np.ndarray],
    groups: list[list[Chunk]],
    size: int,
    *,
    first_here: bool = False,
) -> list[np.ndarray]:
    """Render each group of chunks in its own worker process, all at once; with
    ``first_here``, the first group renders in this process while the workers run (one
    interpreter start fewer).

    Returns one uint8 array (labels in the group, size, size, 3) per group, in order.
    Raises RuntimeError, with the worker's error output, when a worker fails.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PACKAGE_PARENT), env.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", "data_loaders._render_worker"]
    remote = groups[1:] if first_here else groups
    processes = []
    try:
        for group in remote:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            processes.append(process)
            process.stdin.write(_request(render_one, group, size))
            process.stdin.flush()
        # A worker that finishes first waits on its full pipe until it is read below.
        results = [render_chunks(render_one, groups[0], size)] if first_here else []
    except BaseException:
        for process in processes:
            process.kill()
            process.communicate()
        raise
    for process, group in zip(processes, remote, strict=True):
        output, error = process.communicate()  # closes stdin, then reads both pipes
        total = sum(len(labels) for labels, _ in group)
        expected = total * size * size * 3
        if process.returncode != 0 or len(output) != expected:
            # Imported here: a worker process needs nothing of it.
            from course_utils.language import translate

            raise RuntimeError(
                translate(
                    "a dataset render worker failed (exit status {status}, {received} of "
                    "{expected} bytes):\n{error}",
                    status=process.returncode,
                    received=len(output),
                    expected=expected,
                    error=error.decode(errors="replace"),
                )
            )
        results.append(np.frombuffer(output, dtype=np.uint8).reshape(total, size, size, 3))
    return results


def main() -> int:
    request = json.loads(sys.stdin.buffer.readline())
    module = request["module"]
    if module != "data_loaders" and not module.startswith("data_loaders."):
        print(f"refusing renderer from module {module!r}: not in data_loaders", file=sys.stderr)
        return 2
    render_one = getattr(importlib.import_module(module), request["function"])
    chunks = [
        (
            np.asarray(chunk["labels"], dtype=np.int64),
            np.random.SeedSequence(chunk["entropy"], spawn_key=tuple(chunk["spawn_key"])),
        )
        for chunk in request["chunks"]
    ]
    images = render_chunks(render_one, chunks, int(request["size"]))
    sys.stdout.buffer.write(images.tobytes())
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
