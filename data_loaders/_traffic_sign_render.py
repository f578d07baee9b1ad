"""Procedural renderer for the embedded traffic-sign dataset.

Each image is drawn from a seeded random generator, so the same seed always gives the same
images (for a given NumPy and Pillow). A sign is drawn large on a transparent layer, then
rotated, scaled, squeezed (a sign seen at an angle) and placed off-centre on a cluttered
street-like background; lighting, colour cast, blur and sensor noise are applied last, and
the frame is downsampled to 32x32.

The variation is chosen so that the classes differ in *shape* and *layout*, not in a colour
that a linear model could read off a few pixels: backgrounds carry red, yellow and white
clutter, the sign moves and changes size, and lighting changes every colour.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from data_loaders._render_common import camera_finish, place_layer, vertical_gradient

CLASS_NAMES: tuple[str, ...] = ("stop", "yield", "no entry", "priority road", "speed limit")

_CANVAS = 64  # drawing resolution; frames are downsampled to the requested size
_SIGN = 96  # size of the layer a sign is drawn on, once, before it is placed

_RED = (200, 24, 32)
_WHITE = (245, 245, 240)
_YELLOW = (250, 196, 20)
_BLACK = (20, 20, 20)

_BACKGROUND_PALETTE = np.array(
    [
        (110, 160, 220),  # sky
        (160, 190, 225),  # hazy sky
        (60, 110, 50),  # foliage
        (95, 140, 70),  # grass
        (120, 120, 125),  # concrete
        (80, 80, 85),  # asphalt
        (150, 70, 55),  # brick
        (170, 140, 100),  # sandstone
        (200, 170, 60),  # yellow facade
        (190, 60, 50),  # red facade
        (225, 225, 220),  # white wall
        (40, 45, 60),  # dusk
    ],
    dtype=np.float32,
)
_CLUTTER_PALETTE = (
    (200, 30, 35),
    (240, 200, 30),
    (240, 240, 235),
    (30, 30, 30),
    (70, 120, 190),
    (90, 150, 60),
    (150, 150, 150),
    (180, 110, 60),
)

_font_cache: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if size not in _font_cache:
        try:
            _font_cache[size] = ImageFont.load_default(size=size)
        except (TypeError, OSError):  # Pillow built without FreeType
            _font_cache[size] = ImageFont.load_default()
    return _font_cache[size]


def _regular_polygon(n: int, radius: float, rotation: float) -> list[tuple[float, float]]:
    c = _SIGN / 2
    angles = rotation + 2 * np.pi * np.arange(n) / n
    return [(c + radius * np.cos(a), c + radius * np.sin(a)) for a in angles]


def _centred_text(draw: ImageDraw.ImageDraw, text: str, size: int, fill: tuple) -> None:
    font = _font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (_SIGN - (right - left)) / 2 - left
    y = (_SIGN - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=fill)


_SPEED_LIMITS = (20, 30, 50, 60, 70, 80)


def _sign(label: int, rng: np.random.Generator) -> Image.Image:
    """The sign of class ``label`` (a speed limit picks its number from ``rng``), centred
    on a transparent RGBA layer, not to be drawn on: it is shared."""
    if not 0 <= label < len(CLASS_NAMES):
        raise ValueError(f"label must be in 0..{len(CLASS_NAMES) - 1}, found {label}")
    return _draw_sign(label, int(rng.choice(_SPEED_LIMITS)) if label == 4 else 0)


@functools.cache  # each of the 10 distinct signs is drawn once per process
def _draw_sign(label: int, number: int) -> Image.Image:
    """Draw the sign of class ``label`` (``number``: a speed limit's) centred on a
    transparent RGBA layer."""
    layer = Image.new("RGBA", (_SIGN, _SIGN), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    c, r = _SIGN / 2, _SIGN * 0.46
    if label == 0:  # stop: red octagon, white rim, white lettering
        draw.polygon(_regular_polygon(8, r, np.pi / 8), fill=_WHITE)
        draw.polygon(_regular_polygon(8, r * 0.9, np.pi / 8), fill=_RED)
        _centred_text(draw, "STOP", int(_SIGN * 0.27), _WHITE)
    elif label == 1:  # yield: point-down triangle, red border, white inside
        draw.polygon(_regular_polygon(3, r * 1.05, np.pi / 2), fill=_RED)
        draw.polygon(_regular_polygon(3, r * 0.6, np.pi / 2), fill=_WHITE)
    elif label == 2:  # no entry: red disc, white horizontal bar
        draw.ellipse((c - r, c - r, c + r, c + r), fill=_RED)
        w, h = r * 0.72, r * 0.2
        draw.rectangle((c - w, c - h, c + w, c + h), fill=_WHITE)
    elif label == 3:  # priority road: yellow diamond with white and black rims
        draw.polygon(_regular_polygon(4, r, 0.0), fill=_BLACK)
        draw.polygon(_regular_polygon(4, r * 0.93, 0.0), fill=_WHITE)
        draw.polygon(_regular_polygon(4, r * 0.62, 0.0), fill=_YELLOW)
    elif label == 4:  # speed limit: white disc, red ring, black number
        draw.ellipse((c - r, c - r, c + r, c + r), fill=_RED)
        inner = r * 0.76
        draw.ellipse((c - inner, c - inner, c + inner, c + inner), fill=_WHITE)
        _centred_text(draw, str(number), int(_SIGN * 0.38), _BLACK)
    return layer


def _background(rng: np.random.Generator) -> Image.Image:
    """A street-like backdrop: two-colour gradient, clutter shapes, sometimes a pole."""
    c = _CANVAS
    top, bottom = _BACKGROUND_PALETTE[rng.integers(len(_BACKGROUND_PALETTE), size=2)]
    shades = rng.normal(0, 15, (2, 3))
    image = vertical_gradient(top + shades[0], bottom + shades[1], c)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 7))):
        pick, x, y, w, h, round_ = rng.random(6)  # one draw per shape: colour, box, kind
        colour = _CLUTTER_PALETTE[int(pick * len(_CLUTTER_PALETTE))]
        x0, y0 = int(c * (1.2 * x - 0.2)), int(c * (1.2 * y - 0.2))
        box = (x0, y0, x0 + int(c * (0.08 + 0.39 * w)), y0 + int(c * (0.08 + 0.39 * h)))
        (draw.ellipse if round_ < 0.5 else draw.rectangle)(box, fill=colour)
    if rng.random() < 0.6:  # a pole behind the sign
        x = int(c / 2 + rng.normal(0, c * 0.06))
        half = int(rng.integers(1, 4))
        draw.rectangle((x - half, c // 2, x + half, c), fill=(130, 130, 135))
    return image


def render_sign(label: int, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """Render one photo-like image of a sign of class ``label``.

    Returns a uint8 array of shape (size, size, 3) with values in 0..255.
    """
    sign = _sign(label, rng)
    c = _CANVAS
    scale = rng.uniform(0.5, 0.95) * c / _SIGN  # of the canvas, as drawn
    squeeze = rng.uniform(0.75, 1.0)  # seen at an angle: narrower than tall
    angle = rng.uniform(-15, 15)
    frame = _background(rng)
    cx, cy = c / 2 + rng.uniform(-0.18 * c, 0.18 * c, size=2)
    place_layer(frame, sign, (cx, cy), scale=(scale * squeeze, scale), angle=angle)

    if rng.random() < 0.25:  # a branch or wire in front of the sign
        draw = ImageDraw.Draw(frame)
        colour = _CLUTTER_PALETTE[int(rng.integers(len(_CLUTTER_PALETTE)))]
        y, slope = rng.integers(0, c), rng.integers(-0.31 * c, 0.31 * c)
        draw.line((0, int(y), c, int(y + slope)), fill=colour, width=2)

    # Blur up to half an output pixel, as when the frame was drawn at 96.
    return camera_finish(frame, rng, size, max_blur=0.53 * c / size)
