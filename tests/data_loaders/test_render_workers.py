"""Rendering an embedded dataset in parallel worker processes."""

from __future__ import annotations

import numpy as np
import pytest

from data_loaders import hand_signs, traffic_signs
from data_loaders._render_common import (
    CHUNK,
    RENDER_WORKERS_ENV_VAR,
    render_splits,
    render_workers,
)
from data_loaders._render_worker import render_in_workers

pytestmark = pytest.mark.unit


def _render(monkeypatch, workers: int, module, labels: np.ndarray) -> np.ndarray:
    monkeypatch.setenv(RENDER_WORKERS_ENV_VAR, str(workers))
    return module._EMBEDDED.render(labels, np.random.SeedSequence(3))


def test_images_do_not_depend_on_the_number_of_workers(monkeypatch):
    """Are the images the same whether one, two or three processes render them?"""
    labels = np.arange(2 * CHUNK + 17) % 5
    serial = _render(monkeypatch, 1, traffic_signs, labels)
    assert serial.shape == (len(labels), 32, 32, 3) and serial.dtype == np.uint8
    for workers in (2, 3):
        np.testing.assert_array_equal(_render(monkeypatch, workers, traffic_signs, labels), serial)


def test_chunks_draw_from_different_streams(monkeypatch):
    """Do two chunks with the same labels render different images (no repeated stream)?"""
    labels = np.zeros(2 * CHUNK, dtype=np.int64)
    images = _render(monkeypatch, 2, hand_signs, labels)
    assert not np.array_equal(images[:CHUNK], images[CHUNK:])


def test_splits_render_together_as_they_would_alone(monkeypatch):
    """Does rendering train and test in one parallel call give each what it gets alone?"""
    monkeypatch.setenv(RENDER_WORKERS_ENV_VAR, "2")
    embedded = traffic_signs._EMBEDDED
    first, second = np.arange(150) % 5, np.arange(60) % 5
    together = render_splits(embedded.render_one, [(first, 1), (second, 2)], embedded.size)
    np.testing.assert_array_equal(together[0], embedded.render(first, 1))
    np.testing.assert_array_equal(together[1], embedded.render(second, 2))


def test_a_renderer_from_outside_the_package_is_refused():
    """Does a worker refuse to import a renderer that is not in data_loaders, saying why?"""
    stream = np.random.SeedSequence(0)
    with pytest.raises(RuntimeError, match="refusing renderer from module"):
        render_in_workers(_render, [[(np.zeros(2, dtype=np.int64), stream)]], 32)


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_a_bad_worker_count_is_refused(monkeypatch, value):
    """Is a worker count that is not a positive integer refused with the value found?"""
    monkeypatch.setenv(RENDER_WORKERS_ENV_VAR, value)
    with pytest.raises(ValueError, match=repr(value)):
        render_workers()


def test_a_failure_in_this_process_stops_the_workers():
    """When the part rendered in this process fails, does the error come through and are
    the worker processes stopped, not left running?"""
    psutil = pytest.importorskip("psutil")
    render_one = traffic_signs._EMBEDDED.render_one
    bad = (np.array([0, 9]), np.random.SeedSequence(1))  # 9 is no sign
    good = (np.arange(CHUNK) % 5, np.random.SeedSequence(2))
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    with pytest.raises(ValueError, match="found 9"):
        render_in_workers(render_one, [[bad], [good], [good]], 32, first_here=True)
    after = {child.pid for child in psutil.Process().children(recursive=True)}
    assert after <= before
