"""Tests of the small helpers: device banner, seeding, plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import device_banner, plot_history, seed_everything, show_images  # noqa: E402
from course_utils.device import vector_units  # noqa: E402

pytestmark = pytest.mark.model


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
    if banner.startswith("Device: CPU (") and vector_units() != "unknown":
        assert "with AVX-512)" in banner or "without AVX-512)" in banner, banner


CPUINFO = {
    "a laptop without AVX-512": (
        "processor\t: 0\nflags\t\t: fpu sse sse2 avx f16c avx2 fma bmi2\n"
        "processor\t: 1\nflags\t\t: fpu sse sse2 avx f16c avx2 fma bmi2\n",
        "avx avx2",
    ),
    "a server with AVX-512 and AMX": (
        "flags\t\t: fpu avx avx2 avx512f avx512_vnni amx_tile amx_bf16 sse4_2\n",
        "amx_bf16 amx_tile avx avx2 avx512_vnni avx512f",
    ),
    "a CPU without AVX": ("flags\t\t: fpu sse sse2\n", "no AVX"),
    "no flags line": ("processor\t: 0\n", "unknown"),
}


@pytest.mark.parametrize("case", sorted(CPUINFO))
def test_vector_units_reads_the_cpu_flags(case, tmp_path):
    """Are the AVX and AMX units read from the first flags line, sorted?"""
    text, expected = CPUINFO[case]
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(text)
    assert vector_units(cpuinfo) == expected


def test_vector_units_is_unknown_without_cpuinfo(tmp_path):
    """Without /proc/cpuinfo (macOS, Windows), are the units "unknown"?"""
    assert vector_units(tmp_path / "missing") == "unknown"


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


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    """Does the matrix count true classes by row and predictions by column?"""
    from course_utils import confusion_matrix, plot_confusion_matrix

    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    drawn = plot_confusion_matrix(np.array([0, 1]), np.array([1, 1]), ["a", "b"])
    assert drawn.tolist() == [[0, 1], [0, 1]]
    texts = [t.get_text() for t in plt.gcf().axes[0].texts]
    assert texts == ["0", "1", "0", "1"]
    with pytest.raises(ValueError, match="true labels but"):
        confusion_matrix(np.array([0, 1]), np.array([0]), 2)


def test_compare_histories_draws_one_colour_per_run():
    """Are both runs drawn, training solid and validation dashed?"""
    from course_utils import compare_histories

    compare_histories(
        {"a": {"loss": [2, 1], "val_loss": [2, 1.5]}, "b": {"loss": [2, 0.5]}}, metric="loss"
    )
    lines = plt.gcf().axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a: training", "a: validation", "b: training"]
    assert lines[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="has no 'accuracy' history"):
        compare_histories({"a": {"loss": [1]}})
    # A run not trained yet says None, so the lesson's cell can name the exercise to do.
    with pytest.raises(ValueError, match="run 'b' is None, not a History"):
        compare_histories({"a": {"accuracy": [1]}, "b": None})


def test_show_image_row_titles_each_image_with_its_size():
    """Does each image of a row carry its title and its pixel size?"""
    from course_utils import show_image_row

    show_image_row([np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4))], ["big", "small"])
    assert [a.get_title() for a in plt.gcf().axes] == ["big\n8x8", "small\n4x4"]


def test_filters_and_feature_maps_of_a_real_conv_layer():
    """Are a real Conv2D's filters and feature maps shown with the right counts and shapes?"""
    import keras

    from course_utils import show_feature_maps, show_filters
    from course_utils.conv_viz import feature_maps

    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 3)),
            keras.layers.Conv2D(4, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    show_filters(model, columns=2)
    assert "4 filters of 3x3x3" in plt.gcf()._suptitle.get_text()
    image = np.random.default_rng(0).uniform(-0.5, 0.5, (8, 8, 3)).astype(np.float32)
    assert feature_maps(model, image).shape == (6, 6, 4)
    show_feature_maps(model, image, columns=4)
    assert [a.get_title() for a in plt.gcf().axes if a.get_title()] == ["input", "0", "1", "2", "3"]
    with pytest.raises(ValueError, match="no Conv2D layer"):
        show_filters(keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)]))
