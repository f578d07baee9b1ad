"""Helpers the lessons share: plots, the live training plot, the dataset browser, quizzes,
convolution viewers, model diagrams, the prediction explorer and pictures from outside the
datasets, device banner, seeding.

The release step (``python -m course_utils.release``), the notebook lint
(``python -m course_utils.lint``) and the lab launcher (``python -m course_utils.lab``) are
modules of their own.
"""

from course_utils.conv_viz import feature_map_explorer, show_feature_maps, show_filters
from course_utils.dataset_browser import dataset_browser
from course_utils.device import device_banner, print_device_banner
from course_utils.diagrams import show_model_diagram
from course_utils.explorers import prediction_explorer
from course_utils.gradients import kernel_gradient_norms, plot_gradient_norms
from course_utils.pictures import load_picture, predict_picture
from course_utils.plots import (
    compare_histories,
    confusion_matrix,
    plot_confusion_matrix,
    plot_history,
    show_image_row,
    show_images,
)
from course_utils.quiz import number_quiz, quiz
from course_utils.seeding import seed_everything

__all__ = [
    "LiveTrainingPlot",
    "compare_histories",
    "confusion_matrix",
    "dataset_browser",
    "device_banner",
    "feature_map_explorer",
    "kernel_gradient_norms",
    "load_picture",
    "number_quiz",
    "plot_confusion_matrix",
    "plot_gradient_norms",
    "plot_history",
    "predict_picture",
    "prediction_explorer",
    "print_device_banner",
    "quiz",
    "seed_everything",
    "show_feature_maps",
    "show_filters",
    "show_image_row",
    "show_images",
    "show_model_diagram",
]


def __getattr__(name: str):
    # The live plot is a Keras callback: importing it imports Keras (seconds), so it is
    # loaded on first use, not with the package.
    if name == "LiveTrainingPlot":
        from course_utils.live_plot import LiveTrainingPlot

        return LiveTrainingPlot
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
