"""CIFAR-10, 60,000 real 32x32 colour photos in 10 classes, read from the original archive.

No package registry that the course's machines reach ships CIFAR-10, so it is read from
what the learner has: the original ``cifar-10-python.tar.gz`` (a path, or a URL that is
downloaded once into the data cache and checked by sha256), the folder that archive
unpacks to, or Keras's own copy (left by ``keras.datasets.cifar10.load_data()``). The
batches inside are Python pickles: they are read with the course's data-only unpickler,
which refuses any pickle that names code, and the archive is read in memory (nothing is
extracted to disk).
"""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from course_utils.language import translate
from data_loaders._files import DataFileError, is_url, local_file, sha256_file, unpickle_data
from data_loaders._idx import Split
from data_loaders.cache import keras_datasets_dir
from data_loaders.sources import record_files_load

CIFAR10_CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
"""Names of the classes, indexed by label (the archive's own ``batches.meta``)."""

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
"""The original archive, on Alex Krizhevsky's page (about 163 MB)."""
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
"""sha256 of the original ``cifar-10-python.tar.gz`` (the checksum ``keras.datasets.cifar10``
checks too)."""
FOLDER = "cifar-10-batches-py"
"""The folder inside the archive."""
TRAIN_BATCHES = tuple(f"data_batch_{index}" for index in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
BATCH_SIZE = 10_000
"""Images in each of the five training batches and the test batch of the original."""
MAX_MEMBER_BYTES = 64 * 2**20
"""The most bytes a batch may have (an original batch has about 31 MB)."""


def keras_cache_folders() -> tuple[Path, ...]:
    """Where Keras leaves the unpacked archive: ``$KERAS_HOME/datasets/
    cifar-10-batches-py-target/cifar-10-batches-py`` (Keras 3), or ``.../datasets/
    cifar-10-batches-py`` (older Keras)."""
    datasets = keras_datasets_dir()
    return (datasets / "cifar-10-batches-py-target" / FOLDER, datasets / FOLDER)


def load_cifar10(
    *, path: str | os.PathLike | None = None, verify: bool = True
) -> tuple[Split, Split]:
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    Dataset card
    ------------
    - Task: 10 classes (:data:`CIFAR10_CLASS_NAMES`): airplane, automobile, bird, cat,
      deer, dog, frog, horse, ship, truck; each image shows one object of one class.
    - Images: ``uint8`` arrays of shape ``(N, 32, 32, 3)``, RGB values 0..255
      (channels last, like ``keras.datasets.cifar10``).
    - Labels: ``int64`` arrays of shape ``(N,)``, values 0..9 (``keras.datasets.cifar10``
      gives them as ``(N, 1)``).
    - Sizes: 50,000 training images (five batches of 10,000) and 10,000 test images,
      5,000 and 1,000 a class.
    - Source: Alex Krizhevsky, "Learning Multiple Layers of Features from Tiny Images"
      (2009): a labelled subset of the 80 million tiny images, published with Vinod Nair
      and Geoffrey Hinton as ``cifar-10-python.tar.gz`` (:data:`CIFAR10_URL`). Read from
      ``path``, else Keras's copy (:func:`keras_cache_folders`). No package registry
      ships it and the course never renders a stand-in.
    - Licence: none stated; the authors publish it for research and teaching, asking that
      the report above be cited. The course's repository does not contain the data.

    Args:
        path: the original ``cifar-10-python.tar.gz``, the ``cifar-10-batches-py``
            folder it unpacks to, or an http(s) URL of the archive (downloaded once
            into the data cache, e.g. ``path=CIFAR10_URL``).
        verify: check an archive against the original's sha256 and the batches
            against the original's sizes (set False to read an archive of your own in
            the same format, such as a subset). A folder has no checksum to check.

    Raises:
        DataFileError: when no source is there (saying how to get one); for a missing,
            truncated or damaged file or a wrong layout, naming it; and for a batch whose
            pickle names anything but plain data (code is never run).

    Example:
        >>> from data_loaders import CIFAR10_URL, load_cifar10
        >>> (x_train, y_train), (x_test, y_test) = load_cifar10(path=CIFAR10_URL)
        >>> x_train.shape, x_test.shape, x_train.dtype, y_train[:5].tolist()
        ((50000, 32, 32, 3), (10000, 32, 32, 3), dtype('uint8'), [6, 9, 9, 4, 1])
    """
    if not isinstance(verify, bool):
        raise ValueError(translate("verify must be True or False, found {verify!r}", verify=verify))
    if path is None:
        source = next((f for f in keras_cache_folders() if (f / TEST_BATCH).is_file()), None)
        if source is None:
            raise DataFileError(
                translate(
                    "CIFAR-10 is not on this machine, and no package registry ships it. Pass "
                    "load_cifar10(path=...) the original cifar-10-python.tar.gz or the folder "
                    "it unpacks to; or, online, load_cifar10(path=CIFAR10_URL), which "
                    "downloads it once (163 MB) into the course's data cache; or run "
                    "keras.datasets.cifar10.load_data() once while online."
                )
            )
    else:
        sha256 = CIFAR10_SHA256 if verify and is_url(path) else None
        source = local_file(path, sha256=sha256)
    if source.is_dir():
        read = _folder_reader(source)
    elif source.is_file():
        read = _archive_reader(source, verify)
    else:
        raise DataFileError(translate("{path} does not exist", path=source))
    class_names = _class_names(read(META), verify)
    train = [_batch(read(name), verify) for name in TRAIN_BATCHES]
    x_test, y_test = _batch(read(TEST_BATCH), verify)
    splits = (
        (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
        (x_test, y_test),
    )
    if verify:
        description = translate("CIFAR-10's test images")
    else:
        description = translate("the test images in {source}", source=source)
    return record_files_load(
        "cifar10", class_names, splits, test_file=source, description=description
    )


def _folder_reader(folder: Path):
    """Reads a batch of the unpacked archive by name."""

    def read(name: str) -> tuple[bytes, str]:
        path = folder / name
        try:
            return path.read_bytes(), str(path)
        except FileNotFoundError as error:
            raise DataFileError(
                translate(
                    "{folder} has no {name}: is it CIFAR-10's folder?", folder=folder, name=name
                )
            ) from error

    return read


def _archive_reader(archive: Path, verify: bool):
    """Reads a batch of the archive by name, in memory; checks the archive's sha256
    first when ``verify``."""
    found = sha256_file(archive) if verify else None
    if verify and found != CIFAR10_SHA256:
        raise DataFileError(
            translate(
                "{archive} is not the original cifar-10-python.tar.gz: its sha256 is {found}, "
                "expected {expected} (pass verify=False to read an archive of your own in "
                "the same format)",
                archive=archive,
                found=found,
                expected=CIFAR10_SHA256,
            )
        )
    wanted = {f"{FOLDER}/{name}" for name in (META, *TRAIN_BATCHES, TEST_BATCH)}
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = {}
            for member in tar.getmembers():
                if member.name not in wanted or not member.isfile():
                    continue  # never extracted, never read
                if member.size > MAX_MEMBER_BYTES:
                    raise DataFileError(
                        translate(
                            "{archive}: {member} has {size:,} bytes, more than a CIFAR-10 "
                            "batch ({limit:,} at most)",
                            archive=archive,
                            member=member.name,
                            size=member.size,
                            limit=MAX_MEMBER_BYTES,
                        )
                    )
                members[member.name] = tar.extractfile(member).read()
    except DataFileError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise DataFileError(
            translate(
                "{archive} is not a readable .tar.gz archive ({error}); it may be truncated",
                archive=archive,
                error=error,
            )
        ) from error

    def read(name: str) -> tuple[bytes, str]:
        member = f"{FOLDER}/{name}"
        if member not in members:
            raise DataFileError(
                translate(
                    "{archive} has no {member}: is it CIFAR-10's archive?",
                    archive=archive,
                    member=member,
                )
            )
        return members[member], f"{archive}: {member}"

    return read


def _dict_of(content: tuple[bytes, str]) -> tuple[dict, str]:
    data, source = content
    value = unpickle_data(data, source)
    if not isinstance(value, dict):
        raise DataFileError(
            translate(
                "{source}: expected a pickled dict, found {found}",
                source=source,
                found=type(value).__name__,
            )
        )
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in value.items()}, source


def _class_names(content: tuple[bytes, str], verify: bool) -> tuple[str, ...]:
    meta, where = _dict_of(content)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != len(CIFAR10_CLASS_NAMES):
        raise DataFileError(
            translate(
                "{where}: expected 10 label_names, found {names!r:.200}", where=where, names=names
            )
        )
    names = tuple(n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names)
    if verify and names != CIFAR10_CLASS_NAMES:
        raise DataFileError(
            translate("{where}: label_names {names} are not CIFAR-10's", where=where, names=names)
        )
    return names


def _batch(content: tuple[bytes, str], verify: bool) -> Split:
    """One batch's images, (N, 32, 32, 3) uint8, and labels, (N,) int64."""
    batch, where = _dict_of(content)
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data)
        raise DataFileError(
            translate(
                "{where}: 'data' should be a uint8 array (N, 3072), found {found}",
                where=where,
                found=found,
            )
        )
    if data.shape[1] != 3 * 32 * 32:
        raise DataFileError(
            translate(
                "{where}: 'data' rows should hold 3072 values, found {shape}",
                where=where,
                shape=data.shape,
            )
        )
    try:
        labels = np.asarray(labels) if isinstance(labels, list | np.ndarray) else None
    except (ValueError, OverflowError):
        labels = None
    if (
        labels is None
        or labels.shape != (len(data),)
        or not np.issubdtype(labels.dtype, np.integer)
        or (labels.size and (labels.min() < 0 or labels.max() > 9))
    ):
        raise DataFileError(
            translate(
                "{where}: 'labels' should be {count} labels 0..9", where=where, count=len(data)
            )
        )
    if verify and len(data) != BATCH_SIZE:
        raise DataFileError(
            translate(
                "{where}: {count} images, expected {expected}",
                where=where,
                count=len(data),
                expected=BATCH_SIZE,
            )
        )
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # channels first -> last
    return np.ascontiguousarray(images), labels.astype(np.int64)
