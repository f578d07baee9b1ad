"""A model file the learner saved: its name, whether it exists, and the model in it,
loaded with ``safe_mode=True`` so that a file that would run code (a Lambda layer) is
refused, never run. :data:`LOADS_SAFELY` is the rule a check of such a file ends with;
:func:`saved_file_rules` checks the file a learner names after ``model.save``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from course_utils.language import translate
from graders.cell_errors import error_line
from graders.rules import Rule, Rules

LOAD_ERROR_CHARS = 200  # of the error a file that does not load raised, in the message


def load_failure(path: Path, error: Exception) -> tuple[str, str]:
    """The message and hint for the file at ``path`` that Keras would not load, raising
    ``error``."""
    text = str(error)
    if "safe_mode" in text or "Lambda" in text:
        return (
            translate(
                "{path} was refused by keras.saving.load_model(..., safe_mode=True): it holds "
                "a Lambda layer, whose Python code would run when the file is loaded",
                path=path,
            ),
            translate(
                "Replace the Lambda layer with Keras layers (or a registered custom layer): "
                "a file that runs code cannot be loaded safely by anyone you send it to."
            ),
        )
    return (
        translate(
            "{path} could not be loaded: {error}",
            path=path,
            error=error_line(error, LOAD_ERROR_CHARS),
        ),
        translate("Save the whole model with model.save('name.keras'), not only its weights."),
    )


@dataclass(frozen=True)
class SavedModelFile:
    """The file the learner named by ``given`` (a str or os.PathLike, when ``named``),
    and the model in it, loaded once, with ``safe_mode=True``, when first asked for."""

    given: object

    @property
    def named(self) -> bool:
        return isinstance(self.given, str | os.PathLike)

    @property
    def path(self) -> Path:
        return Path(self.given)  # type: ignore[arg-type]

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    @cached_property
    def _loaded(self) -> tuple[Any, Exception | None]:
        import keras

        try:
            return keras.saving.load_model(self.path, safe_mode=True), None
        except Exception as error:  # noqa: BLE001 - whatever Keras raises, it is the message
            return None, error

    @property
    def model(self) -> Any:
        """The keras.Model in the file (None when it did not load)."""
        return self._loaded[0]

    @property
    def load_error(self) -> Exception | None:
        """What loading the file raised, or None."""
        return self._loaded[1]


LOADS_SAFELY: Rule[SavedModelFile] = Rule(
    lambda file: file.load_error is not None,
    lambda file: load_failure(file.path, file.load_error)[0],
    lambda file: load_failure(file.path, file.load_error)[1],
)
"""A file that Keras would not load with ``safe_mode=True`` is named, with the reason."""


def saved_file_rules(variable: str, asked: str, item: str) -> Rules[SavedModelFile]:
    """The check of the file that the learner's ``variable`` names after ``model.save``: a
    file name, in Keras's format (not weights only), present, loading with
    ``safe_mode=True``; its value is the loaded file. ``asked``: the file name the exercise
    asks for; ``item``: the report item's name, which the items built on it point to."""
    return Rules(
        rules=(
            Rule(
                lambda file: not file.named,
                lambda file: translate(
                    "expected {variable} to be a file name, found {found}",
                    variable=variable,
                    found=type(file.given).__name__,
                ),
                f"{variable} = 'name.keras'",
            ),
            Rule(
                lambda file: file.path.name.endswith(".weights.h5"),
                lambda file: translate(
                    "{path} holds weights only (save_weights): no architecture to load it into",
                    path=file.path,
                ),
                translate(
                    "Save the whole model: model.save({asked!r}). Weights alone load only into "
                    "a model you rebuild first.",
                    asked=asked,
                ),
            ),
            Rule(
                lambda file: file.path.suffix != ".keras",
                lambda file: translate(
                    "expected a file in Keras's format (a name ending in .keras), found {name!r}",
                    name=file.path.name,
                ),
                translate(
                    "model.save({asked!r}). The .h5 format is Keras 2's legacy one, and Keras 3 "
                    "saves nothing else under other names.",
                    asked=asked,
                ),
            ),
            Rule(
                lambda file: not file.exists,
                lambda file: translate("{path} does not exist", path=file.path),
                translate("Run model.save({variable}) before this check.", variable=variable),
            ),
            LOADS_SAFELY,
        ),
        passed=lambda file: translate(
            "{path} loads with keras.saving.load_model, safely", path=file.path
        ),
        withheld=translate(
            "not checked: the grader could not load the saved file (see {item!r})", item=item
        ),
    )
