"""Helpers the lessons share: plots, device banner, seeding, and the release step."""

from course_utils.device import device_banner, print_device_banner
from course_utils.plots import plot_history, show_images
from course_utils.seeding import seed_everything

__all__ = [
    "device_banner",
    "plot_history",
    "print_device_banner",
    "seed_everything",
    "show_images",
]
