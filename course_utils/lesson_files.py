"""Where the lessons write their files."""

from __future__ import annotations

SAVED_FOLDER = "saved"
"""The folder, next to each notebook, where lessons write their files (checkpoints, logs,
saved models), so that the file browser keeps the lessons apart from what they made. A
lesson's setup cell makes it: Keras's writers do not make folders."""
