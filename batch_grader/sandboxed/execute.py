"""Run one prepared notebook in a fresh kernel:
``python -m batch_grader.sandboxed.execute SECONDS``.

Runs in the submission's own working folder (the sandbox's), reads ``prepared.ipynb``
from the grader's input folder and writes ``executed.ipynb``, ``run.json`` (the cells
that raised, ran past the cell timeout or were cut short, and whether the kernel died)
and the exported ``artifacts/``; in a bubblewrap sandbox it ends every other process of
the sandbox before writing its records, and the sandbox's holder sends them to the grader
(:mod:`batch_grader.sandboxed.holder`). A cell that raises or runs past the cell timeout does not
stop the run (it is interrupted, holds an error saying so, and the next cell runs), so one
broken exercise costs only its own points. Each cell's output is capped in size.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from batch_grader.sandboxed import channel
from graders.cell_errors import stopped_after

MAX_OUTPUT_BYTES = 200_000  # per cell
MAX_ERROR_CHARS = 20_000  # of one error's message and traceback together


class BoundedClient(NotebookClient):
    """A client that keeps at most MAX_OUTPUT_BYTES of output per cell, then a notice.

    Every kind of output is bounded: streams and displays count towards the cell's budget,
    an error keeps MAX_ERROR_CHARS of its message and traceback, and an update of a display
    (which replaces an output in place, not through :meth:`output`) larger than the budget
    is replaced by a notice."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.output_bytes: dict[int, int] = {}
        self.truncated: set[int] = set()
        self.timed_out: set[int] = set()

    async def _async_handle_timeout(self, timeout, cell=None):
        """Remember which cell ran past the timeout: the kernel's KeyboardInterrupt may
        come too late to be recorded under it (see :func:`mark_timeouts`)."""
        index = next((i for i, c in enumerate(self.nb.cells) if c is cell), None)
        if index is not None:
            self.timed_out.add(index)
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        if msg.get("msg_type") == "error":  # always kept, shortened: the grader reports it
            return super().output(outs, _shortened_error(msg), display_id, cell_index)
        if cell_index in self.truncated:
            return None
        used = self.output_bytes.get(cell_index, 0) + len(json.dumps(msg.get("content", {})))
        self.output_bytes[cell_index] = used
        if used <= MAX_OUTPUT_BYTES:
            return super().output(outs, msg, display_id, cell_index)
        self.truncated.add(cell_index)
        text = msg.get("content", {}).get("text")
        if isinstance(text, str):  # keep the start of the stream that overflowed
            keep = max(0, len(text) - (used - MAX_OUTPUT_BYTES))
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=text[:keep]))
        outs.append(
            nbformat.v4.new_output(
                "stream",
                name="stderr",
                text=f"\n[grader: output cut after {MAX_OUTPUT_BYTES:,} bytes]\n",
            )
        )
        return None

    def _update_display_id(self, display_id, msg):
        size = len(json.dumps(msg.get("content", {})))
        if size > MAX_OUTPUT_BYTES:
            notice = f"[grader: a display update of {size:,} bytes was cut]"
            content = {**msg["content"], "data": {"text/plain": notice}, "metadata": {}}
            msg = {**msg, "content": content}
            self.truncated.update(self._display_id_map.get(display_id, {}))
        return super()._update_display_id(display_id, msg)


def _shortened_error(msg: dict) -> dict:
    """``msg`` (an error) with at most MAX_ERROR_CHARS of message and traceback."""
    content = dict(msg.get("content", {}))
    budget = MAX_ERROR_CHARS
    content["evalue"] = str(content.get("evalue", ""))[:budget]
    budget -= len(content["evalue"])
    lines = []
    for line in content.get("traceback", []) or []:
        line = str(line)
        if len(line) > budget:
            lines.append("[grader: traceback cut]")
            break
        lines.append(line)
        budget -= len(line)
    content["traceback"] = lines
    return {**msg, "content": content}


CELL_TIMEOUT = "CellTimeout"
"""The error a cell stopped at the cell timeout holds when the kernel's came too late."""


def mark_timeouts(notebook: nbformat.NotebookNode, timed_out: set[int], cell_timeout: int) -> None:
    """Say under each cell of ``notebook`` at the indices ``timed_out`` that the grader
    stopped it at the cell timeout: beside the kernel's KeyboardInterrupt, or as the
    cell's error when the kernel's came too late to be recorded."""
    stopped = f"the cell {stopped_after(cell_timeout)}"
    for index in sorted(timed_out):
        outputs = notebook.cells[index].setdefault("outputs", [])
        if any(output.get("output_type") == "error" for output in outputs):
            note = f"[grader: {stopped} (--cell-timeout)]\n"
            outputs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        else:
            outputs.append(
                nbformat.v4.new_output("error", ename=CELL_TIMEOUT, evalue=stopped, traceback=[])
            )


RETURNED = {"executed.ipynb": 64 * 2**20, "run.json": 2**20, "artifacts": 512 * 2**20}
"""What a run hands back to the grader, relative to its working folder, and the most
bytes each file may have (each file under ``artifacts/``: the grader's own limit on an
exported object, :data:`batch_grader.sandboxed.grade.MAX_ARTIFACT_BYTES`)."""


def run(
    notebook_path: Path,
    folder: Path,
    cell_timeout: int,
    kernel_manager=None,
    before_writing=lambda: None,
) -> dict:
    """Execute the notebook at ``notebook_path`` in ``folder``; return the run record
    (also saved as ``folder/run.json``, beside ``executed.ipynb``). ``before_writing()``
    runs between the execution and the writing (in a sandbox: end every process the
    notebook left, so that none can rewrite the record).

    ``kernel_manager``: a jupyter_client kernel manager whose kernel is not started yet
    (a warm kernel, see :mod:`batch_grader.trusted.warm_kernels`); by default a fresh ``python3``
    kernel is started as this process's child.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    client = BoundedClient(
        notebook,
        timeout=cell_timeout,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": CELL_TIMEOUT,
            "evalue": f"the cell {stopped_after(cell_timeout)}",
            "traceback": [],
        },
        allow_errors=True,
        store_widget_state=False,  # widget updates are not kept: no memory for a flood
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        km=kernel_manager,
    )
    client.owns_km = True  # shut the kernel down at the end, whoever made its manager
    record = {"kernel_died": False, "errors": [], "seconds": 0.0}
    start = time.perf_counter()
    try:
        client.execute()
    except DeadKernelError as error:
        record["kernel_died"] = True
        record["kernel_error"] = str(error)[:500]
    record["seconds"] = round(time.perf_counter() - start, 2)
    before_writing()
    mark_timeouts(notebook, client.timed_out, cell_timeout)
    for index, cell in enumerate(notebook.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                record["errors"].append(
                    {
                        "cell": index,
                        "ename": out.get("ename"),
                        "evalue": str(out.get("evalue"))[:500],
                    }
                )
    record["truncated"] = sorted(client.truncated)
    record["timed_out"] = sorted(client.timed_out)
    nbformat.write(notebook, folder / "executed.ipynb")
    (folder / "run.json").write_text(json.dumps(record))
    return record


def main(argv: list[str] | None = None) -> int:
    """``SECONDS``: run the input notebook. In a job forked warm into its sandbox, the
    kernel is forked from this process too, before anything else starts."""
    args = argv if argv is not None else sys.argv[1:]
    folder = Path.cwd()
    manager = None
    if os.environ.get(channel.WARM_ENV_VAR) == "1":
        from batch_grader.sandboxed.forked_kernels import PreForkedKernel, forked_kernel_manager

        manager = forked_kernel_manager(PreForkedKernel(), folder, dict(os.environ))
    run(
        channel.input_folder() / "prepared.ipynb",
        folder,
        int(args[0]),
        kernel_manager=manager,
        before_writing=channel.end_the_rest,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
