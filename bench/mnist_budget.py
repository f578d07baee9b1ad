"""How much MNIST training fits lesson 08's time budget: time per epoch and test accuracy
after each epoch, for the source notes' MLP (784 -> 512 -> 512 -> 10 with dropout) and
convnet (Conv2D 32 -> Conv2D 64 -> max pooling -> dropout -> Dense 128 -> dropout ->
Dense 10), on a training subset of a given size, at a given batch size, over seeds.

Usage: python bench/mnist_budget.py [--train 60000] [--batch 128] [--epochs 3]
       [--seeds 1] [--models mlp cnn]

It prints one line per model, seed and epoch: seconds for that epoch (the first includes
tracing), and accuracy on all 10,000 test images. Nothing is asserted: the machine is
shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import time


def build(name: str):
    """The source notes' model ``name`` ("mlp" or "cnn", as lesson 08 builds them),
    compiled with Adam."""
    from graders.reference_models import mnist_convnet, mnist_mlp

    model = mnist_mlp() if name == "mlp" else mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=60000, help="training images used")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--models", nargs="*", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    args = parser.parse_args()

    from course_utils.tensorflow_settings import use_tensorflow_settings

    use_tensorflow_settings()  # what the learner's kernel runs with
    import keras

    from data_loaders import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train = x_train[: args.train].astype("float32") / 255.0
    y_train = y_train[: args.train]
    x_test = x_test.astype("float32") / 255.0
    print(
        f"{os.cpu_count()} CPU cores, keras {keras.__version__}; {len(x_train)} training "
        f"images, batch {args.batch}; test accuracy on {len(x_test)} images"
    )
    for name in args.models:
        shape = (-1, 28 * 28) if name == "mlp" else (-1, 28, 28, 1)
        for seed in range(args.seeds):
            keras.utils.set_random_seed(seed)
            model = build(name)
            for epoch in range(1, args.epochs + 1):
                start = time.perf_counter()
                model.fit(
                    x_train.reshape(shape), y_train, batch_size=args.batch, epochs=1, verbose=0
                )
                seconds = time.perf_counter() - start
                accuracy = model.evaluate(x_test.reshape(shape), y_test, verbose=0)[1]
                print(
                    f"  {name} seed {seed} epoch {epoch}: {seconds:5.1f} s, test accuracy "
                    f"{accuracy:.4f} ({model.count_params():,} parameters)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
