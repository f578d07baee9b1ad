"""Helpers the lessons share: plots, the live training plot, the dataset browser, quizzes,
convolution viewers, model diagrams, the prediction explorer and pictures from outside the
datasets, device banner, seeding.

The release step (``python -m course_utils.release``), the notebook lint
(``python -m course_utils.lint``) and the lab launcher (``python -m course_utils.lab``) are
modules of their own.
"""

_HOMES = {
    "LiveTrainingPlot": "live_plot",
    "compare_histories": "plots",
    "confusion_matrix": "plots",
    "dataset_browser": "dataset_browsing",
    "device_banner": "device",
    "feature_map_explorer": "conv_viz",
    "kernel_gradient_norms": "gradients",
    "load_picture": "pictures",
    "number_quiz": "quizzes",
    "plot_confusion_matrix": "plots",
    "plot_gradient_norms": "gradients",
    "plot_history": "plots",
    "predict_picture": "pictures",
    "prediction_explorer": "explorers",
    "print_device_banner": "device",
    "quiz": "quizzes",
    "seed_everything": "seeding",
    "show_feature_maps": "conv_viz",
    "show_filters": "conv_viz",
    "show_image_row": "plots",
    "show_images": "plots",
    "show_model_diagram": "diagrams",
}
"""Each helper and the module it lives in. The helpers import Keras, Matplotlib or
ipywidgets (seconds), so each is loaded on first use, not with the package: the release
step and the lint (``make check``) run without them."""

FIGURE_HELPERS = (
    "compare_histories",
    "plot_confusion_matrix",
    "plot_gradient_norms",
    "plot_history",
    "show_feature_maps",
    "show_filters",
    "show_image_row",
    "show_images",
)
"""The helpers that draw a Matplotlib figure under the cell (``plt.show()``): a cell that
calls one shows an image, which the tests check in every solution notebook (nbval) and in
every student notebook run in JupyterLab."""

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"course_utils.{_HOMES[name]}"), name)
    globals()[name] = value  # found at once next time
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
