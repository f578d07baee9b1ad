"""bench/cluster_simulation.py: the queue model and the table it prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bench.cluster_simulation import cluster_costs, main, makespan, measured_seconds

pytestmark = pytest.mark.unit


def test_workers_take_the_next_submission_when_free():
    """Four 10-s submissions: 40 s on one worker, 20 s on two or three (the third takes
    one and the queue is empty before the others are free), 10 s on four; each worker's
    setup comes first."""
    assert makespan([10.0] * 4, 1, 0) == 40
    assert makespan([10.0] * 4, 2, 0) == 20
    assert makespan([10.0] * 4, 3, 0) == 20
    assert makespan([10.0] * 4, 4, 5) == 15
    assert makespan([30.0, 10.0, 10.0, 10.0], 2, 0) == 30


def test_the_table_comes_from_the_results_given(tmp_path, capsys):
    """Are the measured times read from every result.json (a file without a positive
    execution_time skipped), and does one worker take the class's total?"""
    for name, seconds in (("a", 100.0), ("b", 100.0), ("c", None)):
        folder = tmp_path / "submissions" / name
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps({"execution_time": seconds}))
    assert measured_seconds([tmp_path]) == [100.0, 100.0]
    argv = ["--results", str(tmp_path), "--class-size", "36", "--workers", "1,36"]
    assert main([*argv, "--overhead", "0", "--setup", "0"]) == 0
    out = capsys.readouterr().out
    assert "2 measured submission(s): 100-100 s, median 100 s; 0.00 s a task and 0.0 s" in out
    assert "a class of 36:" in out
    assert "        1            1.00    1.00-1.00" in out
    assert "       36            0.03    0.03-0.03" in out


def _result(folder, student: str, worker: str, start: float, seconds: float) -> None:
    finished = datetime.fromtimestamp(start + seconds, UTC).isoformat(timespec="milliseconds")
    path = folder / "submissions" / student / "result.json"
    path.parent.mkdir(parents=True)
    record = {"worker": worker, "finished_at": finished, "execution_time": seconds}
    path.write_text(json.dumps(record))


def test_a_clusters_costs_come_from_its_gradings_spans(tmp_path):
    """Worker a grades at 10-20 s and 20.5-30 s, worker b at 12-22 s, 23-33 s and 34-40 s
    after the start: are the gaps between consecutive gradings on one worker (0.5; 1, 1)
    the tasks' cost, and each worker's first start (10, 12) its setup?"""
    start = 1_800_000_000.0
    for student, worker, begin, seconds in (
        ("s1", "a", 10, 10),
        ("s2", "b", 12, 10),
        ("s3", "a", 20.5, 9.5),
        ("s4", "b", 23, 10),
        ("s5", "b", 34, 6),
    ):
        _result(tmp_path, student, worker, start + begin, seconds)
    gaps, setups = cluster_costs(tmp_path, start)
    assert [round(gap, 3) for gap in gaps] == [0.5, 1.0, 1.0]
    assert [round(setup, 3) for setup in setups] == [10.0, 12.0]
