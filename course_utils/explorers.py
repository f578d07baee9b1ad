"""Interactive explorers built on ipywidgets. Each draws its first view at once, so a
notebook run headless (nbval, the batch grader) gets static output and never waits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from course_utils.arguments import require_model
from course_utils.language import translate
from course_utils.pictures import load_picture, predict_picture
from course_utils.plots import _displayable

MAX_CHOICES = 200  # test images offered in the explorer's menu


def show_prediction(picture: np.ndarray, title: str, probabilities: Mapping[str, float]) -> None:
    """Draw a uint8 picture (H, W, 3) beside a bar chart of its class probabilities, the
    most probable class highlighted."""
    names = list(probabilities)
    values = np.array([probabilities[name] for name in names])
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(7, max(2.0, 0.35 * len(names) + 1)), width_ratios=(1, 1.4)
    )
    left.imshow(_displayable(picture))
    left.set_title(title, fontsize=9)
    left.axis("off")
    colours = ["tab:orange" if i == values.argmax() else "tab:blue" for i in range(len(names))]
    right.barh(names, values, color=colours)
    right.set_xlim(0, 1)
    right.invert_yaxis()
    right.set_xlabel(translate("probability"))
    for row, value in enumerate(values):
        right.text(min(value + 0.02, 0.85), row, f"{value:.2f}", va="center", fontsize=8)
    right.set_title(translate("prediction: {name}", name=names[int(values.argmax())]), fontsize=9)
    figure.tight_layout()
    plt.show()


def prediction_explorer(
    model,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    preprocess: Callable[[np.ndarray], np.ndarray],
    samples: Mapping[str, np.ndarray] | None = None,
    allow_upload: bool = True,
):
    """Pick a test image, a sample picture or upload your own, and see what ``model``
    predicts, as a bar chart of class probabilities.

    ``images``: uint8 (N, H, W, 3) test images with int labels (N,); ``samples``: name ->
    uint8 picture (H, W, 3); ``preprocess``: the training preprocessing, applied to every
    picture (uploads are centre-cropped and resized to the model's input size first, by
    :func:`course_utils.pictures.load_picture`). Returns the widget; its
    ``last_prediction`` attribute holds the latest ``(title, probabilities)``.
    """
    import ipywidgets as widgets

    require_model(model, "prediction_explorer")
    height, width = images.shape[1:3]
    choices = [
        (
            translate(
                "test image {index} (true: {name})", index=i, name=class_names[int(labels[i])]
            ),
            ("test", i),
        )
        for i in range(min(len(images), MAX_CHOICES))
    ]
    choices += [
        (translate("sample picture: {name}", name=name), ("sample", name)) for name in samples or {}
    ]
    chooser = widgets.Dropdown(
        options=choices, description=translate("picture"), layout={"width": "28em"}
    )
    upload = widgets.FileUpload(accept="image/*", multiple=False, description=translate("Upload"))
    message = widgets.HTML()
    output = widgets.Output()
    box = widgets.VBox([widgets.HBox([chooser, upload] if allow_upload else [chooser]), message])
    box.children += (output,)
    box.last_prediction = None

    def show(picture: np.ndarray, title: str) -> None:
        probabilities = predict_picture(model, picture, class_names, preprocess)
        box.last_prediction = (title, probabilities)
        with output:
            output.clear_output(wait=True)
            show_prediction(picture, title, probabilities)

    def on_choice(change) -> None:
        kind, key = change["new"]
        message.value = ""
        if kind == "test":
            name = class_names[int(labels[key])]
            show(images[key], translate("test image {index}, true: {name}", index=key, name=name))
        else:
            show(samples[key], translate("sample picture: {name}", name=key))

    def on_upload(change) -> None:
        if not change["new"]:
            return
        item = change["new"][0]
        try:
            picture = load_picture(bytes(item["content"]), (height, width))
        except ValueError as error:
            message.value = f"<span style='color:#b00'>{error}</span>"
            return
        message.value = ""
        show(picture, translate("your picture: {name}", name=item["name"]))

    chooser.observe(on_choice, names="value")
    upload.observe(on_upload, names="value")
    on_choice({"new": choices[0][1]})
    return box
