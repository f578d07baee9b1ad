"""Pictures from outside the dataset: read one as the lessons' models expect it, and predict
on it."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from course_utils.language import translate


def load_picture(source: str | os.PathLike | bytes, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """Read a picture (a path, or a file's bytes, in any format Pillow reads) the way the
    datasets are stored: turned upright by its EXIF orientation, RGB, centre-cropped to a
    square and resized to ``size`` (height, width).

    Returns uint8 (height, width, 3) in 0..255. Raises ValueError naming the picture when
    it cannot be read as an image.
    """
    name = translate("the uploaded bytes") if isinstance(source, bytes) else str(source)
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
        with stream, Image.open(stream) as picture:
            picture = ImageOps.exif_transpose(picture).convert("RGB")
            side = min(picture.size)
            left, top = (picture.width - side) // 2, (picture.height - side) // 2
            picture = picture.crop((left, top, left + side, top + side))
            picture = picture.resize((size[1], size[0]), Image.LANCZOS)
            return np.asarray(picture, dtype=np.uint8)
    except FileNotFoundError as error:
        raise ValueError(translate("load_picture: no file at {name}.", name=name)) from error
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(
            translate(
                "load_picture: could not read {name} as an image (expected a PNG, JPEG or other "
                "picture file): {error}",
                name=name,
                error=error,
            )
        ) from error


def class_probabilities(
    model,
    images: np.ndarray,
    preprocess: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Class probabilities of ``model`` on uint8 ``images`` (N, H, W, 3) after
    ``preprocess`` (the training preprocessing). Returns float (N, classes); a model with
    one sigmoid unit gives two columns, (1 - p, p)."""
    outputs = np.asarray(model.predict(preprocess(images), verbose=0), dtype=np.float64)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        p = outputs.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return outputs


def predict_picture(
    model,
    picture: np.ndarray,
    class_names: Sequence[str],
    preprocess: Callable[[np.ndarray], np.ndarray],
) -> dict[str, float]:
    """The class probabilities for one uint8 picture (H, W, 3), by class name."""
    probabilities = class_probabilities(model, picture[None], preprocess)[0]
    if len(probabilities) != len(class_names):
        raise ValueError(
            translate(
                "predict_picture: the model gives {probabilities} probabilities but "
                "{names} class names were passed.",
                probabilities=len(probabilities),
                names=len(class_names),
            )
        )
    return {name: float(p) for name, p in zip(class_names, probabilities, strict=True)}
