"""The pieces every renderer shares: placing a drawn layer in the frame, the camera finish."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from data_loaders._render_common import camera_finish, place_layer

pytestmark = pytest.mark.unit


def _layer(rng: np.random.Generator, side: int = 96) -> Image.Image:
    """A transparent RGBA layer with a few opaque shapes somewhere on it."""
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(3):
        x, y = (int(v) for v in rng.integers(0, side - 20, size=2))
        w, h = (int(v) for v in rng.integers(5, 20, size=2))
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3)) + (255,)
        draw.ellipse((x, y, x + w, y + h), fill=colour)
    return layer


def _place_over_whole_frame(frame, layer, centre, scale, angle):
    """The same mapping as place_layer, resampled over every pixel of the frame."""
    turn = math.radians(angle)
    cos, sin = math.cos(turn), math.sin(turn)
    (sx, sy), (cx, cy) = scale, centre
    lx, ly = layer.width / 2, layer.height / 2
    a, b, d, e = cos / sx, -sin / sx, sin / sy, cos / sy
    inverse = (a, b, lx - a * cx - b * cy, d, e, ly - d * cx - e * cy)
    placed = layer.transform(frame.size, Image.AFFINE, inverse, resample=Image.BILINEAR)
    frame.paste(placed, (0, 0), placed)


def test_placing_only_where_the_layer_lands_changes_no_pixel():
    """Does resampling only the box the layer's visible pixels reach give the same frame as
    resampling the whole frame, for any scale, turn and position (partly outside too)?"""
    rng = np.random.default_rng(5)
    for _ in range(60):
        layer = _layer(rng)
        frame = Image.new("RGB", (128, 128), (10, 200, 30))
        expected = frame.copy()
        centre = tuple(rng.uniform(-20, 148, size=2))
        scale = tuple(rng.uniform(0.4, 1.6, size=2))
        angle = rng.uniform(-40, 40)
        place_layer(frame, layer, centre, scale=scale, angle=angle)
        _place_over_whole_frame(expected, layer, centre, scale, angle)
        np.testing.assert_array_equal(np.asarray(frame), np.asarray(expected))


def test_a_positive_angle_turns_counter_clockwise_like_pillow():
    """Does place_layer turn the way Image.rotate does, about the layer's centre?"""
    layer = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle((32, 28, 60, 36), fill=(255, 0, 0, 255))  # points right
    frame = Image.new("RGB", (64, 64), (0, 0, 0))
    place_layer(frame, layer, (32, 32), scale=(1.0, 1.0), angle=90)
    expected = Image.new("RGB", (64, 64), (0, 0, 0))
    turned = layer.rotate(90, resample=Image.BILINEAR)
    expected.paste(turned, (0, 0), turned)
    red = np.asarray(frame)[..., 0] > 128
    assert red[4:28, 30:34].all() and not red[36:, :].any()  # now points up
    assert (red != (np.asarray(expected)[..., 0] > 128)).sum() <= 8  # edge pixels at most


def test_scale_and_centre_place_the_layer_where_asked():
    """Does a layer scaled by (2, 0.5) and centred at (40, 20) cover the box it should?"""
    layer = Image.new("RGBA", (20, 20), (255, 255, 255, 255))
    frame = Image.new("RGB", (80, 80), (0, 0, 0))
    place_layer(frame, layer, (40, 20), scale=(2.0, 0.5), angle=0)
    ys, xs = np.nonzero(np.asarray(frame)[..., 0] > 128)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (20, 59, 15, 24)


def test_an_empty_layer_leaves_the_frame_alone():
    """Is a fully transparent layer, or one placed outside the frame, a no-op?"""
    frame = Image.new("RGB", (32, 32), (1, 2, 3))
    place_layer(frame, Image.new("RGBA", (16, 16)), (16, 16), scale=(1, 1), angle=10)
    opaque = Image.new("RGBA", (16, 16), (255, 255, 255, 255))
    place_layer(frame, opaque, (100, 100), scale=(1, 1), angle=0)
    assert set(frame.getdata()) == {(1, 2, 3)}


@pytest.mark.parametrize("side", [64, 96, 100])
def test_the_camera_finish_is_deterministic_and_in_range(side):
    """Does the finish give a uint8 (size, size, 3) image, the same one from the same
    generator state, from frames whose side is a multiple of the size or not?"""
    frame = Image.fromarray(
        np.random.default_rng(1).integers(0, 256, (side, side, 3), dtype=np.uint8), "RGB"
    )
    light = np.linspace(1.0, 0.6, 32, dtype=np.float32)
    first = camera_finish(frame, np.random.default_rng(9), 32, light=light)
    again = camera_finish(frame, np.random.default_rng(9), 32, light=light)
    assert first.shape == (32, 32, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    other = camera_finish(frame, np.random.default_rng(10), 32, light=light)
    assert not np.array_equal(first, other)


def test_light_from_one_side_darkens_the_other():
    """With ``light`` falling from 1 to 0.3 across the columns, is the right side darker?"""
    frame = Image.new("RGB", (64, 64), (180, 180, 180))
    light = np.linspace(1.0, 0.3, 32, dtype=np.float32)
    image = camera_finish(frame, np.random.default_rng(3), 32, max_noise=0.0, light=light)
    columns = image.astype(float).mean(axis=(0, 2))
    assert columns[:4].mean() > columns[-4:].mean() + 40
