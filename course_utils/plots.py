"""Plots that lessons would otherwise repeat: image grids and training curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


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

    ``images``: (N, H, W, 3) uint8 in 0..255 or float in [0, 1] or [-0.5, 0.5];
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
        axis.imshow(_displayable(images[index]))
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


def plot_history(history) -> None:
    """Plot loss and accuracy per epoch from a ``keras.callbacks.History`` (or its dict),
    with the validation curves when present."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping) or "loss" not in data:
        raise ValueError(
            "plot_history: expected the History returned by model.fit (with a 'loss' entry), "
            f"found {type(history).__name__}."
        )
    accuracy_key = next((k for k in ("accuracy", "acc") if k in data), None)
    panels = [("loss", "Loss")] + ([(accuracy_key, "Accuracy")] if accuracy_key else [])
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.2), squeeze=False)
    epochs = np.arange(1, len(data["loss"]) + 1)
    for axis, (key, title) in zip(axes.flat, panels, strict=False):
        axis.plot(epochs, data[key], "o-", label="training")
        if f"val_{key}" in data:
            axis.plot(epochs, data[f"val_{key}"], "s--", label="validation")
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.set_xticks(epochs)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    plt.show()
