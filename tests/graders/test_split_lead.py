"""Fisher's exact test behind the batch grader's "trained on the test images" (no
TensorFlow): a model's correct predictions on the public test split against the held-out
images."""

from __future__ import annotations

from math import comb

import pytest

from graders.training import chance_of_a_lead

pytestmark = pytest.mark.unit


def test_the_lady_tasting_tea():
    """Fisher's own example: 3 of 4 right on one side, 1 of 4 on the other, one-sided
    chance 17/70."""
    assert chance_of_a_lead((3, 4), (1, 4)) == pytest.approx(17 / 70)


def test_a_perfect_public_split_against_three_quarters_held_out():
    """120 of 120 against 90 of 120: the one table as extreme, C(210, 120) / C(240, 120)."""
    assert chance_of_a_lead((120, 120), (90, 120)) == pytest.approx(
        comb(210, 120) / comb(240, 120), rel=1e-9
    )


@pytest.mark.parametrize(
    ("public", "heldout"), [((108, 120), (102, 120)), ((930, 1000), (960, 1000))]
)
def test_a_small_lead_or_none_is_within_chance(public, heldout):
    """The honest solutions' gaps seen in batch grading (lesson 07: 0.900 against 0.850;
    and a held-out split scoring higher) are far from rare."""
    assert chance_of_a_lead(public, heldout) > 0.05


def test_equal_splits_and_the_extremes():
    assert chance_of_a_lead((60, 120), (60, 120)) > 0.5
    assert chance_of_a_lead((0, 120), (120, 120)) == pytest.approx(1.0)
    assert chance_of_a_lead((120, 120), (120, 120)) == pytest.approx(1.0)


def test_the_validation_images_are_counted_from_the_accuracies_never_too_many():
    """Keras's accuracies are float32 quotients of whole counts: are 800 validation images
    found from eight epochs' accuracies, a count that divides the true one accepted (it
    only weakens the lead), and nothing found for figures that no count fits?"""
    import numpy as np

    from graders.training import images_behind

    def keras_accuracy(correct: int, count: int) -> float:
        return float(np.float32(correct) / np.float32(count))

    eight_epochs = [keras_accuracy(k, 800) for k in (647, 728, 765, 767, 777, 782, 782, 781)]
    assert images_behind(eight_epochs, 100_000) == 800
    assert images_behind([keras_accuracy(k, 800) for k in (640, 720, 780)], 100_000) == 40
    assert images_behind([0.31415927, 0.27182818], 1000) is None
    assert images_behind([], 1000) is None


def test_a_model_holding_its_best_epoch_is_not_called_a_test_trainer():
    """A model restored to its best epoch (EarlyStopping with restore_best_weights=True)
    scores on the test split what its best validation accuracy promised, far above the last
    epoch's. Is that no lead, while a score far above even the best epoch still is one?"""
    from types import SimpleNamespace

    import numpy as np

    from graders.training import _lead_over_validation

    history = {"val_accuracy": [0.5, 0.83, 0.61, 0.58]}  # 100 validation images

    def on_public(accuracy: float):
        split = SimpleNamespace(labels=np.zeros(1000), source="the course's test images")
        return SimpleNamespace(
            heldouts={"public": split},
            best="public",
            scaling="lesson",
            accuracy=lambda candidate, scaling: accuracy,
        )

    assert _lead_over_validation(on_public(0.82), history, "reported", 4) is None
    lead = _lead_over_validation(on_public(0.99), history, "reported", 4)
    assert lead is not None and "but at best 0.830 on its 100 validation images" in lead.message
