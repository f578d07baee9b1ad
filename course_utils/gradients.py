"""How well the gradient reaches each layer of a network: the demonstration of lesson 07."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from course_utils.figure_fonts import fonts_for_the_learner
from course_utils.language import translate

fonts_for_the_learner()  # a translated lesson's titles and legends


def kernel_gradient_norms(model, x: np.ndarray, y: np.ndarray, loss: str) -> list[float]:
    """The norm of the loss gradient with respect to each layer's kernel, for one batch.

    ``x``, ``y``: one batch of inputs and labels; ``loss``: a Keras loss name. Returns one
    float per layer that has a kernel (Dense, Conv2D), from the input side to the output.
    The model is called in training mode, as in one step of ``fit``. TensorFlow backend.
    """
    import keras
    import tensorflow as tf

    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    loss_function = keras.losses.get(loss)
    with tf.GradientTape() as tape:
        value = keras.ops.mean(loss_function(y, model(x, training=True)))
    gradients = tape.gradient(value, [kernel.value for kernel in kernels])
    return [float(tf.norm(g)) for g in gradients]


def plot_gradient_norms(norms: Mapping[str, Sequence[float]]) -> None:
    """Plot gradient norm per layer (log scale) for each named network, layer 1 being the
    one nearest the input."""
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for name, values in norms.items():
        axis.semilogy(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=name)
    axis.set_xlabel(translate("layer (1 = nearest the input)"))
    axis.set_ylabel(translate("gradient norm of its kernel"))
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    plt.show()
