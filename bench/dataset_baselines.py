"""Benchmark: every dataset's load times and the baseline table on its test split.

For each dataset it prints the cold load time (render and cache into an empty folder) and
the warm one (from the cache), then the test accuracy of
- a 1-nearest-neighbour on raw pixels,
- a raw-pixel logistic regression (softmax or sigmoid on the scaled pixels, Adam, 50 epochs;
  its best test accuracy over the epochs is shown too, which flatters it),
- the lessons' reference models, trained as the lessons train them:
  traffic signs: lesson 01's dense net (3 epochs) and lesson 05's convnet (8 epochs);
  happy faces: HappyModel (lesson 06); hand signs: ResNet50 (lesson 07, with its learning
  rate schedule) and, to show what depth buys, HappyModel's shallow design with a 6-way
  softmax;
as median [min, max] over the seeds asked for (default 5; 3 at most for hand signs, whose
ResNet50 takes minutes a run). The 1-NN has no seed and the logistic regression, a convex
model, runs once.

With the original lab's HDF5 pair of happy faces or hand signs (``--original-files
TRAIN_FILE TEST_FILE``, one of those datasets in ``--datasets``), each lesson model trained
on the rendered drawings is also scored on the original test photos, beside the same model
trained on the original training photos and the share of the test photos' most common
class (what always answering it scores): how far a model learned from drawings carries to
photos.

Usage: python bench/dataset_baselines.py [--seeds 5] [--first-seed 0] [--datasets
traffic_signs happy_faces hand_signs] [--quick] [--skip-slow] [--loads-only]
[--original-files TRAIN_FILE TEST_FILE]   (--quick: one seed, no logistic regression;
--skip-slow: no ResNet50, whose lesson-07 run bench/lesson_runs.py measures; --first-seed 3
--seeds 2: seeds 3 and 4, to add to an earlier table; --loads-only: the load times alone,
each the best of --repeats 3, in a few seconds)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from course_utils.tensorflow_settings import use_tensorflow_settings  # noqa: E402

use_tensorflow_settings()  # what the learner's kernel runs with

from graders.recipes import RESNET50_DROP_EPOCH, RESNET50_EPOCHS  # noqa: E402


def load_times(loader) -> tuple[float, float]:
    """Seconds for a cold load (empty cache folder) and a warm one."""
    previous = os.environ.get("KERAS_COURSE_DATA")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["KERAS_COURSE_DATA"] = folder
        try:
            start = time.perf_counter()
            loader()
            cold = time.perf_counter() - start
            start = time.perf_counter()
            loader()
            warm = time.perf_counter() - start
        finally:
            if previous is None:
                del os.environ["KERAS_COURSE_DATA"]
            else:
                os.environ["KERAS_COURSE_DATA"] = previous
    return cold, warm


def print_load_times(datasets: list[str], repeats: int) -> int:
    """Print each loader's cold and warm load time, the best and all of ``repeats`` runs."""
    from data_loaders import LOADERS

    print(f"{os.cpu_count()} CPU cores; seconds, best of {repeats} [all runs]")
    for name in datasets:
        times = [load_times(LOADERS[name][0]) for _ in range(repeats)]
        cold, warm = ([t[i] for t in times] for i in (0, 1))
        print(
            f"  {name:14s} cold {min(cold):.2f} [{', '.join(f'{t:.2f}' for t in cold)}]"
            f"   warm {min(warm):.3f} [{', '.join(f'{t:.3f}' for t in warm)}]"
        )
    return 0


def nearest_neighbour(x_train, y_train, x_test, y_test) -> float:
    a = x_train.reshape(len(x_train), -1).astype(np.float32)
    b = x_test.reshape(len(x_test), -1).astype(np.float32)
    distances = (b**2).sum(1)[:, None] - 2 * b @ a.T + (a**2).sum(1)[None]
    return float((y_train[distances.argmin(1)] == y_test).mean())


def _head(keras, classes: int):
    if classes == 2:
        return keras.layers.Dense(1, activation="sigmoid")
    return keras.layers.Dense(classes, activation="softmax")


def logistic_regression(keras, shape, classes):
    return keras.Sequential(
        [keras.Input(shape=shape), keras.layers.Flatten(), _head(keras, classes)]
    )


def dense_net(keras, shape, classes):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=shape),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            _head(keras, classes),
        ]
    )


def lesson05_convnet(keras, shape, classes):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=shape),
            layers.Conv2D(32, 3),
            layers.MaxPooling2D(2),
            layers.Dropout(0.5),
            layers.Activation("relu"),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            _head(keras, classes),
        ]
    )


def happy_model(keras, shape, classes):
    from graders.reference_models import happy_model as reference

    model = reference(shape)
    if classes == 2:
        return model
    features = model.get_layer("fc").input
    outputs = keras.layers.Dense(classes, activation="softmax", name="fc")(features)
    return keras.Model(model.input, outputs, name="ShallowHappyModel")


def resnet50(keras, shape, classes):
    from graders.reference_models import resnet50 as reference

    return reference(shape, classes)


# dataset -> (scaling, [(row name, builder, epochs, batch size)])
PLANS = {
    "traffic_signs": (
        "centred",
        [
            ("lesson 01 dense net, 3 epochs", dense_net, 3, 32),
            ("lesson 05 convnet, 8 epochs", lesson05_convnet, 8, 32),
        ],
    ),
    "happy_faces": (
        "unit",
        [
            ("HappyModel (lesson 06), 20 epochs", happy_model, 20, 16),
        ],
    ),
    "hand_signs": (
        "unit",
        [
            ("shallow HappyModel design, 6-way, 20 epochs", happy_model, 20, 16),
            (f"ResNet50 (lesson 07), {RESNET50_EPOCHS} epochs", resnet50, RESNET50_EPOCHS, 32),
        ],
    ),
}


# ResNet50 trains for minutes a run on a laptop CPU: three seeds at most (--first-seed adds more).
SEED_CAP = {"hand_signs": 3}
ORIGINAL_FILES = ("happy_faces", "hand_signs")  # the datasets whose original files are HDF5 pairs
SLOW = {resnet50}  # left out by --skip-slow (bench/lesson_runs.py 07 measures the same run)


def lesson07_optimizer(keras, steps_per_epoch: int):
    """Lesson 07's schedule: Adam at 0.001 for its first epochs, then 0.0001."""
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries=[RESNET50_DROP_EPOCH * steps_per_epoch], values=[0.001, 0.0001]
    )
    return keras.optimizers.Adam(learning_rate=schedule)


OPTIMIZERS = {resnet50: lesson07_optimizer}  # the others use Adam at 0.001


def scale(x: np.ndarray, how: str) -> np.ndarray:
    x = x.astype(np.float32) / 255.0
    return x - 0.5 if how == "centred" else x


def fit_and_score(
    keras,
    builder,
    x_train,
    y_train,
    x_test,
    y_test,
    classes,
    epochs,
    batch,
    seed,
    *,
    track_test=False,
):
    keras.utils.set_random_seed(seed)
    model = builder(keras, x_train.shape[1:], classes)
    binary = classes == 2
    steps_per_epoch = -(-len(x_train) // batch)
    factory = OPTIMIZERS.get(builder)
    model.compile(
        optimizer=factory(keras, steps_per_epoch) if factory else "adam",
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    extra = {"validation_data": (x_test, y_test)} if track_test else {}
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch, verbose=0, **extra)
    seconds = time.perf_counter() - start
    return accuracy(model, x_test, y_test), history.history, seconds, model


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """The share of ``x`` (scaled images) that ``model`` classifies as ``y`` (int labels)."""
    return model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]


def most_common_share(labels: np.ndarray, class_names) -> tuple[str, float]:
    """The most common class of ``labels`` (int, (N,)) and its share: the accuracy of
    always answering it."""
    counts = np.bincount(labels, minlength=len(class_names))
    return str(class_names[int(counts.argmax())]), float(counts.max() / len(labels))


def describe(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.median(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


def main() -> int:
    from data_loaders import LOADERS, loaded_class_names

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from here (to add seeds to a table)"
    )
    parser.add_argument("--datasets", nargs="*", default=list(PLANS), choices=list(PLANS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-slow", action="store_true")
    parser.add_argument("--loads-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="load timings per dataset")
    parser.add_argument(
        "--original-files",
        nargs=2,
        metavar=("TRAIN_FILE", "TEST_FILE"),
        help="the original lab's HDF5 pair of the one dataset in --datasets "
        f"({' or '.join(ORIGINAL_FILES)}): score the models on its test photos too",
    )
    args = parser.parse_args()
    if args.original_files and (len(args.datasets) != 1 or args.datasets[0] not in ORIGINAL_FILES):
        parser.error(
            "--original-files needs exactly one dataset whose originals are HDF5 files: "
            f"--datasets {' or '.join(ORIGINAL_FILES)}, found --datasets "
            f"{' '.join(args.datasets) or '(none)'}"
        )
    if args.loads_only:
        return print_load_times(args.datasets, args.repeats)
    seeds = (
        [args.first_seed]
        if args.quick
        else list(range(args.first_seed, args.first_seed + args.seeds))
    )

    import keras

    print(
        f"{os.cpu_count()} CPU cores, keras {keras.__version__}; test accuracy, "
        f"median [min, max] over {len(seeds)} seed(s) from {seeds[0]}"
    )
    for name in args.datasets:
        loader, class_names = LOADERS[name]
        cold, warm = load_times(loader)
        (x_train, y_train), (x_test, y_test) = loader()
        how, models = PLANS[name]
        xs_train, xs_test = scale(x_train, how), scale(x_test, how)
        classes = len(class_names)
        original = None  # the original files' (x_train, y_train, x_test, y_test), scaled
        if args.original_files:
            train_file, test_file = args.original_files
            (xo_train, yo_train), (xo_test, yo_test) = loader(
                train_file=train_file, test_file=test_file
            )
            original = scale(xo_train, how), yo_train, scale(xo_test, how), yo_test
            # The files' own class names (their list_classes), not the drawings'.
            answer, share = most_common_share(yo_test, loaded_class_names(name))
        print(
            f"\n{name}: {len(x_train)} train / {len(x_test)} test, {x_train.shape[1:]}; "
            f"load cold {cold:.2f} s, warm {warm:.3f} s"
        )
        rows: dict[str, list[float]] = {
            "1-nearest-neighbour, raw pixels": [
                nearest_neighbour(xs_train, y_train, xs_test, y_test)
            ]
        }
        if not args.quick:  # a convex model: one seed says it all
            logistic_accuracy, history, _, _ = fit_and_score(
                keras,
                logistic_regression,
                xs_train,
                y_train,
                xs_test,
                y_test,
                classes,
                50,
                32,
                0,
                track_test=True,
            )
            rows["logistic regression, raw pixels, 50 epochs"] = [logistic_accuracy]
            rows["logistic regression, best epoch (flattering)"] = [max(history["val_accuracy"])]
        if original is not None:
            print(f"  original files: {len(yo_train)} train / {len(yo_test)} test photos")
            rows[f"original test photos, always {answer!r} (the most common)"] = [share]
        for seed in seeds[: SEED_CAP.get(name, len(seeds))]:
            for row, builder, epochs, batch in models:
                if args.skip_slow and builder in SLOW:
                    continue
                test_accuracy, history, seconds, model = fit_and_score(
                    keras, builder, xs_train, y_train, xs_test, y_test, classes, epochs, batch, seed
                )
                rows.setdefault(row, []).append(test_accuracy)
                rows.setdefault(f"{row}: final training accuracy", []).append(
                    history["accuracy"][-1]
                )
                rows.setdefault(f"{row}: training seconds", []).append(seconds)
                print(
                    f"  seed {seed} {row}: test {test_accuracy:.3f}, {seconds:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                if original is not None:
                    rows.setdefault(f"{row}: on the original test photos", []).append(
                        accuracy(model, *original[2:])
                    )
                    rows.setdefault(
                        f"{row}, trained on the original photos: on their test photos", []
                    ).append(
                        fit_and_score(keras, builder, *original, classes, epochs, batch, seed)[0]
                    )
        for row, values in rows.items():
            print(f"  {row:62s} {describe(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
