"""Benchmark: execute every solution notebook under several seeds; print per-lesson
execution time (kernel start excluded) and the final metrics of its training run.

The seed reaches each notebook through $KERAS_COURSE_SEED, which the setup cell's
``seed_everything`` honours. After the last cell, one extra cell (not saved anywhere)
prints the last value of every metric in each History the lesson keeps (``history``,
``mlp_history``, ...: ``accuracy``, ``mlp_accuracy``, ...) and every figure of each dict
of test metrics (``test_metrics``, ``mlp_test_metrics``: ``test_accuracy``,
``mlp_test_accuracy``, ...).

Usage: python bench/lesson_runs.py [--seeds 5] [LESSON_NUMBER ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course_utils.device import vector_units  # noqa: E402
from course_utils.release import solution_paths  # noqa: E402
from course_utils.tensorflow_settings import use_tensorflow_settings  # noqa: E402

use_tensorflow_settings()  # the notebooks' kernels inherit what the learner's kernel has

REPORT_CELL = """
import json as _json
_report = {}
for _name, _value in list(globals().items()):
    if _name.endswith("history") and hasattr(_value, "history"):
        _report.update({_name[: -len("history")] + k: v[-1] for k, v in _value.history.items()})
    if _name.endswith("test_metrics") and isinstance(_value, dict):
        _report.update({_name[: -len("metrics")] + k: float(v) for k, v in _value.items()})
print("BENCH " + _json.dumps(_report))
"""


def run_once(path: Path, seed: int) -> tuple[float, dict[str, float]]:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    report_index = len(notebook.cells) - 1
    os.environ["KERAS_COURSE_SEED"] = str(seed)
    client = NotebookClient(
        notebook,
        timeout=1200,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=lambda cell, cell_index: starts.setdefault(cell_index, time.perf_counter()),
        on_cell_complete=lambda cell, cell_index: ends.setdefault(cell_index, time.perf_counter()),
    )
    client.execute()
    output = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    lesson_ends = [t for index, t in ends.items() if index != report_index]
    return max(lesson_ends) - min(starts.values()), json.loads(line[len("BENCH ") :])


def describe(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("lessons", nargs="*", help="lesson numbers, e.g. 01 05 (default: all)")
    args = parser.parse_args()
    paths = [p for p in solution_paths() if not args.lessons or p.name[:2] in args.lessons]
    print(
        f"{os.cpu_count()} CPU cores ({vector_units()}); median [min, max] over {args.seeds} seeds"
    )
    for path in paths:
        times, metrics = [], {}
        for seed in range(args.seeds):
            seconds, report = run_once(path, seed)
            times.append(seconds)
            for key, value in report.items():
                metrics.setdefault(key, []).append(value)
            print(f"  {path.stem} seed {seed}: {seconds:.1f} s {report}", file=sys.stderr)
        print(f"{path.stem}: execution {describe(times)} s")
        for key, values in sorted(metrics.items()):
            print(f"  {key:24s} {describe(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
