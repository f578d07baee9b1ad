"""The dataset benchmark's load-time mode (figures are printed, never asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from course_utils.release import REPO_ROOT

pytestmark = pytest.mark.unit


def test_loads_only_prints_a_cold_and_a_warm_time_per_dataset(data_cache):
    """Does ``--loads-only`` print, for each dataset asked for, its cold and warm load
    times (best and every run), without training anything?"""
    result = subprocess.run(
        [sys.executable, "bench/dataset_baselines.py", "--loads-only", "--repeats", "2"]
        + ["--datasets", "hand_signs", "happy_faces"],
        cwd=REPO_ROOT,
        env={**os.environ, "KERAS_COURSE_RENDER_WORKERS": "2"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = re.findall(
        r"^\s+(\w+)\s+cold (\d+\.\d+) \[(.+?)\]\s+warm (\d+\.\d+) \[(.+?)\]$",
        result.stdout,
        re.MULTILINE,
    )
    assert [row[0] for row in rows] == ["hand_signs", "happy_faces"], result.stdout
    for _, best, runs, _, warm_runs in rows:
        assert len(runs.split(", ")) == 2 and len(warm_runs.split(", ")) == 2
        assert float(best) == min(float(t) for t in runs.split(", "))
    assert "accuracy" not in result.stdout
