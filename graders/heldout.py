"""Data the grader holds: each lesson's test images, and the ways a learner may have
scaled them.

The test images come from the sources the learner loaded: when the notebook loaded the
original files (``load_traffic_signs(train_file=..., test_file=...)``), their test file is
one of the candidates, so a model trained on the original photos is measured on photos,
and one trained on the rendered images on those (the check takes the candidate on which
the model does best). In batch grading, where the checks' process loads nothing the
learner chose, the only candidate is the grader's own held-out split, rendered from the
instructor's secret seed (:func:`use_grader_heldout`): images no learner can reproduce
from the public package, so none can train on them. A real dataset (MNIST) cannot be
rendered anew: its grader's split is its public test split, which a learner could train on.
A test accuracy the learner reports is compared with the model's accuracy on the split
they could evaluate on, the public one (:func:`public_test_candidates`), in batch grading
too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_utils.language import translate
from data_loaders.sources import forget_loads, loads_of


def scale_images(x: np.ndarray) -> np.ndarray:
    """Scale uint8 images (N, H, W, C) to float32 in [-0.5, 0.5], as lessons 01-05 teach."""
    return x.astype(np.float32) / 255.0 - 0.5


def unit_scale(x: np.ndarray) -> np.ndarray:
    """Scale uint8 images (N, H, W, C) to float32 in [0, 1], as lessons 06 and 07 teach."""
    return x.astype(np.float32) / 255.0


def raw_pixels(x: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W, C) as float32 in 0..255, unscaled."""
    return x.astype(np.float32)


SCALINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "[-0.5, 0.5] (x / 255 - 0.5)": scale_images,
    "[0, 1] (x / 255)": unit_scale,
    "raw pixels 0..255 (unscaled)": raw_pixels,
}
"""Every input scaling the grader tries, by the name its messages use (in English: see
:func:`scaling_name`)."""


def scaling_name(scaling: str) -> str:
    """How a message names ``scaling`` (a key of :data:`SCALINGS`, which stays English) in
    the learner's language."""
    names = {"raw pixels 0..255 (unscaled)": translate("raw pixels 0..255 (unscaled)")}
    return names.get(scaling, scaling)


LESSON_SCALING = {
    "traffic_signs": "[-0.5, 0.5] (x / 255 - 0.5)",
    "happy_faces": "[0, 1] (x / 255)",
    "hand_signs": "[0, 1] (x / 255)",
    "mnist": "[0, 1] (x / 255)",
    "fashion_mnist": "[0, 1] (x / 255)",
}
"""The scaling each dataset's lessons teach."""


@dataclass(frozen=True, eq=False)
class HeldOut:
    """The grader's test images for one dataset: uint8 ``images`` (N, H, W, 3), or
    (N, 28, 28) for MNIST, int64 ``labels`` (N,), and ``source``, a phrase naming where
    they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str

    def scaled(self, scaling: str, first: int | None = None) -> np.ndarray:
        """The images as float32, scaled by ``SCALINGS[scaling]``: all of them, or the
        ``first`` ones only (scaled alone, not cut from all the scaled images)."""
        return SCALINGS[scaling](self.images[:first])


_GRADER_HELDOUT: dict[str, HeldOut] = {}


def secret_seed(secret: bytes, dataset: str) -> int:
    """The seed that renders ``dataset``'s held-out split from the instructor's ``secret``
    (a 63-bit number; the course's public split is seed 0)."""
    import hashlib

    digest = hashlib.sha256(secret + b"\0" + dataset.encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1 or 1


HELDOUT_SIZE = 4
"""How many times as many images as the public test split the grader's held-out split
holds, as many of each class. A model's accuracy on N images strays from its accuracy on
all images by about sqrt(p (1 - p) / N): on lesson 07's 120 test images, far enough for a
correct solution to fall under the threshold on some secrets (``python
bench/solutions_in_batch.py`` grades every solution with a fresh one). Four times as many
images halve that, for about a second of rendering a batch and a few seconds more of
prediction a submission."""


def public_test_size(dataset: str) -> int:
    """How many test images the rendered ``dataset``'s public split holds (its loader's
    ``n_test``). Raises ValueError for a dataset the course does not render."""
    import data_loaders

    if dataset not in data_loaders.RENDERED:
        raise ValueError(f"expected a rendered dataset {data_loaders.RENDERED}, found {dataset!r}")
    loader, _ = data_loaders.LOADERS[dataset]
    return inspect.signature(loader).parameters["n_test"].default


def render_grader_heldout(dataset: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Render (or read from the dataset cache) ``dataset``'s test split for ``seed``:
    uint8 images (N, H, W, 3) and int64 labels (N,), :data:`HELDOUT_SIZE` times as many
    as the public test split. Leaves no load recorded in this process."""
    import data_loaders

    loader, class_names = data_loaders.LOADERS[dataset]
    count = HELDOUT_SIZE * public_test_size(dataset)
    _, (images, labels) = loader(seed=seed, n_train=len(class_names), n_test=count)
    forget_loads()
    return images, labels


def use_grader_heldout(dataset: str, seed: int) -> None:
    """Measure test accuracy on ``dataset`` on the grader's held-out split, rendered from
    ``seed`` (see :func:`secret_seed`), instead of any split a learner can load. For the
    checks' process of batch grading; call it before anything else loads ``dataset``."""
    images, labels = render_grader_heldout(dataset, seed)
    _GRADER_HELDOUT[dataset] = HeldOut(images, labels, translate("the grader's held-out images"))


def _loads(dataset: str) -> list:
    """The sources of ``dataset`` loaded in this process; the course's rendered default
    when nothing was loaded (as in the batch grader's process)."""
    if not loads_of(dataset):
        import data_loaders

        loader, _ = data_loaders.LOADERS[dataset]
        loader()  # records the load
    return loads_of(dataset)


def forget_grader_heldout() -> None:
    """Measure on the public test splits again, as a process that never called
    :func:`use_grader_heldout` does."""
    _GRADER_HELDOUT.clear()


def public_test_candidates(dataset: str) -> list[HeldOut]:
    """The test splits a learner can evaluate a model trained on ``dataset`` on: the test
    split of every source loaded in this process (the course's rendered images, the
    original files), or the course's rendered test split when nothing was loaded (as in the
    batch grader's process)."""
    return [HeldOut(load.x_test, load.y_test, load.description) for load in _loads(dataset)]


def grader_heldout_in_use(dataset: str) -> bool:
    """Whether a model trained on ``dataset`` is measured on the grader's held-out split
    (:func:`use_grader_heldout`, in batch grading) rather than on the
    :func:`public_test_candidates`."""
    return dataset in _GRADER_HELDOUT


def heldout_candidates(dataset: str) -> list[HeldOut]:
    """The test images a model trained on ``dataset`` is measured on: in batch grading,
    only the grader's held-out split (:func:`use_grader_heldout`); otherwise the
    :func:`public_test_candidates`."""
    if grader_heldout_in_use(dataset):
        return [_GRADER_HELDOUT[dataset]]
    return public_test_candidates(dataset)


TRAINING_SAMPLE = 10_000
"""How many training images (the first) the grader predicts to measure a model's training
accuracy: all of the rendered datasets', a sixth of MNIST's 60,000."""


def training_candidates(dataset: str, count: int = TRAINING_SAMPLE) -> list[HeldOut]:
    """The first ``count`` training images of the same sources as
    :func:`public_test_candidates`."""
    return [
        HeldOut(load.x_train[:count], load.y_train[:count], translate("the training images"))
        for load in _loads(dataset)
    ]
