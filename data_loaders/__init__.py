"""Datasets of the course, each loading offline from an embedded default.

Every ``load_<name>()`` returns ``(x_train, y_train), (x_test, y_test)`` like
``keras.datasets``: uint8 images of shape (N, H, W, 3) and int64 labels of shape (N,)
numbered from 0. Options are keyword-only.
"""

from data_loaders._files import DataFileError, cache_dir
from data_loaders.traffic_signs import TRAFFIC_SIGN_CLASS_NAMES, load_traffic_signs

__all__ = [
    "DataFileError",
    "TRAFFIC_SIGN_CLASS_NAMES",
    "cache_dir",
    "load_traffic_signs",
]
