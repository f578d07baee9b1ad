"""Tests of the learner's language: which one a kernel speaks, and messages in it."""

from __future__ import annotations

import pytest

from course_utils.lab import lab_arguments
from course_utils.language import (
    LANGUAGE_ENV_VAR,
    SESSION_ENV_VAR,
    learner_language,
    module_translations,
    translate,
    translations,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("chosen", "session", "expected"),
    [
        (None, None, "en"),
        ("zh", None, "zh"),
        (None, "zh/03_pooling.ipynb", "zh"),  # a Chinese lesson's kernel, in any lab
        (None, "03_pooling.ipynb", "en"),
        (None, "solutions/03_pooling.ipynb", "en"),
        ("en", "zh/03_pooling.ipynb", "en"),  # the explicit choice wins
        ("klingon", "zh/03_pooling.ipynb", "en"),  # not a language of the course
    ],
)
def test_the_learners_language_comes_from_the_choice_else_the_notebooks_folder(
    monkeypatch, chosen, session, expected
):
    for name, value in ((LANGUAGE_ENV_VAR, chosen), (SESSION_ENV_VAR, session)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert learner_language() == expected


def test_a_message_is_english_with_its_fields_or_chinese_from_its_catalog(monkeypatch):
    """English is the message as written, fields filled in; in Chinese the catalog's
    translation, with the same fields; a message without a translation stays English."""
    monkeypatch.delenv(SESSION_ENV_VAR, raising=False)
    monkeypatch.setenv(LANGUAGE_ENV_VAR, "en")
    template = "{what} is still None: {todo}"
    assert translate(template, what="model", todo="run it") == "model is still None: run it"
    assert translate("not attempted") == "not attempted"
    monkeypatch.setenv(LANGUAGE_ENV_VAR, "zh")
    assert translate("not attempted") == "未作答"
    assert translate(template, what="model", todo="运行它") == "model 仍然是 None：运行它"
    assert translate("a message nobody wrote {x}", x=1) == "a message nobody wrote 1"


def test_a_translation_that_lost_a_field_gives_the_english(monkeypatch):
    monkeypatch.setenv(LANGUAGE_ENV_VAR, "zh")
    monkeypatch.setitem(translations("zh"), "found {count} layers", "找到了 {number} 层")
    assert translate("found {count} layers", count=3) == "found 3 layers"


def test_the_lab_in_chinese_opens_the_first_chinese_lesson():
    english = dict(a.split("=", 1) for a in lab_arguments([]) if "=" in a)
    chinese = dict(a.split("=", 1) for a in lab_arguments([], "zh") if "=" in a)
    assert english["--LabApp.default_url"] == "/lab/tree/00_tensors_and_shapes.ipynb"
    assert chinese["--LabApp.default_url"] == "/lab/tree/zh/00_tensors_and_shapes.ipynb"
    assert chinese["--ServerApp.root_dir"] == english["--ServerApp.root_dir"]


def test_lab_lang_sets_the_kernels_language_and_passes_the_rest_to_jupyterlab(monkeypatch):
    """``./course lab --lang zh --no-browser``: JupyterLab gets --no-browser and the Chinese
    first lesson, and the server's environment, which its kernels inherit, says zh; an
    unknown language is refused before anything starts."""
    from jupyterlab.labapp import LabApp

    from course_utils import lab

    started = []
    monkeypatch.setattr(LabApp, "launch_instance", lambda argv: started.append(argv))
    environment = {k: v for k, v in lab.os.environ.items() if k != LANGUAGE_ENV_VAR}
    monkeypatch.setattr(lab.os, "environ", environment)  # what main sets stays here
    lab.main(["--lang", "zh", "--no-browser"])
    assert "--no-browser" in started[0]
    assert "--LabApp.default_url=/lab/tree/zh/00_tensors_and_shapes.ipynb" in started[0]
    assert environment[LANGUAGE_ENV_VAR] == "zh"
    with pytest.raises(SystemExit):
        lab.main(["--lang", "klingon"])
    assert len(started) == 1


def test_the_same_english_reads_as_its_own_modules_catalog_says(monkeypatch):
    """A report's "Check" column and a quiz's "Check" button are the same English with
    different translations, each module's own."""
    from graders.report import CheckResult, Report

    monkeypatch.setenv(LANGUAGE_ENV_VAR, "zh")
    column = module_translations("zh")["graders.report"]["Check"]
    button = module_translations("zh")["course_utils.quizzes"]["Check"]
    assert column != button
    shown = Report("练习", [CheckResult.passed("layers", 1, "好")])._repr_html_()
    assert f"<th>{column}</th>" in shown


def test_lab_without_lang_leaves_each_kernel_its_notebooks_language(monkeypatch):
    from jupyterlab.labapp import LabApp

    from course_utils import lab

    monkeypatch.setattr(LabApp, "launch_instance", lambda argv: None)
    environment = {k: v for k, v in lab.os.environ.items() if k != LANGUAGE_ENV_VAR}
    monkeypatch.setattr(lab.os, "environ", environment)
    lab.main(["--no-browser"])
    assert LANGUAGE_ENV_VAR not in environment
