"""Tests of the TensorFlow settings the course's processes share."""

from __future__ import annotations

import pytest

from course_utils.tensorflow_settings import TENSORFLOW_ENVIRONMENT, use_tensorflow_settings

pytestmark = pytest.mark.unit


def test_the_settings_fill_in_what_is_missing_and_keep_what_is_set():
    """Does an environment without the variables get the course's values, while a variable
    set before (a learner turning oneDNN off) keeps its value?"""
    empty: dict[str, str] = {}
    use_tensorflow_settings(empty)
    assert empty == TENSORFLOW_ENVIRONMENT == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    turned_off = {"TF_ENABLE_ONEDNN_OPTS": "0", "HOME": "/home/learner"}
    use_tensorflow_settings(turned_off)
    assert turned_off == {"TF_ENABLE_ONEDNN_OPTS": "0", "HOME": "/home/learner"}
