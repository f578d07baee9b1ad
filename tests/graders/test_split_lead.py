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
