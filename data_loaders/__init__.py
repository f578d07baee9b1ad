"""Datasets of the course, each loading offline.

Every ``load_<name>()`` returns ``(x_train, y_train), (x_test, y_test)`` like
``keras.datasets``: uint8 images in 0..255 and int64 labels of shape (N,) numbered from 0.
Options are keyword-only. The rendered datasets (:data:`RENDERED`: colour images (N, H, W,
3), balanced across classes) load from an embedded default and also read the original
public files (``train_file=`` / ``test_file=``, paths or URLs); MNIST is real data only,
grey images (N, 28, 28), from the original files (:mod:`data_loaders.mnist`), and so is
Fashion-MNIST (:mod:`data_loaders.fashion_mnist`). CIFAR-10 (:mod:`data_loaders.cifar10`),
colour images (N, 32, 32, 3), is read from its original archive, which no package registry
ships: a path or URL the learner gives, or Keras's copy.
"""

from pathlib import Path

from data_loaders import hand_signs, happy_faces, traffic_signs
from data_loaders._files import DataFileError
from data_loaders.cache import cache_dir, installed_folder
from data_loaders.cifar10 import CIFAR10_CLASS_NAMES, CIFAR10_URL, load_cifar10
from data_loaders.fashion_mnist import FASHION_MNIST_CLASS_NAMES, load_fashion_mnist
from data_loaders.hand_signs import HAND_SIGNS_CLASS_NAMES, load_hand_signs
from data_loaders.happy_faces import HAPPY_FACES_CLASS_NAMES, load_happy_faces
from data_loaders.mnist import MNIST_CLASS_NAMES, load_mnist
from data_loaders.sources import loaded_class_names
from data_loaders.traffic_signs import TRAFFIC_SIGN_CLASS_NAMES, load_traffic_signs

LOADERS = {
    "traffic_signs": (load_traffic_signs, TRAFFIC_SIGN_CLASS_NAMES),
    "happy_faces": (load_happy_faces, HAPPY_FACES_CLASS_NAMES),
    "hand_signs": (load_hand_signs, HAND_SIGNS_CLASS_NAMES),
    "mnist": (load_mnist, MNIST_CLASS_NAMES),
    "fashion_mnist": (load_fashion_mnist, FASHION_MNIST_CLASS_NAMES),
    "cifar10": (load_cifar10, CIFAR10_CLASS_NAMES),
}
"""Every dataset by name: its loader and its class names."""
RENDERED = ("traffic_signs", "happy_faces", "hand_signs")
"""The datasets the course renders (with ``seed``, ``n_train`` and ``n_test`` options);
the others are real data read from their original files."""

_RENDERED = {
    module._EMBEDDED.name: module._EMBEDDED for module in (traffic_signs, happy_faces, hand_signs)
}
RENDERER_VERSIONS = {name: embedded.version for name, embedded in _RENDERED.items()}
"""Every dataset by name: the version of its renderer, part of its cache files' names."""


def cache_files(dataset: str) -> list[Path]:
    """The files in the cache that ``load_<dataset>()`` reads when nothing else is there:
    what another process reading the same cache folder needs. For a rendered dataset
    (e.g. ``"traffic_signs"``), its default in the current renderer version, every seed
    and size loaded so far (older versions' files are never read); for a real one
    (``"mnist"``), the original files installed in its folder,
    ``cache_dir()/<dataset>/`` (empty when they are not installed)."""
    if dataset in _RENDERED:
        return _RENDERED[dataset].cache_files()
    folder = installed_folder(dataset)
    return sorted(path for path in folder.glob("*") if path.is_file()) if folder.is_dir() else []


__all__ = [
    "CIFAR10_CLASS_NAMES",
    "CIFAR10_URL",
    "FASHION_MNIST_CLASS_NAMES",
    "DataFileError",
    "HAND_SIGNS_CLASS_NAMES",
    "HAPPY_FACES_CLASS_NAMES",
    "LOADERS",
    "MNIST_CLASS_NAMES",
    "RENDERED",
    "RENDERER_VERSIONS",
    "TRAFFIC_SIGN_CLASS_NAMES",
    "cache_dir",
    "cache_files",
    "load_cifar10",
    "load_fashion_mnist",
    "load_hand_signs",
    "load_happy_faces",
    "load_mnist",
    "load_traffic_signs",
    "loaded_class_names",
]
