"""The lab's contents manager: a lesson opens unmodified.

When JupyterLab connects a notebook to its kernel it writes the kernel's name and the
language it reports (``kernelspec``, ``language_info``, Python's version included) into the
notebook's metadata, and any difference marks the notebook modified before the learner has
touched it. The committed lessons cannot carry every learner's Python version, so
``./course lab`` serves each notebook that runs on the course's ``python3`` kernel with
that kernel's own metadata already filled in (:func:`course_kernel_metadata`): the lab
finds nothing to change. Files on disk are not rewritten; what the learner saves holds the
metadata the lab would have written anyway.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

from course_utils.lab import JUPYTER_DATA

COURSE_KERNEL = "python3"
"""The name of the course's kernel (:mod:`course_utils.kernel`) in its data folder."""


@functools.cache
def course_kernel_metadata() -> dict[str, dict[str, Any]]:
    """The ``kernelspec`` and ``language_info`` that JupyterLab writes into a notebook's
    metadata once the course's kernel runs it: the name, display name and language of its
    kernel.json, and IPython's kernel's language info for this Python (the kernel runs on
    the server's interpreter). Read once per server; do not change what it returns."""
    from ipykernel.ipkernel import IPythonKernel

    spec_file = JUPYTER_DATA / "kernels" / COURSE_KERNEL / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    return {
        "kernelspec": {
            "name": COURSE_KERNEL,
            "display_name": spec["display_name"],
            "language": spec["language"],
        },
        "language_info": copy.deepcopy(IPythonKernel.language_info),
    }


def with_course_kernel_metadata(notebook: dict) -> dict:
    """``notebook`` (nbformat 4, as a dict) with :func:`course_kernel_metadata` in its
    metadata when it runs on the course's kernel (or names none); other notebooks are left
    as they are. Changes ``notebook`` in place and returns it."""
    metadata = notebook.setdefault("metadata", {})
    kernel = (metadata.get("kernelspec") or {}).get("name", COURSE_KERNEL)
    if kernel == COURSE_KERNEL:
        metadata.update(copy.deepcopy(course_kernel_metadata()))
    return notebook


class CourseContentsManager(AsyncLargeFileManager):
    """Jupyter Server's default contents manager, serving notebooks with the course
    kernel's metadata (:func:`with_course_kernel_metadata`)."""

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        model = await super().get(
            path, content=content, type=type, format=format, require_hash=require_hash
        )
        if model.get("type") == "notebook" and model.get("content") is not None:
            with_course_kernel_metadata(model["content"])
        return model
