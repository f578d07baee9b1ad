"""Look inside convolution layers: the learned filters, and the feature maps of one image,
statically or with a slider over images."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from course_utils.arguments import require_model
from course_utils.figure_fonts import fonts_for_the_learner
from course_utils.language import translate

fonts_for_the_learner()  # a translated lesson's titles and legends


def _conv_layer(model, layer_name: str | None):
    require_model(model, translate("the convolution viewer"))
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    if layer_name is not None:
        return model.get_layer(layer_name)
    if not convs:
        raise ValueError(translate("the model has no Conv2D layer to look at."))
    return convs[0]


def show_filters(model, layer_name: str | None = None, *, columns: int = 8) -> None:
    """Show each filter of a Conv2D layer (the first one by default) as a small RGB image,
    each scaled to its own range. Shapes: kernel (k, k, channels, filters)."""
    layer = _conv_layer(model, layer_name)
    kernel = np.asarray(layer.get_weights()[0])
    k, _, channels, filters = kernel.shape
    rows = -(-filters // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= filters:
            continue
        weights = kernel[..., index]
        weights = (weights - weights.min()) / (np.ptp(weights) or 1.0)
        axis.imshow(
            weights if channels == 3 else weights.mean(axis=-1),
            cmap=None if channels == 3 else "gray",
        )
    figure.suptitle(
        translate(
            "{layer}: {filters} filters of {k}x{k}x{channels}",
            layer=layer.name,
            filters=filters,
            k=k,
            channels=channels,
        )
    )
    figure.tight_layout()
    plt.show()


def feature_maps(model, image: np.ndarray, layer_name: str | None = None) -> np.ndarray:
    """The output of a Conv2D layer (the first one by default) for one preprocessed image
    (H, W, C); returns float32 (H', W', filters)."""
    import keras

    layer = _conv_layer(model, layer_name)
    probe = keras.Model(model.inputs, layer.output)
    return np.asarray(probe.predict(image[None], verbose=0)[0], dtype=np.float32)


def show_feature_maps(
    model, image: np.ndarray, layer_name: str | None = None, *, columns: int = 8, limit: int = 32
) -> None:
    """Show the image and up to ``limit`` feature maps of a Conv2D layer for it."""
    maps = feature_maps(model, image, layer_name)
    count = min(limit, maps.shape[-1])
    rows = 1 + -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.0, rows * 1.05), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    shown = image + 0.5 if image.min() < 0 else image
    axes[0, 0].imshow(np.clip(shown, 0, 1))
    axes[0, 0].set_title(translate("input"), fontsize=8)
    for index in range(count):
        axis = axes[1 + index // columns, index % columns]
        axis.imshow(maps[..., index], cmap="viridis")
        axis.set_title(str(index), fontsize=7)
    figure.tight_layout()
    plt.show()


def feature_map_explorer(
    model,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    layer_name: str | None = None,
):
    """A slider over ``images`` that redraws the feature maps of the chosen one.

    Headless (nbval) it draws the first image's maps once and waits for nothing.
    """
    import ipywidgets as widgets

    def draw(index: int) -> None:
        print(translate("image {index}: {name}", index=index, name=class_names[int(labels[index])]))
        show_feature_maps(model, images[index], layer_name)

    slider = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description=translate("image"))
    return widgets.interact(draw, index=slider)
