"""Tests of which input scalings the grader names for a model that fails on the lesson's:
:func:`graders.training.likely_scalings` on accuracies as whole numbers of images."""

from __future__ import annotations

import pytest

from graders.training import SCALING_MARGIN, SCALING_TIE, likely_scalings

pytestmark = pytest.mark.unit

LESSON = "[-0.5, 0.5] (x / 255 - 0.5)"
UNIT = "[0, 1] (x / 255)"
RAW = "raw pixels 0..255 (unscaled)"


def _accuracies(lesson: int, unit: int, raw: int, images: int = 1000) -> dict[str, float]:
    """Accuracies of ``lesson``, ``unit`` and ``raw`` correct images out of ``images``, in
    the grader's order of scalings."""
    return {LESSON: lesson / images, UNIT: unit / images, RAW: raw / images}


CASES = {
    "nothing ahead of the lesson": ((700, 650, 600), []),
    "one scaling just short of the margin": ((300, 449, 100), []),
    "one scaling exactly at the margin": ((300, 450, 100), [UNIT]),
    "one scaling far ahead": ((200, 250, 800), [RAW]),
    "two scalings that tie": ((350, 722, 719), [UNIT, RAW]),
    "two scalings exactly the tie apart": ((100, 850, 800), [UNIT, RAW]),
    "two scalings just over the tie apart": ((100, 851, 800), [UNIT]),
    "the second within the tie but short of the margin": ((600, 760, 720), [UNIT]),
    "the lesson's own scaling is never named": ((900, 100, 120), []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_scalings_named(case):
    """Is each scaling named exactly when it is SCALING_MARGIN above the lesson's and within
    SCALING_TIE of the best, in the grader's order, also at gaps of exactly those margins?"""
    counts, expected = CASES[case]
    assert likely_scalings(_accuracies(*counts), LESSON) == expected


def test_the_cases_sit_on_the_margins():
    """Do the boundary cases above still sit on the constants' edges?"""
    assert (450 - 300) / 1000 == pytest.approx(SCALING_MARGIN)
    assert (850 - 800) / 1000 == pytest.approx(SCALING_TIE)


def test_exact_gaps_count_the_same_at_every_level():
    """Is a gap of exactly SCALING_MARGIN or SCALING_TIE images counted the same wherever it
    lies in 0..1000, whatever the rounding of the two fractions?"""
    margin, tie = round(SCALING_MARGIN * 1000), round(SCALING_TIE * 1000)
    for lesson in range(0, 1000 - margin - tie):
        best = lesson + margin + tie
        accuracies = _accuracies(lesson, best, best - tie)
        assert likely_scalings(accuracies, LESSON) == [UNIT, RAW], accuracies
        accuracies = _accuracies(lesson, lesson + margin, 0)
        assert likely_scalings(accuracies, LESSON) == [UNIT], accuracies
