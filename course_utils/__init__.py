"""Helpers the lessons share: plots, quizzes, convolution viewers, device banner, seeding.

The release step (``python -m course_utils.release``), the notebook lint
(``python -m course_utils.lint``) and the lab launcher (``python -m course_utils.lab``) are
modules of their own.
"""

from course_utils.conv_viz import feature_map_explorer, show_feature_maps, show_filters
from course_utils.device import device_banner, print_device_banner
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
    "compare_histories",
    "confusion_matrix",
    "device_banner",
    "feature_map_explorer",
    "number_quiz",
    "plot_confusion_matrix",
    "plot_history",
    "print_device_banner",
    "quiz",
    "seed_everything",
    "show_feature_maps",
    "show_filters",
    "show_image_row",
    "show_images",
]
