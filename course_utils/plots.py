"""Plots that lessons would otherwise repeat: image grids and training curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from course_utils.figure_fonts import fonts_for_the_learner
from course_utils.language import translate

fonts_for_the_learner()  # a translated lesson's titles and legends


def show_images(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    n: int = 20,
    columns: int = 10,
    predictions: np.ndarray | None = None,
) -> None:
    """Show the first ``n`` images in a grid, titled with their class names.

    ``images``: (N, H, W, 3) colour or (N, H, W) grey, uint8 in 0..255 or float in
    [0, 1] or [-0.5, 0.5];
    ``labels``: (N,) integers. With ``predictions`` (N,), titles read "true / predicted"
    and wrong predictions are drawn in red.
    """
    if len(images) != len(labels):
        raise ValueError(f"show_images: {len(images)} images but {len(labels)} labels.")
    count = min(n, len(images))
    if count == 0:
        raise ValueError("show_images: there are no images to show.")
    columns = min(columns, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        grey = images[index].ndim == 2
        axis.imshow(_displayable(images[index]), cmap="gray" if grey else None)
        title = class_names[int(labels[index])]
        colour = "black"
        if predictions is not None:
            predicted = class_names[int(predictions[index])]
            colour = "black" if predicted == title else "red"
            title = f"{title} /\n{predicted}"
        axis.set_title(title, fontsize=8, color=colour)
    figure.tight_layout()
    plt.show()


def _displayable(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    if image.min() < 0:  # scaled to [-0.5, 0.5]
        image = image + 0.5
    return np.clip(image, 0.0, 1.0)


def history_panels(data: Mapping[str, Sequence[float]]) -> list[tuple[str, str]]:
    """The (key, title) of each panel a history gets: the loss, then the accuracy when the
    model reports one (``"accuracy"`` or ``"acc"``)."""
    accuracy_key = next((k for k in ("accuracy", "acc") if k in data), None)
    panels = [("loss", translate("Loss"))]
    return panels + ([(accuracy_key, translate("Accuracy"))] if accuracy_key else [])


def draw_history(figure: Figure, data: Mapping[str, Sequence[float]], epochs: int = 0) -> None:
    """Draw loss and accuracy per epoch on ``figure``: one panel each, training solid,
    validation (``val_`` keys) dashed. ``epochs`` > the epochs in ``data`` fixes the
    x-axis to the whole run, so that a live plot does not rescale as it grows."""
    panels = history_panels(data)
    axes = figure.subplots(1, len(panels), squeeze=False)
    done = len(data["loss"])
    x = np.arange(1, done + 1)
    for axis, (key, title) in zip(axes.flat, panels, strict=False):
        axis.plot(x, data[key], "o-", label=translate("training"))
        if len(data.get(f"val_{key}", ())) == done:
            axis.plot(x, data[f"val_{key}"], "s--", label=translate("validation"))
        axis.set_title(title)
        axis.set_xlabel(translate("epoch"))
        last = max(epochs, done)
        axis.set_xlim(0.5, last + 0.5)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(last, 10)))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()


def plot_history(history) -> None:
    """Plot loss and accuracy per epoch from a ``keras.callbacks.History`` (or its dict),
    with the validation curves when present."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping) or "loss" not in data:
        raise ValueError(
            translate(
                "plot_history: expected the History returned by model.fit (with a 'loss' "
                "entry), found {found}.",
                found=type(history).__name__,
            )
        )
    figure = plt.figure(figsize=(5 * len(history_panels(data)), 3.2))
    draw_history(figure, data)
    plt.show()


def compare_histories(histories: Mapping[str, object], metric: str = "accuracy") -> None:
    """Plot ``metric`` per epoch for several runs side by side: training (solid) and
    validation (dashed) in one colour per run. ``histories`` maps a run's name to its
    History (or History.history dict)."""
    figure, axis = plt.subplots(figsize=(6.5, 3.6))
    for index, (name, history) in enumerate(histories.items()):
        if history is None:
            raise ValueError(
                translate("compare_histories: run {name!r} is None, not a History.", name=name)
            )
        data = getattr(history, "history", history)
        if not isinstance(data, Mapping) or metric not in data:
            raise ValueError(
                translate(
                    "compare_histories: run {name!r} has no {metric!r} history.",
                    name=name,
                    metric=metric,
                )
            )
        colour = f"C{index}"
        epochs = np.arange(1, len(data[metric]) + 1)
        training = translate("{run}: training", run=name)
        axis.plot(epochs, data[metric], "-", color=colour, label=training)
        if f"val_{metric}" in data:
            validation = translate("{run}: validation", run=name)
            axis.plot(epochs, data[f"val_{metric}"], "--", color=colour, label=validation)
    axis.set_xlabel(translate("epoch"))
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.show()


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes), int64: row = true class, column = predicted class."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            translate(
                "confusion_matrix: {labels} true labels but {predictions} predictions.",
                labels=y_true.shape,
                predictions=y_pred.shape,
            )
        )
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> np.ndarray:
    """Draw the confusion matrix with counts in each cell; returns the matrix (see
    :func:`confusion_matrix`)."""
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    figure, axis = plt.subplots(figsize=(1.0 * len(class_names) + 2, len(class_names) * 0.8 + 1.5))
    axis.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=30, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel(translate("predicted"))
    axis.set_ylabel(translate("true"))
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axis.text(
            column,
            row,
            str(count),
            ha="center",
            va="center",
            color="white" if count > threshold else "black",
        )
    figure.tight_layout()
    plt.show()
    return matrix


def show_image_row(images: Sequence[np.ndarray], titles: Sequence[str]) -> None:
    """Show images of any sizes side by side, each with its title and its pixel size.

    Each image: (H, W, 3) uint8, float in [0, 1] or [-0.5, 0.5], or (H, W) grey.
    """
    if len(images) != len(titles):
        raise ValueError(f"show_image_row: {len(images)} images but {len(titles)} titles.")
    figure, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 2.8), squeeze=False)
    for axis, image, title in zip(axes.flat, images, titles, strict=True):
        image = np.asarray(image)
        shown = _displayable(image) if image.ndim == 3 else image
        axis.imshow(shown, cmap=None if image.ndim == 3 else "gray", interpolation="nearest")
        axis.set_title(f"{title}\n{image.shape[1]}x{image.shape[0]}", fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    plt.show()
