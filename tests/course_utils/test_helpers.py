"""Tests of the small helpers: device banner, seeding, plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import device_banner, plot_history, seed_everything, show_images  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_device_banner_is_one_line_naming_device_and_versions():
    """Is the banner one line naming the device, TensorFlow and Keras?"""
    banner = device_banner()
    assert "\n" not in banner
    assert banner.startswith("Device: CPU (") or banner.startswith("Device: GPU ")
    assert "TensorFlow 2." in banner and "Keras 3." in banner


def test_seed_everything_repeats_random_draws_and_honours_the_env(monkeypatch):
    """Does the same seed give the same draws, and does $KERAS_COURSE_SEED override it?"""
    import keras

    seed_everything(7)
    first = keras.random.uniform((3,)).numpy(), np.random.rand(3)
    seed_everything(7)
    second = keras.random.uniform((3,)).numpy(), np.random.rand(3)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    monkeypatch.setenv("KERAS_COURSE_SEED", "11")
    assert seed_everything(7) == 11
    monkeypatch.setenv("KERAS_COURSE_SEED", "eleven")
    with pytest.raises(ValueError, match="must be an integer, found 'eleven'"):
        seed_everything()


def test_show_images_titles_each_image_with_its_class_and_marks_mistakes():
    """Does the grid title images by class name, with wrong predictions in red?"""
    images = np.zeros((3, 8, 8, 3), np.uint8)
    show_images(images, np.array([0, 1, 2]), ["a", "b", "c"], predictions=np.array([0, 2, 2]))
    axes = [a for a in plt.gcf().axes if a.get_title()]
    assert [a.get_title() for a in axes] == ["a /\na", "b /\nc", "c /\nc"]
    assert axes[1].title.get_color() == "red" and axes[0].title.get_color() == "black"


def test_show_images_refuses_mismatched_lengths():
    """Are images and labels of different lengths refused with both counts?"""
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        show_images(np.zeros((3, 8, 8, 3), np.uint8), np.array([0, 1]), ["a", "b"])


def test_plot_history_draws_training_and_validation_curves():
    """Are loss and accuracy plotted, each with its validation curve?"""
    plot_history(
        {
            "loss": [1.0, 0.5],
            "accuracy": [0.4, 0.8],
            "val_loss": [1.1, 0.7],
            "val_accuracy": [0.3, 0.7],
        }
    )
    loss_axis, accuracy_axis = plt.gcf().axes
    assert loss_axis.get_title() == "Loss" and accuracy_axis.get_title() == "Accuracy"
    assert [len(a.get_lines()) for a in (loss_axis, accuracy_axis)] == [2, 2]


def test_plot_history_refuses_a_non_history():
    """Is something other than a History refused with what was found?"""
    with pytest.raises(ValueError, match="found list"):
        plot_history([1, 2])
