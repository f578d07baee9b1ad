"""Fonts for the helpers' figures in every language of the course.

Matplotlib draws text in DejaVu Sans, which has no Chinese: a translated lesson's titles
and legends (``show_image_row(..., ["池化一次", ...])``) would come out as empty boxes, with
a warning per character on stderr. :func:`add_fallback_fonts` keeps the font the figures
use and adds the first installed font of :data:`CJK_FONTS` after it, which Matplotlib
(3.6 and later) falls back to for each character the first lacks. The helpers that draw
call :func:`fonts_for_the_learner` as they load: in an English kernel nothing changes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Arial Unicode MS",
)
"""Fonts with Simplified Chinese, by preference: Linux's, then Windows's and macOS's."""


@functools.cache
def add_fallback_fonts() -> str | None:
    """Add the first installed font of :data:`CJK_FONTS` to Matplotlib's font family, after
    the font it resolves to now; returns its name, or None when none is installed (then
    nothing changes). A font installed since Matplotlib made its font cache is found
    through fontconfig. Once per process."""
    from matplotlib import font_manager, rcParams

    chinese = _installed_chinese_font(font_manager)
    if chinese is None:
        for path in _fontconfig_chinese_files():  # installed after Matplotlib's font cache
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):  # a file FreeType cannot read: not this one
                continue
        chinese = _installed_chinese_font(font_manager)
    if chinese is None:
        return None
    first = font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"]))
    rcParams["font.family"] = [font_manager.get_font(first).family_name, chinese]
    return chinese


def fonts_for_the_learner() -> str | None:
    """:func:`add_fallback_fonts` when the learner's language is not English
    (:func:`course_utils.language.learner_language`); else nothing, and None."""
    from course_utils.language import SOURCE, learner_language

    return None if learner_language() == SOURCE else add_fallback_fonts()


def _installed_chinese_font(font_manager) -> str | None:
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _fontconfig_chinese_files() -> list[str]:
    """The font files fontconfig knows with Chinese (``fc-list :lang=zh``); none where
    there is no fontconfig."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listed = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.strip().rstrip(":") for line in listed.splitlines() if line.strip()})
