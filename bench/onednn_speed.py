"""What oneDNN changes on this machine: seconds per training step of lesson 07's ResNet50
(64x64x3 images, batch 32) and of lesson 08's convnet (28x28x1 digits, batch 128), with
``TF_ENABLE_ONEDNN_OPTS=0`` and with the course's setting (``=1``, see
``course_utils/tensorflow_settings.py``), each in a fresh process, on random data.

Usage: python bench/onednn_speed.py [--rounds 1]

It prints the CPU's vector units, whether TensorFlow turns oneDNN on by itself here, and
one line per model: the median seconds per step over the rounds with oneDNN off and on,
each round the mean over :data:`STEPS` steps after a warm-up step. Nothing is asserted:
the machine is shared and noisy. On a CPU with AVX-512, a second run with
``ONEDNN_MAX_CPU_ISA=AVX2`` in the environment shows what oneDNN gains from those units.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from course_utils.device import vector_units  # noqa: E402

STEP_TIMER = """
import json, sys, time
import numpy as np
from graders.reference_models import mnist_convnet, resnet50
from course_utils.tensorflow_settings import onednn_enabled

name, steps = sys.argv[1], int(sys.argv[2])
model, shape, batch = {
    "ResNet50 (lesson 07)": (resnet50(), (64, 64, 3), 32),
    "convnet (lesson 08)": (mnist_convnet(), (28, 28, 1), 128),
}[name]
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(0)
images = rng.random((batch * steps, *shape), dtype=np.float32)
labels = rng.integers(0, model.outputs[0].shape[-1], len(images))
model.fit(images[:batch], labels[:batch], batch_size=batch, verbose=0)  # traces the step
start = time.perf_counter()
model.fit(images, labels, batch_size=batch, verbose=0)
print(json.dumps({"seconds": (time.perf_counter() - start) / steps,
                  "onednn": onednn_enabled()}))
"""

STEPS = {"ResNet50 (lesson 07)": 6, "convnet (lesson 08)": 40}
"""Timed steps per process for each model: about 15-40 s of training each."""


def time_steps(model: str, steps: int, onednn: str | None) -> dict:
    """One fresh process: ``{"seconds": per step, "onednn": on?}``; ``onednn`` None leaves
    ``TF_ENABLE_ONEDNN_OPTS`` unset (TensorFlow's own choice)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = onednn
    done = subprocess.run(
        [sys.executable, "-c", STEP_TIMER, model, str(steps)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"timing {model} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="processes per model and setting")
    args = parser.parse_args()

    print(f"CPU vector units: {vector_units()}; {os.cpu_count()} logical cores")
    by_itself = time_steps("convnet (lesson 08)", 1, None)["onednn"]
    print(f"oneDNN without TF_ENABLE_ONEDNN_OPTS: {'on' if by_itself else 'off'}")
    print(f"{'model':22s} {'oneDNN off':>12s} {'oneDNN on':>12s} {'speed-up':>9s}")
    for model, steps in STEPS.items():
        seconds = {
            setting: statistics.median(
                time_steps(model, steps, setting)["seconds"] for _ in range(args.rounds)
            )
            for setting in ("0", "1")
        }
        print(
            f"{model:22s} {seconds['0']:10.3f} s {seconds['1']:10.3f} s "
            f"{seconds['0'] / seconds['1']:8.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
