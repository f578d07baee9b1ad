"""The dataset benchmark's load-time mode and its scores on the original files (figures
are printed, never asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from course_utils.lesson_files import REPO_ROOT
from tests.data_loaders.original_files import write_h5_split

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


def _run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "bench/dataset_baselines.py", *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, "KERAS_COURSE_RENDER_WORKERS": "2"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _row(stdout: str, name: str) -> float:
    found = re.search(rf"^\s+{re.escape(name)}\s+(\d\.\d{{3}})", stdout, re.MULTILINE)
    assert found, f"no row {name!r} in:\n{stdout}"
    return float(found[1])


@pytest.mark.model
def test_the_lesson_model_is_scored_on_the_original_test_photos(data_cache, tmp_path):
    """Given the original lab's pair of HDF5 files, does the benchmark score HappyModel,
    trained on the rendered faces, on the original test photos, beside the same model
    trained on the original training photos and the share of the most common class?"""
    rng = np.random.default_rng(0)
    train = write_h5_split(
        tmp_path / "train_happy.h5",
        "train_set",
        rng.integers(0, 256, (12, 64, 64, 3), dtype=np.uint8),
        np.array([np.arange(12) % 2]),  # stored (1, N) as in the original files
    )
    test = write_h5_split(
        tmp_path / "test_happy.h5",
        "test_set",
        rng.integers(0, 256, (10, 64, 64, 3), dtype=np.uint8),
        np.array([[1, 1, 1, 1, 1, 1, 1, 0, 0, 0]]),
    )
    result = _run("--quick", "--datasets", "happy_faces", "--original-files", str(train), str(test))
    assert result.returncode == 0, result.stderr
    assert "original files: 12 train / 10 test photos" in result.stdout
    assert _row(result.stdout, "original test photos, always '1' (the most common)") == 0.7
    model = "HappyModel (lesson 06), 20 epochs"
    for row in (
        model,
        f"{model}: on the original test photos",
        f"{model}, trained on the original photos: on their test photos",
    ):
        assert 0 <= _row(result.stdout, row) <= 1


def test_original_files_need_one_dataset_stored_as_hdf5():
    """Are original files refused, saying why, when the datasets asked for are not one of
    those whose originals are HDF5 pairs?"""
    result = _run("--datasets", "traffic_signs", "--original-files", "a.h5", "b.h5")
    assert result.returncode == 2
    assert (
        "--original-files needs exactly one dataset whose originals are HDF5 files: "
        "--datasets happy_faces or hand_signs, found --datasets traffic_signs"
    ) in result.stderr
