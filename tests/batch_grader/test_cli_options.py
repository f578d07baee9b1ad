"""The batch grader's command-line options that need no submission to check."""

from __future__ import annotations

import pytest

from batch_grader.cli import main
from batch_grader.request import DEFAULT_TIMEOUTS, LESSONS, lesson_timeouts

pytestmark = pytest.mark.unit


def test_lesson_07_gets_time_for_training_resnet50():
    """Does a lesson-07 batch, without timeout options, allow a cell the 6-20 minutes that
    6 epochs of ResNet50 take on 2 shared cores, while the other lessons keep 600 s?"""
    cell, submission = lesson_timeouts("07", None, None)
    assert cell >= 1800 and submission > cell
    for lesson in set(LESSONS) - {"07"}:
        assert lesson_timeouts(lesson, None, None) == DEFAULT_TIMEOUTS == (600, 1800)


def test_timeouts_given_on_the_command_line_win():
    """Do --cell-timeout and --timeout override the lesson's defaults, each on its own?"""
    assert lesson_timeouts("07", 300, None) == (300, 3600)
    assert lesson_timeouts("01", None, 99.5) == (600, 99.5)


@pytest.mark.parametrize("option", [["--cell-timeout", "0"], ["--timeout", "-5"]])
def test_a_timeout_that_is_not_positive_is_refused(tmp_path, capsys, option):
    """Is a zero or negative timeout refused before anything runs, with the value found?"""
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    with pytest.raises(SystemExit) as stopped:
        main(["--lesson", "07", str(notebook), "--out", str(tmp_path / "out"), *option])
    assert stopped.value.code == 2
    assert "timeouts must be positive" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_lesson_without_checks_is_refused_with_the_lessons_there_are(tmp_path, capsys):
    """Is ``--lesson 11``, which has no checks module, refused before anything runs, with
    the list of graded lessons?"""
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    with pytest.raises(SystemExit) as stopped:
        main(["--lesson", "11", str(notebook), "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert f"no graded lesson '11'; lessons: {', '.join(LESSONS)}" in error, error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--gpu-wait", "-1"], "--gpu-wait must be 0 or more seconds, found -1"),
        (["--gpu-wait", "nan"], "--gpu-wait must be 0 or more seconds, found nan"),
        (["--cluster", "remote"], "--cluster: expected local or local:WORKERS (1 or more), "),
        (["--cluster", "local:0"], "found 'local:0'"),
        (["--gpu-lessons", "07,x"], "--gpu-lessons: expected lesson numbers such as 07,08"),
    ],
)
def test_a_bad_cluster_option_is_refused_with_what_was_found(tmp_path, capsys, option, message):
    """Are a negative or NaN --gpu-wait, a --cluster other than local[:N] and a
    --gpu-lessons that is not a list of numbers refused before anything runs?"""
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    with pytest.raises(SystemExit) as stopped:
        main(["--lesson", "07", str(notebook), "--out", str(tmp_path / "out"), *option])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _tls_files(folder, key_mode=0o600) -> list[str]:
    """Three files where the grader's TLS options want them (their contents are Dask's
    business: the options are checked before anything connects)."""
    options = []
    for option in ("ca-file", "cert", "key"):
        path = folder / f"{option}.pem"
        path.write_text("-----BEGIN CERTIFICATE-----\n")
        options += [f"--tls-{option}", str(path)]
    (folder / "key.pem").chmod(key_mode)
    return options


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            lambda folder: ["--scheduler", "tcp://127.0.0.1:8786", *_tls_files(folder)],
            "--scheduler tcp://127.0.0.1:8786: expected a tls:// address. Whoever reaches a "
            "scheduler over plain TCP can run code on its workers",
        ),
        (
            lambda folder: ["--scheduler", "tls://127.0.0.1:8786", *_tls_files(folder)[:4]],
            "--scheduler tls://127.0.0.1:8786 needs --tls-key too",
        ),
        (
            lambda folder: ["--scheduler", "tls://127.0.0.1:8786", *_tls_files(folder, 0o644)],
            "key.pem: other users can read it (mode 0644), and with it run code on the "
            "cluster: chmod 600",
        ),
        (
            lambda folder: [
                "--scheduler",
                "tls://127.0.0.1:8786",
                *_tls_files(folder)[:-1],
                str(folder / "nowhere.pem"),
            ],
            "nowhere.pem: no such file",
        ),
        (
            lambda folder: ["--cluster", "local", *_tls_files(folder)[:2]],
            "--tls-ca-file go with --scheduler tls://HOST:PORT",
        ),
    ],
    ids=["plain tcp", "a file missing", "a key others read", "no such key", "not a scheduler"],
)
def test_a_scheduler_is_reached_over_tls_only(tmp_path, capsys, where, message):
    """Is a scheduler refused, before anything connects, unless it is a tls:// address
    given with the three files, the key readable by its owner alone?"""
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    options = where(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(["--lesson", "00", str(notebook), "--out", str(tmp_path / "out"), *options])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert message in error, error
    assert not (tmp_path / "out").exists()
