"""Files a notebook writes, graded in batch: the export copies the file a string names
(lesson 09's ``model_path``) and each checkpoint's file of a list of callbacks, and the
grader puts the copies back at the learner's paths in the checks' working folder, never
outside it, and rebuilds the callbacks from their settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import pytest

from graders.batch.export import EXPORT_HELPER, TEXT_LIMIT
from graders.batch.grade import Unavailable, load_artifact


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
    "learner_path", ["../outside.keras", "/tmp/keras-course-absolute.keras", "a/../../b.keras"]
)
def test_a_path_that_leaves_the_folder_is_never_placed(folders, learner_path):
    """Is the copy of a file whose learner's path is absolute or climbs out of the folder
    (forged in the manifest) left unplaced, so that nothing outside the checks' folder is
    written?"""
    kernel, checks = folders
    (kernel / "model.keras").write_bytes(b"model")
    folder, manifest = _export(kernel, ["model_path"], {"model_path": "model.keras"})
    entry = {**manifest["model_path"], "value": learner_path}
    assert _load_in(checks, folder, "model_path", entry) == learner_path
    assert list(checks.iterdir()) == []
    assert not (checks.parent / "outside.keras").exists()
    assert not Path("/tmp/keras-course-absolute.keras").exists()


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
    an overlong text or a callbacks file that is no list refused, saying why?"""
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
        data_file.write_text(json.dumps(change_data(json.loads(data_file.read_text()))))
    with pytest.raises(Unavailable) as refused:
        _load_in(checks, folder, name, entry)
    assert str(refused.value) == message
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
