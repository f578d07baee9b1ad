"""Tests of the dataset browser: pages, class filter, mistakes, tiles, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from course_utils import dataset_browser
from course_utils.dataset_browsing import ALL, MISTAKES, WIDGET_CLASS

pytestmark = pytest.mark.unit

NAMES = ["cat", "dog", "bird"]


def _data(n: int = 50, size: int = 32):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    labels = np.arange(n) % 3
    return images, labels


def _tile_text(tile) -> str:
    return tile.children[1].value


def test_first_page_is_drawn_at_once_for_headless_runs():
    """Is the first page of tiles there as soon as the browser is made?"""
    browser = dataset_browser(*_data(), NAMES, per_page=12)
    assert browser.shown == list(range(12))
    assert len(browser.grid.children) == 12
    assert WIDGET_CLASS in browser.widget._dom_classes
    assert browser.page_slider.max == 5  # 50 images, 12 a page
    assert "#0<br>cat" in _tile_text(browser.grid.children[0])
    assert "images 1-12 of 50" in browser.caption.value


def test_the_page_slider_and_the_class_menu_choose_the_images():
    """Does moving the slider page on, and picking a class show only that class from page 1?"""
    images, labels = _data()
    browser = dataset_browser(images, labels, NAMES, per_page=12)
    browser.page_slider.value = 5
    assert browser.shown == [48, 49]
    browser.class_menu.value = "dog"
    assert browser.page_slider.value == 1 and browser.page_slider.max == 2
    assert browser.shown == [i for i in range(50) if i % 3 == 1][:12]
    assert all(labels[i] == 1 for i in browser.shown)
    assert [label for label, _ in browser.class_menu.options][:2] == [f"{ALL} (50)", "cat (17)"]


def test_predictions_title_tiles_and_filter_the_mistakes():
    """With predictions, do tiles read "true / predicted", mistakes in red, and can the
    menu show only the mistakes?"""
    images, labels = _data(10)
    predictions = labels.copy()
    predictions[[2, 7]] = 0
    browser = dataset_browser(images, labels, NAMES, predictions=predictions)
    assert "cat / cat" in _tile_text(browser.grid.children[0])
    assert "#cf222e" in _tile_text(browser.grid.children[2])
    assert "#cf222e" not in _tile_text(browser.grid.children[0])
    browser.class_menu.value = MISTAKES
    assert browser.shown == [2, 7]
    assert dataset_browser(images, labels, NAMES, predictions=predictions, show=MISTAKES).shown == [
        2,
        7,
    ]
    with pytest.raises(ValueError, match="show must be one of"):
        dataset_browser(images, labels, NAMES, show=MISTAKES)  # no predictions, no mistakes


def test_tiles_are_png_images_enlarged_with_square_pixels():
    """Is a 32x32 image shown as a 64x64 PNG (a whole factor), and a float image accepted?"""
    images, labels = _data(3)
    browser = dataset_browser(images.astype("float32") / 255.0 - 0.5, labels, NAMES)
    png = bytes(browser.grid.children[0].children[0].value)
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (64, 64)
    enlarged = np.asarray(picture)
    assert np.array_equal(enlarged[0, 0], enlarged[1, 1])  # one source pixel, 2x2 tile pixels


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((0, 8, 8, 3), np.uint8), np.zeros(0, int), "N > 0"),
        (np.zeros((4, 8, 8, 3), np.uint8), np.zeros(3, int), r"one label per image, shape \(4,\)"),
        (np.zeros((4, 8, 8, 3), np.uint8), np.array([0, 1, 2, 3]), r"labels must be in 0\.\.2"),
    ],
)
def test_bad_input_is_refused_with_what_was_expected(images, labels, message):
    """Are empty data, a wrong label count and labels without a class name refused clearly?"""
    with pytest.raises(ValueError, match=message):
        dataset_browser(images, labels, NAMES)
