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

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from data_loaders._render_common import camera_finish, vertical_gradient

CLASS_NAMES: tuple[str, ...] = ("stop", "yield", "no entry", "priority road", "speed limit")

_CANVAS = 96  # drawing resolution; frames are downsampled to the requested size
_SIGN = 96  # size of the layer a sign is drawn on before it is transformed

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


def _draw_sign(label: int, rng: np.random.Generator) -> Image.Image:
    """Draw the sign of class ``label`` centred on a transparent RGBA layer."""
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
        number = str(int(rng.choice([20, 30, 50, 60, 70, 80])))
        _centred_text(draw, number, int(_SIGN * 0.38), _BLACK)
    else:
        raise ValueError(f"label must be in 0..{len(CLASS_NAMES) - 1}, found {label}")
    return layer


def _background(rng: np.random.Generator) -> Image.Image:
    """A street-like backdrop: two-colour gradient, clutter shapes, sometimes a pole."""
    top, bottom = _BACKGROUND_PALETTE[rng.integers(len(_BACKGROUND_PALETTE), size=2)]
    top = top + rng.normal(0, 15, 3)
    bottom = bottom + rng.normal(0, 15, 3)
    image = vertical_gradient(top, bottom, _CANVAS)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 7))):
        colour = _CLUTTER_PALETTE[int(rng.integers(len(_CLUTTER_PALETTE)))]
        x0, y0 = rng.integers(-20, _CANVAS, size=2)
        w, h = rng.integers(8, 45, size=2)
        box = (int(x0), int(y0), int(x0 + w), int(y0 + h))
        if rng.random() < 0.5:
            draw.rectangle(box, fill=colour)
        else:
            draw.ellipse(box, fill=colour)
    if rng.random() < 0.6:  # a pole behind the sign
        x = int(_CANVAS / 2 + rng.normal(0, 6))
        half = int(rng.integers(2, 5))
        draw.rectangle((x - half, _CANVAS // 2, x + half, _CANVAS), fill=(130, 130, 135))
    return image


def render_sign(label: int, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """Render one photo-like image of a sign of class ``label``.

    Returns a uint8 array of shape (size, size, 3) with values in 0..255.
    """
    sign = _draw_sign(label, rng)
    scale = rng.uniform(0.5, 0.95)
    squeeze = rng.uniform(0.75, 1.0)  # seen at an angle: narrower than tall
    width = max(8, int(_SIGN * scale * squeeze))
    height = max(8, int(_SIGN * scale))
    sign = sign.resize((width, height), Image.BILINEAR)
    sign = sign.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR, expand=True)

    frame = _background(rng)
    max_shift = _CANVAS * 0.18
    cx = _CANVAS / 2 + rng.uniform(-max_shift, max_shift)
    cy = _CANVAS / 2 + rng.uniform(-max_shift, max_shift)
    frame.paste(sign, (int(cx - sign.width / 2), int(cy - sign.height / 2)), sign)

    if rng.random() < 0.25:  # a branch or wire in front of the sign
        draw = ImageDraw.Draw(frame)
        colour = _CLUTTER_PALETTE[int(rng.integers(len(_CLUTTER_PALETTE)))]
        y = int(rng.integers(0, _CANVAS))
        draw.line((0, y, _CANVAS, y + int(rng.integers(-30, 30))), fill=colour, width=3)

    return camera_finish(frame, rng, size)
