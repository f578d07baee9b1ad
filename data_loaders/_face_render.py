"""Procedural renderer for the embedded happy-faces dataset (is the person smiling?).

A head is drawn front-on at 128x128 (hair or hat, ears, eyes, brows, nose, mouth), then
turned, moved and scaled onto an indoor backdrop above its neck and shoulders (which stay
level), lit from one side, and finished like a phone photo at 64x64. The two classes
differ only in the mouth: a smile curves up (sometimes open, showing teeth), a neutral or
unhappy mouth is flat, turned down or a small "o". Smiles and non-smiles come in graded
strengths, so some examples are subtle; everything else (skin tone, hair, glasses, pose,
light, room) is drawn independently of the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from data_loaders._render_common import camera_finish, place_layer, vertical_gradient

CLASS_NAMES: tuple[str, ...] = ("not smiling", "smiling")

_C = 128  # drawing canvas
_HEAD_Y = _C * 0.46  # centre of the head on its layer
# Pose ranges and mouth sizes, chosen by measurement (bench/dataset_baselines.py).
_SCALE = (0.9, 1.05)
_ROTATION = 6.0  # degrees either way
_SHIFT = 0.05  # of the frame, either way
_MOUTH_WIDTH = (0.85, 1.1)  # of the head's half-width
_MOUTH_THICKNESS = (3.0, 5.0)  # canvas pixels
_SMILE_DEPTH = (0.28, 0.55)  # of the mouth's width

_SKIN = np.array(
    [
        (255, 224, 196),
        (241, 194, 160),
        (224, 172, 130),
        (198, 134, 98),
        (161, 102, 70),
        (120, 75, 50),
        (90, 56, 38),
    ],
    dtype=np.float32,
)
_HAIR = [
    (20, 16, 14),
    (60, 40, 25),
    (110, 75, 40),
    (200, 170, 110),
    (150, 60, 30),
    (160, 160, 160),
    (235, 235, 230),
]
_WALLS = np.array(
    [
        (230, 225, 210),
        (200, 210, 220),
        (180, 160, 140),
        (120, 140, 160),
        (90, 90, 95),
        (210, 190, 150),
        (160, 190, 160),
        (60, 60, 70),
        (240, 240, 240),
        (170, 110, 100),
    ],
    dtype=np.float32,
)
_CLOTHES = [
    (30, 60, 140),
    (180, 30, 40),
    (30, 30, 30),
    (240, 240, 240),
    (40, 120, 60),
    (230, 180, 40),
    (120, 80, 140),
    (150, 150, 150),
]


def _colour(palette: np.ndarray, rng: np.random.Generator, jitter: float) -> tuple[int, ...]:
    base = palette[int(rng.integers(len(palette)))] + rng.normal(0, jitter, 3)
    return tuple(int(v) for v in np.clip(base, 0, 255))


def _room(rng: np.random.Generator) -> Image.Image:
    top, bottom = _WALLS[rng.integers(len(_WALLS), size=2)]
    image = vertical_gradient(top + rng.normal(0, 12, 3), bottom, _C)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 5))):  # frames, windows, doors, shelves
        x0, y0 = (int(v) for v in rng.integers(-30, _C, size=2))
        w, h = (int(v) for v in rng.integers(15, 70, size=2))
        draw.rectangle((x0, y0, x0 + w, y0 + h), fill=_colour(_WALLS, rng, 40))
    return image


def _mouth(
    draw: ImageDraw.ImageDraw,
    smiling: bool,
    cx: float,
    y: float,
    width: float,
    rng: np.random.Generator,
    lip: tuple[int, ...],
) -> None:
    half = width / 2
    thickness = max(2, int(rng.uniform(*_MOUTH_THICKNESS)))
    if smiling:
        depth = width * rng.uniform(*_SMILE_DEPTH)  # how far the middle sits below the corners
        if rng.random() < 0.4:  # open smile with teeth
            box = (cx - half, y - depth, cx + half, y + depth)
            draw.chord(box, 0, 180, fill=(90, 20, 25))
            draw.chord(
                (cx - half * 0.8, y - depth * 0.3, cx + half * 0.8, y + depth * 0.55),
                0,
                180,
                fill=(245, 245, 240),
            )
            draw.arc(box, 0, 180, fill=lip, width=thickness)
        else:
            draw.arc(
                (cx - half, y - depth, cx + half, y + depth), 10, 170, fill=lip, width=thickness
            )
        return
    style = rng.random()
    if style < 0.5:  # flat, perhaps a little crooked
        tilt = rng.uniform(-0.06, 0.06) * width
        draw.line((cx - half, y - tilt, cx + half, y + tilt), fill=lip, width=thickness)
    elif style < 0.85:  # turned down
        depth = width * rng.uniform(0.1, 0.35)
        draw.arc((cx - half, y, cx + half, y + 2 * depth), 190, 350, fill=lip, width=thickness)
    else:  # surprised "o"
        r = width * rng.uniform(0.15, 0.25)
        draw.ellipse((cx - r, y - r, cx + r, y + r * 1.3), fill=(90, 20, 25), outline=lip)


def _face(label: int, rng: np.random.Generator) -> tuple[Image.Image, _Torso]:
    """Draw a head on a transparent 128x128 layer; return it with the neck and shoulders
    that go under it (drawn on the frame: the head turns, the shoulders stay level)."""
    layer = Image.new("RGBA", (_C, _C), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    skin = _colour(_SKIN, rng, 8)
    shade = tuple(int(v * 0.75) for v in skin)
    hair = _HAIR[int(rng.integers(len(_HAIR)))]
    cx, cy = _C / 2, _HEAD_Y
    hw, hh = _C * rng.uniform(0.22, 0.27), _C * rng.uniform(0.29, 0.34)  # head half-sizes

    torso = _Torso(hw, hh, shade, _CLOTHES[int(rng.integers(len(_CLOTHES)))])
    if rng.random() < 0.8:  # hair behind the head
        length = rng.uniform(0.2, 1.0)
        draw.ellipse((cx - hw * 1.12, cy - hh * 1.12, cx + hw * 1.12, cy + hh * length), fill=hair)
    for side in (-1, 1):  # ears
        ex = cx + side * hw
        draw.ellipse((ex - hw * 0.18, cy - hh * 0.15, ex + hw * 0.18, cy + hh * 0.22), fill=skin)
    draw.ellipse((cx - hw, cy - hh, cx + hw, cy + hh), fill=skin)
    fringe = rng.random()
    if fringe < 0.55:  # fringe over the forehead
        draw.chord(
            (cx - hw * 1.05, cy - hh * 1.1, cx + hw * 1.05, cy - hh * 0.1), 180, 360, fill=hair
        )
    elif fringe < 0.7:  # a cap
        cap = _CLOTHES[int(rng.integers(len(_CLOTHES)))]
        draw.chord((cx - hw * 1.1, cy - hh * 1.2, cx + hw * 1.1, cy - hh * 0.2), 180, 360, fill=cap)
        draw.rectangle((cx - hw * 1.1, cy - hh * 0.72, cx + hw * 1.4, cy - hh * 0.6), fill=cap)

    eye_y = cy - hh * rng.uniform(0.05, 0.2)
    eye_dx, eye_r = hw * rng.uniform(0.38, 0.5), hw * rng.uniform(0.12, 0.17)
    iris = _HAIR[int(rng.integers(3))]
    closed = rng.random() < 0.12
    for side in (-1, 1):
        ex = cx + side * eye_dx
        if closed:
            draw.arc(
                (ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r),
                20,
                160,
                fill=(30, 20, 20),
                width=2,
            )
        else:
            draw.ellipse(
                (ex - eye_r, eye_y - eye_r * 0.7, ex + eye_r, eye_y + eye_r * 0.7),
                fill=(245, 245, 245),
            )
            pr = eye_r * 0.55
            draw.ellipse((ex - pr, eye_y - pr, ex + pr, eye_y + pr), fill=iris)
        brow_y = eye_y - eye_r * rng.uniform(1.4, 2.2)
        tilt = rng.uniform(-0.3, 0.3) * eye_r
        draw.line(
            (ex - eye_r * 1.2, brow_y + side * tilt, ex + eye_r * 1.2, brow_y - side * tilt),
            fill=hair if hair != (235, 235, 230) else (120, 110, 100),
            width=3,
        )
    if rng.random() < 0.25:  # glasses
        frame = (20, 20, 20) if rng.random() < 0.7 else (150, 110, 60)
        for side in (-1, 1):
            ex = cx + side * eye_dx
            draw.ellipse(
                (ex - eye_r * 1.7, eye_y - eye_r * 1.3, ex + eye_r * 1.7, eye_y + eye_r * 1.3),
                outline=frame,
                width=2,
            )
        draw.line(
            (cx - eye_dx + eye_r * 1.7, eye_y, cx + eye_dx - eye_r * 1.7, eye_y),
            fill=frame,
            width=2,
        )

    nose_y = cy + hh * rng.uniform(0.18, 0.3)
    draw.line((cx, eye_y + eye_r, cx - hw * 0.08, nose_y), fill=shade, width=2)
    draw.line((cx - hw * 0.12, nose_y, cx + hw * 0.1, nose_y), fill=shade, width=2)
    if rng.random() < 0.15:  # beard
        draw.chord(
            (cx - hw * 0.95, cy - hh * 0.2, cx + hw * 0.95, cy + hh * 1.02), 20, 160, fill=hair
        )
    lip = (int(skin[0] * 0.55), int(skin[1] * 0.3), int(skin[2] * 0.3))
    mouth_y = cy + hh * rng.uniform(0.5, 0.62)
    _mouth(draw, label == 1, cx, mouth_y, hw * rng.uniform(*_MOUTH_WIDTH), rng, lip)
    return layer, torso


@dataclass(frozen=True)
class _Torso:
    """Neck and shoulders under a head of half-sizes ``hw`` x ``hh`` (layer pixels)."""

    hw: float
    hh: float
    neck: tuple[int, ...]
    clothes: tuple[int, ...]

    def draw(self, frame: Image.Image, centre: tuple[float, float], scale: float) -> None:
        """Draw on ``frame`` where the head layer, scaled by ``scale``, lands on ``centre``."""
        draw = ImageDraw.Draw(frame)
        hw, hh, cy = self.hw * scale, self.hh * scale, centre[1] + (_HEAD_Y - _C / 2) * scale
        x = centre[0]
        draw.rectangle((x - hw * 0.45, cy + hh * 0.6, x + hw * 0.45, _C), fill=self.neck)
        draw.ellipse((x - hw * 2.2, cy + hh * 1.15, x + hw * 2.2, cy + hh * 3.2), fill=self.clothes)


def render_face(label: int, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Render one drawing of a face; label 1 smiles, label 0 does not.

    Returns uint8 (size, size, 3) in 0..255.
    """
    if label not in (0, 1):
        raise ValueError(f"label must be 0 or 1, found {label}")
    head, torso = _face(label, rng)
    scale = rng.uniform(*_SCALE)
    angle = rng.uniform(-_ROTATION, _ROTATION)
    frame = _room(rng)
    shift = _C * _SHIFT
    centre = (_C / 2 + rng.uniform(-shift, shift), _C / 2 + rng.uniform(-shift, shift * 0.6))
    torso.draw(frame, centre, scale)
    place_layer(frame, head, centre, scale=(scale, scale), angle=angle)
    # Light from one side: a horizontal ramp darkens the other half.
    light = np.linspace(1.0, rng.uniform(0.55, 1.0), size, dtype=np.float32)
    if rng.random() < 0.5:
        light = light[::-1]
    return camera_finish(
        frame, rng, size, max_blur=1.8, gain=(0.55, 1.3), max_noise=0.04, light=light
    )
