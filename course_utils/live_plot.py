"""A live training plot: a Keras callback that redraws the loss and accuracy curves under
the cell that trains, after every epoch, in place.

In JupyterLab the plot is an ipywidgets box (a status line and a PNG image) that updates
as each epoch ends. Headless (nbval, the batch grader) the same widget is written once
and updated, so nothing waits for a front end; outside IPython (a script) the callback
only records the epochs.
"""

from __future__ import annotations

import html
import io
import time
from collections.abc import Mapping

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_utils.language import translate
from course_utils.plots import draw_history, history_panels

WIDGET_CLASS = "course-live-plot"  # CSS class of the widget box (the browser test finds it)


def _in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel, where widgets can be displayed."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _format_logs(logs: Mapping[str, float]) -> str:
    return " · ".join(f"{key} {value:.4f}" for key, value in logs.items())


class LiveTrainingPlot(keras.callbacks.Callback):
    """Redraw the training curves after each epoch, under the training cell.

    Use: ``model.fit(..., callbacks=[LiveTrainingPlot()])``.

    Panels: the loss, and the accuracy when the model reports one (``"accuracy"`` or
    ``"acc"``); training curves solid, validation curves dashed when ``fit`` has
    validation data. A status line above reads the epoch and its numbers. The image is
    redrawn at most every ``min_interval`` seconds (and always after the last epoch), so
    a fit with many quick epochs is not slowed down by drawing. ``width``: the figure's
    width in inches with both panels (half of it with the loss panel alone).

    Attributes after training: ``history``, a dict of per-epoch float lists like
    ``History.history``; ``epoch_seconds``, the wall time of each epoch (the first
    includes tracing the model); ``widget``, the ipywidgets box (None outside a kernel);
    ``draws``, how many times the image was drawn.
    """

    def __init__(self, *, min_interval: float = 0.5, width: float = 9.0) -> None:
        super().__init__()
        if min_interval < 0:
            raise ValueError(f"min_interval must be >= 0 seconds, found {min_interval}")
        self.min_interval = min_interval
        self.width = width
        self.history: dict[str, list[float]] = {}
        self.epoch_seconds: list[float] = []
        self.widget = None
        self.draws = 0
        self._status = None
        self._image = None
        self._last_draw: float | None = None  # time.monotonic() of the last draw; None: never
        self._drawn_epochs = 0
        self._epochs = 0
        self._epoch_start = 0.0

    # Keras hooks -------------------------------------------------------------------------
    def on_train_begin(self, logs: Mapping[str, float] | None = None) -> None:
        self.history = {}
        self.epoch_seconds = []
        self.draws = 0
        self._last_draw = None
        self._drawn_epochs = 0
        self._epochs = int((self.params or {}).get("epochs") or 0)
        if _in_kernel():
            self._show_widget()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        self._epoch_start = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        self.epoch_seconds.append(time.monotonic() - self._epoch_start)
        logs = {key: float(np.asarray(value)) for key, value in (logs or {}).items()}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.widget is None:
            return
        self._status.value = self._status_html(epoch + 1, logs)
        last = epoch + 1 >= self._epochs
        # time.monotonic() counts from an arbitrary start (the boot on Linux), so "never
        # drawn" is None, not 0.0: a machine up for less than min_interval draws too.
        never_drawn = self._last_draw is None
        if last or never_drawn or time.monotonic() - self._last_draw >= self.min_interval:
            self._draw()

    def on_train_end(self, logs: Mapping[str, float] | None = None) -> None:
        # Early stopping, or epochs skipped by the interval: the final curves still show.
        epochs = len(self.history.get("loss", ()))
        if self.widget is not None and epochs and self._drawn_epochs != epochs:
            self._draw()

    # Drawing -----------------------------------------------------------------------------
    def _show_widget(self) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        waiting = html.escape(translate("training: waiting for the first epoch…"))
        self._status = widgets.HTML(value=f"<i>{waiting}</i>")
        self._image = widgets.Image(format="png", layout={"max_width": "100%"})
        self.widget = widgets.VBox([self._status, self._image])
        self.widget.add_class(WIDGET_CLASS)
        display(self.widget)

    def _status_html(self, epoch: int, logs: Mapping[str, float]) -> str:
        if self._epochs:
            heading = translate("epoch {epoch} of {epochs}", epoch=epoch, epochs=self._epochs)
        else:
            heading = translate("epoch {epoch}", epoch=epoch)
        seconds = f" · {self.epoch_seconds[-1]:.1f} s" if self.epoch_seconds else ""
        return f"<b>{html.escape(heading)}</b>{seconds} · {html.escape(_format_logs(logs))}"

    def _draw(self) -> None:
        self._image.value = self.render_png()
        self._drawn_epochs = len(self.history.get("loss", ()))
        self._last_draw = time.monotonic()
        self.draws += 1

    def render_png(self) -> bytes:
        """The current curves as PNG bytes (drawn without pyplot, so no figure is left
        open for the notebook to show twice)."""
        if not self.history.get("loss"):
            raise ValueError("LiveTrainingPlot: no epoch has ended yet, so there is no curve.")
        panels = len(history_panels(self.history))
        figure = Figure(figsize=(self.width * panels / 2, 3.2), dpi=80)
        FigureCanvasAgg(figure)
        draw_history(figure, self.history, epochs=self._epochs)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
