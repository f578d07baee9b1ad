"""Simulation: how long a class takes to grade on a Dask cluster of W workers.

Each worker grades one submission at a time (say, a 2-core machine training one ResNet50)
and takes the next one from the queue as soon as it is free, as Dask's scheduler hands
tasks out. A submission takes one of the measured per-submission times (the
``execution_time`` of every ``result.json`` under the results folders given), drawn at
random, plus the cluster's own cost per task (``--overhead``: the difference per
submission between ``--cluster local:2`` and ``--jobs 2`` in
``bench/grading_throughput.py``); each worker first pays its batch's setup once
(``--setup``: its dataset copy and warm-kernel helper).

Prints, for each W, the wall-clock hours a class of ``--class-size`` submissions takes:
the median and the range over ``--orders`` random draws.

Usage: python bench/cluster_simulation.py --results results/ [--class-size 500]
       [--workers 1,10,50,100] [--overhead 0.5] [--setup 10]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import sys
from pathlib import Path


def measured_seconds(folders: list[Path]) -> list[float]:
    """Every ``execution_time`` of the ``result.json`` files under ``folders``."""
    seconds = []
    for folder in folders:
        for path in sorted(folder.rglob("result.json")):
            value = json.loads(path.read_text()).get("execution_time")
            if isinstance(value, int | float) and value > 0:
                seconds.append(float(value))
    return seconds


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
    parser.add_argument("--overhead", type=float, default=0.5, help="seconds per task")
    parser.add_argument("--setup", type=float, default=10.0, help="seconds per worker")
    parser.add_argument("--orders", type=int, default=20, help="random draws per W")
    args = parser.parse_args(argv)
    seconds = measured_seconds(args.results)
    if not seconds:
        parser.error(f"no result.json with an execution_time under {args.results}")
    workers = [int(w) for w in args.workers.split(",")]
    print(
        f"{len(seconds)} measured submission(s): {min(seconds):.0f}-{max(seconds):.0f} s, "
        f"median {statistics.median(seconds):.0f} s; {args.overhead:g} s a task and "
        f"{args.setup:g} s a worker on top"
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
