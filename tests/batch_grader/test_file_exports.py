"""Files a notebook writes, graded in batch: the export copies the file a string names
(lesson 09's ``model_path``) and each checkpoint's file of a list of callbacks, and the
grader puts the copies back at the learner's paths in the checks' working folder, never
outside it, and rebuilds the callbacks from their settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from batch_grader.sandboxed.channel import INPUT_ENV_VAR
from batch_grader.sandboxed.evaluate import NOTEBOOK_FOLDER
from batch_grader.sandboxed.export import EXPORT_HELPER, TEXT_LIMIT
from batch_grader.sandboxed.grade import Unavailable, load_artifact

pytestmark = pytest.mark.model


def _no_functions(name):
    raise AssertionError(f"no function is exported here, asked for {name}")


def _export(work: Path, names: list[str], values: dict) -> tuple[Path, dict]:
    """Run the export helper in ``work`` on ``values`` as a kernel would; the artifact
    folder and its manifest."""
    namespace = dict(values)
    previous = Path.cwd()
    os.chdir(work)
    try:
        exec(EXPORT_HELPER, namespace)  # noqa: S102 - the helper the kernels run
        namespace["__course_export__"]("ex1-check", names)
    finally:
        os.chdir(previous)
    folder = work / "artifacts" / "ex1-check"
    return folder, json.loads((folder / "manifest.json").read_text())


def _load_in(checks: Path, folder: Path, name: str, entry: dict):
    """``load_artifact`` as the checks' process runs it, with ``checks`` as its folder."""
    previous = Path.cwd()
    os.chdir(checks)
    try:
        return load_artifact(folder, name, entry, _no_functions)
    finally:
        os.chdir(previous)


@pytest.fixture
def folders(tmp_path):
    kernel, checks = tmp_path / "kernel", tmp_path / "checks"
    kernel.mkdir()
    checks.mkdir()
    return kernel, checks


def test_callbacks_and_a_saved_file_come_back_where_the_notebook_wrote_them(folders):
    """Are an EarlyStopping and a ModelCheckpoint rebuilt with their settings, the
    checkpoint's file and the file a string names put back at the learner's relative
    paths with the same bytes, and any other callback given back as its type's name?"""
    kernel, checks = folders
    (kernel / "checkpoints").mkdir()
    (kernel / "checkpoints" / "best.keras").write_bytes(b"the best epoch")
    (kernel / "model.keras").write_bytes(b"the whole model")
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
        keras.callbacks.ModelCheckpoint("checkpoints/best.keras", save_best_only=True),
        keras.callbacks.CSVLogger("log.csv"),
    ]
    values = {"callbacks": callbacks, "model_path": "model.keras"}
    folder, manifest = _export(kernel, ["callbacks", "model_path"], values)
    assert manifest["model_path"] == {
        "type": "str",
        "kind": "text",
        "value": "model.keras",
        "file": "model_path.file",
    }
    stopping, checkpoint, logger = _load_in(checks, folder, "callbacks", manifest["callbacks"])
    assert isinstance(stopping, keras.callbacks.EarlyStopping)
    assert (stopping.monitor, stopping.patience, stopping.restore_best_weights) == (
        "val_loss",
        2,
        True,
    )
    assert isinstance(checkpoint, keras.callbacks.ModelCheckpoint)
    assert (checkpoint.filepath, checkpoint.save_best_only) == ("checkpoints/best.keras", True)
    assert type(logger).__name__ == "CSVLogger"
    assert (checks / "checkpoints" / "best.keras").read_bytes() == b"the best epoch"
    assert _load_in(checks, folder, "model_path", manifest["model_path"]) == "model.keras"
    assert (checks / "model.keras").read_bytes() == b"the whole model"


def test_a_string_that_names_no_file_is_kept_as_text(folders):
    kernel, checks = folders
    folder, manifest = _export(kernel, ["model_path"], {"model_path": "never_saved.keras"})
    assert "file" not in manifest["model_path"]
    assert _load_in(checks, folder, "model_path", manifest["model_path"]) == "never_saved.keras"
    assert list(checks.iterdir()) == []


@pytest.mark.parametrize(
    "learner_path", ["../outside.keras", "a/../../outside.keras", "ABSOLUTE", ".keras/keras.json"]
)
def test_a_path_outside_the_folder_or_hidden_is_refused_and_never_placed(folders, learner_path):
    """Is the copy of a file whose learner's path (forged in the manifest) climbs out of
    the folder, is absolute or hidden (Keras's own settings) refused with the reason, and
    nothing written anywhere?"""
    kernel, checks = folders
    absolute = checks.parent / "absolute.keras"
    learner_path = str(absolute) if learner_path == "ABSOLUTE" else learner_path
    (kernel / "model.keras").write_bytes(b"model")
    folder, manifest = _export(kernel, ["model_path"], {"model_path": "model.keras"})
    entry = {**manifest["model_path"], "value": learner_path}
    with pytest.raises(Unavailable) as refused:
        _load_in(checks, folder, "model_path", entry)
    assert str(refused.value) == (
        f"model_path names the file {learner_path!r}, outside the notebook's folder (or "
        "hidden): the batch grader takes only the files a notebook saves in its own folder"
    )
    assert list(checks.iterdir()) == []
    assert not (checks.parent / "outside.keras").exists() and not absolute.exists()


def test_paths_inside_the_folder_are_normalized_and_absolute_ones_made_relative(folders):
    """Do "./model.keras", a path through a subfolder and back, and an absolute path under
    the notebook's folder (a Path object) all come back as the relative path they mean,
    with the file placed there?"""
    kernel, checks = folders
    (kernel / "model.keras").write_bytes(b"model")
    values = {"dotted": "./model.keras", "round_trip": "sub/../model.keras"}
    values["absolute"] = kernel / "model.keras"
    folder, manifest = _export(kernel, list(values), values)
    assert manifest["absolute"]["value"] == "model.keras"
    for name in values:
        given = _load_in(checks, folder, name, manifest[name])
        assert (checks / given).resolve() == (checks / "model.keras").resolve(), name
    assert (checks / "model.keras").read_bytes() == b"model"


FORGED = {
    "a checkpoint's copy named elsewhere": (
        "callbacks",
        lambda entry, folder: None,
        lambda data: [data[0] | {"file": "../../secret"}, *data[1:]],
        "the export of callbacks is malformed: expected its file 'callbacks-0.file', found "
        "'../../secret'",
    ),
    "a copy that is a link": (
        "model_path",
        lambda entry, folder: (
            (folder / "model_path.file").unlink(),
            (folder / "model_path.file").symlink_to("/etc/hostname"),
        ),
        None,
        "the export of model_path is malformed: model_path.file is not a plain file",
    ),
    "a text too long": (
        "model_path",
        lambda entry, folder: entry.update(value="x" * (TEXT_LIMIT + 1)),
        None,
        f"the export of model_path is malformed: no text of {TEXT_LIMIT} characters",
    ),
    "callbacks nested without end": (
        "callbacks",
        lambda entry, folder: None,
        lambda data: "[" * 100_000 + "]" * 100_000,
        "the export of callbacks is not valid JSON",
    ),
    "callbacks that are not a list": (
        "callbacks",
        lambda entry, folder: None,
        lambda data: {"type": "EarlyStopping"},
        "the export of callbacks is malformed: expected a list of callbacks",
    ),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_file_export_is_refused_with_the_reason(folders, case):
    """Is a checkpoint's copy renamed to reach another file, a copy replaced by a link,
    an overlong text, callbacks nested beyond Python's recursion limit or a callbacks file
    that is no list refused, saying why?"""
    name, change_entry, change_data, message = FORGED[case]
    kernel, checks = folders
    (kernel / "model.keras").write_bytes(b"model")
    (kernel / "best.keras").write_bytes(b"best")
    callbacks = [
        keras.callbacks.ModelCheckpoint("best.keras"),
        keras.callbacks.EarlyStopping(),
    ]
    values = {"callbacks": callbacks, "model_path": "model.keras"}
    folder, manifest = _export(kernel, ["callbacks", "model_path"], values)
    entry = dict(manifest[name])
    change_entry(entry, folder)
    if change_data is not None:
        data_file = folder / entry["file"]
        changed = change_data(json.loads(data_file.read_text()))
        data_file.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(Unavailable) as refused:
        _load_in(checks, folder, name, entry)
    assert str(refused.value).startswith(message), str(refused.value)
    assert list(checks.iterdir()) == []


def test_settings_keras_refuses_give_a_callback_of_that_name_only(folders):
    """Is a forged ModelCheckpoint whose settings Keras refuses (weights only, to a .keras
    path) given back as an object named ModelCheckpoint, not a callback the check would
    take for a real one?"""
    kernel, checks = folders
    folder, manifest = _export(
        kernel, ["callbacks"], {"callbacks": [keras.callbacks.ModelCheckpoint("best.keras")]}
    )
    data_file = folder / "callbacks.json"
    data = json.loads(data_file.read_text())
    data[0]["save_weights_only"] = True
    data_file.write_text(json.dumps(data))
    (rebuilt,) = _load_in(checks, folder, "callbacks", manifest["callbacks"])
    assert type(rebuilt).__name__ == "ModelCheckpoint"
    assert not isinstance(rebuilt, keras.callbacks.ModelCheckpoint)


def test_a_file_named_like_the_checks_reports_cannot_replace_them(tmp_path):
    """Does a saved "model" called reports.json, holding a forged report of full marks,
    land in the checks' notebook folder, while the checks write their real reports (the
    model is missing: 0 points) one folder up, where the grader reads them?"""
    inputs, work = tmp_path / "inputs", tmp_path / "work"
    artifacts = inputs / "artifacts" / "ex2-check"
    artifacts.mkdir(parents=True)
    work.mkdir()
    forged = [{"title": "ex2-check", "results": [{"name": "saved file", "points": 10}]}]
    (artifacts / "model_path.file").write_text(json.dumps(forged))
    manifest = {
        "model": {"kind": "none", "type": "NoneType"},
        "model_path": {
            "kind": "text",
            "type": "str",
            "value": "reports.json",
            "file": "model_path.file",
        },
        "reloaded": {"kind": "none", "type": "NoneType"},
    }
    (artifacts / "manifest.json").write_text(json.dumps(manifest))
    job = {
        "lesson": "09",
        "dataset": "fashion_mnist",
        "graded": [
            {
                "grade_id": "ex2-check",
                "points": 10,
                "check": "check_exercise_2",
                "arguments": ["model", "model_path", "reloaded"],
            }
        ],
        "deleted": [],
        "why_missing": "it did not run",
        "timed_out": [],
        "cell_timeout": 60,
        "heldout_seed": None,
    }
    (inputs / "job.json").write_text(json.dumps(job))
    done = subprocess.run(
        [sys.executable, "-m", "batch_grader.sandboxed.evaluate"],
        cwd=work,
        env={**os.environ, INPUT_ENV_VAR: str(inputs)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (report,) = json.loads((work / "reports.json").read_text())
    assert sum(result["points"] for result in report["results"]) == 0, report
    assert json.loads((work / NOTEBOOK_FOLDER / "reports.json").read_text()) == forged


def test_a_type_name_python_refuses_is_cleaned(folders):
    """Is an object exported as "other" with a type name Python cannot take (a NUL, a
    lone surrogate) given back as an object of a cleaned name, not a crash?"""
    _, checks = folders
    for name, cleaned in (("bad\u0000name", "badname"), ("\ud800", "object")):
        entry = {"kind": "other", "type": name}
        assert type(_load_in(checks, checks, "model", entry)).__name__ == cleaned
