"""Simulation: how long a class takes to grade on a Dask cluster of W workers.

Each worker grades one submission at a time (say, a 2-core machine training one ResNet50)
and takes the next one from the queue as soon as it is free, as Dask's scheduler hands
tasks out. A submission takes one of the measured per-submission times (the
``execution_time`` of every ``result.json`` under the results folders given), drawn at
random, plus the cluster's own cost per task; each worker first pays its batch's setup
once.

Both costs are measured here, unless given (``--overhead``, ``--setup``): the script grades
``--measure-copies`` lesson-01 submissions (half of them wrong) on ``--cluster local:2``.
A task's cost is the time a worker spends between two gradings (the median over every
pair of consecutive ones on the same worker: handing the result back, taking the next
task, writing its notebook); a worker's setup is the time from the command's start to its
first grading (the median over the workers): the command's own start, the cluster's, and
the worker's dataset copy and warm-kernel helper.

Prints, for each W, the wall-clock hours a class of ``--class-size`` submissions takes:
the median and the range over ``--orders`` random draws.

Usage: python bench/cluster_simulation.py --results results/ [--class-size 500]
       [--workers 1,10,50,100] [--overhead S --setup S | --measure-copies 8]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench.grading_throughput
    sys.path.insert(0, str(ROOT))

from bench.grading_throughput import make_submissions  # noqa: E402


def measured_seconds(folders: list[Path]) -> list[float]:
    """Every ``execution_time`` of the ``result.json`` files under ``folders``."""
    seconds = []
    for folder in folders:
        for path in sorted(folder.rglob("result.json")):
            value = json.loads(path.read_text()).get("execution_time")
            if isinstance(value, int | float) and value > 0:
                seconds.append(float(value))
    return seconds


def cluster_costs(out: Path, started: float) -> tuple[list[float], list[float]]:
    """From the results folder ``out`` of a cluster batch started at ``started`` (seconds
    since the epoch): the seconds each worker spent between two consecutive gradings (one
    figure per pair), and the seconds from the start to each worker's first grading (one
    per worker). A grading spans ``execution_time`` up to ``finished_at``."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for path in sorted(out.rglob("result.json")):
        result = json.loads(path.read_text())
        end = datetime.fromisoformat(result["finished_at"]).timestamp()
        spans.setdefault(result["worker"], []).append((end - result["execution_time"], end))
    gaps, setups = [], []
    for worker_spans in spans.values():
        worker_spans.sort()
        setups.append(worker_spans[0][0] - started)
        pairs = zip(worker_spans, worker_spans[1:], strict=False)
        gaps += [start - end for (_, end), (start, _) in pairs]
    return gaps, setups


def measure(copies: int) -> tuple[float, float]:
    """Grade ``copies`` lesson-01 submissions on ``--cluster local:2``; returns the median
    cost of a task and of a worker's setup (see :func:`cluster_costs`), and prints them."""
    folder = Path(tempfile.mkdtemp(prefix="simulation-submissions-"))
    out = Path(tempfile.mkdtemp(prefix="simulation-results-"))
    try:
        make_submissions(folder, copies)
        command = [sys.executable, "-m", "batch_grader", "grade", "--lesson", "01", str(folder)]
        command += ["--out", str(out), "--cluster", "local:2", "--isolation", "bubblewrap"]
        started = time.time()
        done = subprocess.run(command, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"measuring the cluster's costs failed: {done.stderr[-2000:]}")
        gaps, setups = cluster_costs(out, started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    if not gaps:
        raise SystemExit(f"--measure-copies {copies}: no worker graded two submissions; give more")
    overhead, setup = statistics.median(gaps), statistics.median(setups)
    print(
        f"measured on --cluster local:2 with {copies} lesson-01 submissions: "
        f"{overhead:.2f} s a task (median of {len(gaps)}, {min(gaps):.2f} to {max(gaps):.2f}), "
        f"{setup:.1f} s a worker's setup (median of {len(setups)}, "
        f"{min(setups):.1f}-{max(setups):.1f})"
    )
    return overhead, setup


def makespan(durations: list[float], workers: int, setup: float) -> float:
    """Seconds until the last of ``durations`` (in queue order) is graded by ``workers``
    workers that each take the next one when free, after ``setup`` seconds each."""
    free_at = [setup] * workers
    heapq.heapify(free_at)
    for duration in durations:
        heapq.heappush(free_at, heapq.heappop(free_at) + duration)
    return max(free_at)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, nargs="+", required=True)
    parser.add_argument("--class-size", type=int, default=500)
    parser.add_argument("--workers", default="1,10,50,100")
    parser.add_argument("--overhead", type=float, help="seconds per task (default: measured)")
    parser.add_argument("--setup", type=float, help="seconds per worker (default: measured)")
    parser.add_argument(
        "--measure-copies", type=int, default=8, help="submissions graded to measure them"
    )
    parser.add_argument("--orders", type=int, default=20, help="random draws per W")
    args = parser.parse_args(argv)
    seconds = measured_seconds(args.results)
    if not seconds:
        parser.error(f"no result.json with an execution_time under {args.results}")
    workers = [int(w) for w in args.workers.split(",")]
    if args.overhead is None or args.setup is None:
        if args.measure_copies < 4:
            parser.error(
                f"--measure-copies: at least 4 (two gradings a worker), found {args.measure_copies}"
            )
        overhead, setup = measure(args.measure_copies)
        args.overhead = overhead if args.overhead is None else args.overhead
        args.setup = setup if args.setup is None else args.setup
    print(
        f"{len(seconds)} measured submission(s): {min(seconds):.0f}-{max(seconds):.0f} s, "
        f"median {statistics.median(seconds):.0f} s; {args.overhead:.2f} s a task and "
        f"{args.setup:.1f} s a worker on top"
    )
    print(f"a class of {args.class_size}:")
    print(f"  {'workers':>7s} {'hours (median)':>15s} {'range':>15s}")
    draw = random.Random(0)
    for count in workers:
        spans = []
        for _ in range(args.orders):
            durations = [draw.choice(seconds) + args.overhead for _ in range(args.class_size)]
            spans.append(makespan(durations, count, args.setup) / 3600)
        low, high = min(spans), max(spans)
        print(f"  {count:7d} {statistics.median(spans):15.2f} {low:7.2f}-{high:<7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
