"""Fashion-MNIST, Zalando's photos of clothes, read from the original files (never rendered).

Four places can hold the four IDX files, read in this order: a folder the learner gives,
Keras's own cache (left by ``keras.datasets.fashion_mnist.load_data()``), the course's
installed copy, and the folder of Debian's package ``dataset-fashion-mnist``. The
course's setup installs the copy (:func:`install_fashion_mnist`, run by ``./course lab``
and ``./course test``): from Debian's package when the machine has it (the setup's apt
step installs it where it can), else downloaded from Keras's origin. Every file is
checked against a pinned sha256, and nothing is unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path

from course_utils.language import translate
from data_loaders import cache
from data_loaders._files import DataFileError, fetch
from data_loaders._idx import Split, checked_splits, has_idx_files, has_sha256, read_idx_folder
from data_loaders.cache import atomic_write_bytes
from data_loaders.sources import record_files_load

FASHION_MNIST_CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
"""Names of the classes, indexed by label, in the dataset's own order."""

ORIGINAL_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
"""sha256 of each file uncompressed, as Debian's package ``dataset-fashion-mnist``
(0.0~git20200523.55506a9-1, packaged from Zalando's repository) ships it. Debian's .gz
files are not byte for byte Zalando's, so only the uncompressed bytes are pinned."""
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's package ``dataset-fashion-mnist`` puts the four gzipped files."""
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
"""Where ``keras.datasets.fashion_mnist`` downloads the four gzipped files from."""


def installed_folder() -> Path:
    """Where :func:`install_fashion_mnist` puts the four files:
    ``cache_dir()/fashion_mnist``."""
    return cache.installed_folder("fashion_mnist")


def keras_cache_folder() -> Path:
    """Keras's own copy: ``$KERAS_HOME/datasets/fashion-mnist`` (``~/.keras`` by default)."""
    return cache.keras_datasets_dir() / "fashion-mnist"


def _how_to_get_it() -> str:
    return translate(
        "Fashion-MNIST is not on this machine. Run `python -m data_loaders install` "
        "(./course lab and ./course test do): it copies Debian's package "
        "dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist) or, online, "
        "downloads the files from Keras's origin; or run "
        "keras.datasets.fashion_mnist.load_data() once while online; or pass "
        "load_fashion_mnist(path=...) a folder with the four original IDX files."
    )


def load_fashion_mnist(
    *, path: str | os.PathLike | None = None, verify: bool = True
) -> tuple[Split, Split]:
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``.

    Dataset card
    ------------
    - Task: 10 classes of clothing, shoes and bags (:data:`FASHION_MNIST_CLASS_NAMES`):
      T-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle
      boot.
    - Images: ``uint8`` arrays of shape ``(N, 28, 28)``, grey levels 0..255 (0 is the
      background), like ``keras.datasets.fashion_mnist``; add the channel axis yourself
      (``x[..., None]``) for a convolution.
    - Labels: ``int64`` arrays of shape ``(N,)``, values 0..9.
    - Sizes: 60,000 training and 10,000 test images, 6,000 and 1,000 a class.
    - Source: Han Xiao, Kashif Rasul and Roland Vollgraf, "Fashion-MNIST: a Novel Image
      Dataset for Benchmarking Machine Learning Algorithms" (Zalando Research, 2017):
      product photos from Zalando's shop, turned grey and shrunk to 28x28, in MNIST's
      file format. Read from, in this order: ``path``; Keras's cache
      (:func:`keras_cache_folder`); the copy installed by :func:`install_fashion_mnist`;
      Debian's package ``dataset-fashion-mnist`` (:data:`DEBIAN_FOLDER`). No synthetic
      stand-in is ever used.
    - Licence: MIT (Zalando SE, 2017), as the dataset's repository and Debian's package
      state. The course's repository does not contain the data.

    Args:
        path: a folder with the four original IDX files (``train-images-idx3-ubyte``
            and so on, gzipped or not).
        verify: check each file against the pinned sha256 (set False to read your own
            files in the same format, such as a subset).

    Raises:
        DataFileError: when no source is there (saying how to get one), or for a
            missing, truncated, damaged or wrong file, naming it.

    Example:
        >>> from data_loaders import load_fashion_mnist
        >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
        >>> x_train.shape, x_test.shape, x_train.dtype, y_train[:5].tolist()
        ((60000, 28, 28), (10000, 28, 28), dtype('uint8'), [9, 0, 0, 3, 0])
    """
    if not isinstance(verify, bool):
        raise ValueError(translate("verify must be True or False, found {verify!r}", verify=verify))
    if path is not None:
        source = Path(path).expanduser()
        if not source.exists():
            raise DataFileError(translate("{path} does not exist", path=source))
        if not source.is_dir():
            raise DataFileError(
                translate("{path} is not a folder of the four IDX files", path=source)
            )
    else:
        source = _first_source()
    expected = ORIGINAL_SHA256 if verify else None
    arrays = read_idx_folder(source, expected, dataset="Fashion-MNIST")
    splits = checked_splits(arrays, source, n_classes=10, full_size=verify)
    if verify:
        description = translate("Fashion-MNIST's test images")
    else:
        description = translate("the test images in {source}", source=source)
    return record_files_load(
        "fashion_mnist",
        FASHION_MNIST_CLASS_NAMES,
        splits,
        test_file=source,
        description=description,
    )


def _first_source() -> Path:
    for folder in (keras_cache_folder(), installed_folder(), DEBIAN_FOLDER):
        if has_idx_files(folder):
            return folder
    raise DataFileError(_how_to_get_it())


def install_fashion_mnist(
    *,
    debian_folder: Path | None = None,
    origin: str | None = None,
    expected: dict[str, str] | None = None,
) -> Path:
    """Install the four files, gzipped, into :func:`installed_folder`: copied from
    Debian's package (``debian_folder``, by default :data:`DEBIAN_FOLDER`) when it holds
    them, else downloaded from ``origin`` (by default :data:`KERAS_ORIGIN`). Each file is
    checked against ``expected`` (by default :data:`ORIGINAL_SHA256`, uncompressed) and
    written atomically; files already there and correct are kept, and nothing is
    fetched. Returns the folder.

    Raises :class:`DataFileError` when a file can be neither copied nor downloaded, or
    is not the original.
    """
    debian_folder = DEBIAN_FOLDER if debian_folder is None else Path(debian_folder)
    origin = origin or KERAS_ORIGIN
    folder = installed_folder()
    for name, sha256 in (expected or ORIGINAL_SHA256).items():
        target = folder / f"{name}.gz"
        if has_sha256(target, sha256):
            continue
        packaged = debian_folder / f"{name}.gz"
        if has_sha256(packaged, sha256):
            atomic_write_bytes(target, packaged.read_bytes())
            continue
        downloaded = fetch(f"{origin}{name}.gz")
        if not has_sha256(downloaded, sha256):
            downloaded.unlink(missing_ok=True)
            raise DataFileError(
                f"{origin}{name}.gz is not the original Fashion-MNIST file {name}: its "
                f"uncompressed sha256 is not {sha256}"
            )
        atomic_write_bytes(target, downloaded.read_bytes())
    return folder
