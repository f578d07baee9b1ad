"""Write the sample pictures that lessons 06 and 07 predict on, into lessons/images/.

They come from the datasets' renderers at 128x128 with their own seed (so they are in
neither split), and the lessons read them with ``course_utils.load_picture`` exactly as
they read a learner's upload: centre crop, resize to 64x64, then the training
preprocessing. Run again after a renderer changes: python scripts/make_sample_pictures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data_loaders._face_render import render_face  # noqa: E402
from data_loaders._hand_render import render_hand  # noqa: E402

SEED = 20261122
# file name -> (renderer, label)
PICTURES = {
    "smiling_1.png": (render_face, 1),
    "smiling_2.png": (render_face, 1),
    "not_smiling_1.png": (render_face, 0),
    "not_smiling_2.png": (render_face, 0),
    "hand_0_fingers.png": (render_hand, 0),
    "hand_2_fingers.png": (render_hand, 2),
    "hand_3_fingers.png": (render_hand, 3),
    "hand_5_fingers.png": (render_hand, 5),
}


def main() -> int:
    folder = ROOT / "lessons" / "images"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    for name, (render, label) in PICTURES.items():
        Image.fromarray(render(label, rng, 128)).save(folder / name, optimize=True)
        print(folder / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
