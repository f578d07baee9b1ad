"""Tests of the live training plot: a real Keras fit drives the callback."""

from __future__ import annotations

import time
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils import live_plot
from course_utils.live_plot import WIDGET_CLASS, LiveTrainingPlot
from course_utils.plots import draw_history

pytestmark = pytest.mark.model


@pytest.fixture(params=["machine clock", "clock of a machine booted 1 s ago"])
def in_kernel(monkeypatch, request):
    """Pretend to run in a Jupyter kernel; collect what would be displayed."""
    shown = []
    monkeypatch.setattr(live_plot, "_in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    if request.param != "machine clock":
        # time.monotonic() counts from the boot on Linux: a fresh machine's clock is small.
        start = time.perf_counter()
        clock = SimpleNamespace(monotonic=lambda: 1.0 + time.perf_counter() - start)
        monkeypatch.setattr(live_plot, "time", clock)
    return shown


def _fit(epochs: int, callback: keras.callbacks.Callback, **fit_args) -> keras.callbacks.History:
    """Train a tiny real classifier on 64 examples with ``callback``."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, verbose=0, callbacks=[callback], **fit_args)


def test_records_the_same_numbers_as_keras_history_outside_a_kernel():
    """Outside a kernel, does the callback record every epoch like History, with no widget?"""
    plot = LiveTrainingPlot()
    history = _fit(3, plot, validation_split=0.25)
    assert plot.widget is None and plot.draws == 0
    assert set(plot.history) == set(history.history) >= {"loss", "val_loss", "val_accuracy"}
    for key, values in history.history.items():
        np.testing.assert_allclose(plot.history[key], values, rtol=1e-6)


def test_redraws_the_widget_after_every_epoch_in_a_kernel(in_kernel):
    """In a kernel, is one widget shown and its PNG and status line updated per epoch?"""
    plot = LiveTrainingPlot(min_interval=0.0)
    _fit(3, plot, validation_split=0.25)
    assert in_kernel == [plot.widget]
    assert WIDGET_CLASS in plot.widget._dom_classes
    status, image = plot.widget.children
    assert plot.draws == 3
    assert bytes(image.value).startswith(b"\x89PNG")
    assert "epoch 3 of 3" in status.value and "val_accuracy" in status.value
    assert f"{plot.epoch_seconds[-1]:.1f} s" in status.value


def test_times_every_epoch():
    """Does the callback keep one wall time per epoch, each covering that epoch's work, and
    start afresh with the next fit?"""
    plot = LiveTrainingPlot()

    class SlowEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            time.sleep(0.2)

    history = _fit(3, plot)
    assert len(plot.epoch_seconds) == 3 and all(s > 0 for s in plot.epoch_seconds)
    keras.utils.set_random_seed(0)
    model = history.model
    model.fit(np.zeros((8, 4)), np.zeros(8), epochs=2, verbose=0, callbacks=[SlowEpochs(), plot])
    assert len(plot.epoch_seconds) == 2 and min(plot.epoch_seconds) >= 0.2


def test_draws_at_most_once_per_interval_but_always_the_last_epoch(in_kernel):
    """With a long interval, is the plot drawn for the first and the last epoch only?"""
    plot = LiveTrainingPlot(min_interval=3600.0)
    _fit(5, plot)
    assert plot.draws == 2  # the first epoch (nothing drawn yet) and the last


def test_early_stopping_still_shows_the_final_curves(in_kernel):
    """When training stops early, is the last image drawn with every epoch that ran?"""
    plot = LiveTrainingPlot(min_interval=3600.0)
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    keras.utils.set_random_seed(0)
    x = np.ones((8, 2), "float32")
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :1], epochs=20, verbose=0, callbacks=[plot, stop])
    ran = len(plot.history["loss"])
    assert ran < 20
    assert plot.draws == 2 and plot._drawn_epochs == ran


def test_curves_have_validation_lines_only_when_validation_ran():
    """Does each panel draw a dashed validation line exactly when val_ keys are present?"""
    with_val = Figure()
    draw_history(
        with_val,
        {
            "loss": [1, 0.5],
            "val_loss": [1.1, 0.7],
            "accuracy": [0.5, 0.7],
            "val_accuracy": [0.4, 0.6],
        },
        epochs=10,
    )
    assert [len(axis.lines) for axis in with_val.axes] == [2, 2]
    assert with_val.axes[0].get_xlim() == (0.5, 10.5)
    without = Figure()
    draw_history(without, {"loss": [1, 0.5]})
    assert [len(axis.lines) for axis in without.axes] == [1]


def test_rendering_before_any_epoch_is_refused_clearly():
    """Is asking for the image before an epoch ends answered with a clear error?"""
    with pytest.raises(ValueError, match="no epoch has ended"):
        LiveTrainingPlot().render_png()
    with pytest.raises(ValueError, match="min_interval"):
        LiveTrainingPlot(min_interval=-1)
