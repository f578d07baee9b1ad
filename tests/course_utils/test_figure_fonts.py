"""Tests of the figures' fonts: Chinese titles drawn, not boxes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_utils.language import LANGUAGE_ENV_VAR

pytestmark = pytest.mark.unit

DRAW = """
import io, warnings
from matplotlib.figure import Figure
import course_utils.plots  # the helpers' fonts are set as they load
from course_utils.figure_fonts import add_fallback_fonts
print(add_fallback_fonts())
figure = Figure()
figure.suptitle("池化一次 pooled once")
figure.savefig(io.BytesIO(), format="png")
"""


def test_a_chinese_title_is_drawn_with_a_chinese_font_and_no_warning():
    """With a font for Chinese installed (`./course test` installs one), do the helpers'
    figures in a Chinese kernel draw a Chinese title without Matplotlib's "Glyph missing"
    warning, which a learner would see under the cell with boxes in the figure?"""
    from course_utils.figure_fonts import CJK_FONTS, _fontconfig_chinese_files

    if not _fontconfig_chinese_files():
        pytest.skip("no font for Chinese here (scripts/install-system-packages.sh --tests)")
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", DRAW],
        capture_output=True,
        text=True,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", LANGUAGE_ENV_VAR: "zh"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in CJK_FONTS


def test_an_english_kernel_keeps_matplotlibs_fonts():
    """In English the helpers leave Matplotlib's font settings as they are."""
    script = (
        "from matplotlib import rcParams; before = list(rcParams['font.family']); "
        "import course_utils.plots; print(before == list(rcParams['font.family']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", LANGUAGE_ENV_VAR: "en"},
        timeout=120,
    )
    assert done.stdout.strip() == "True", done.stderr
