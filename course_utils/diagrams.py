"""The model diagram, drawn by ``keras.utils.plot_model``, with a clear message instead of a
traceback when the graphviz program is missing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from course_utils.arguments import require_model
from course_utils.language import translate

GRAPHVIZ_MISSING = translate(
    "The model diagram needs the graphviz program `dot`, which is not on this machine's "
    "PATH. `./course lab` installs it on Debian or Ubuntu; elsewhere install it with "
    "`sudo apt-get install graphviz`, `brew install graphviz` or `conda install graphviz`, "
    "then restart the kernel. Meanwhile, here is the same model as text:"
)


def graphviz_available() -> bool:
    """True when pydot imports and the graphviz ``dot`` program is on PATH."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def show_model_diagram(
    model,
    *,
    show_shapes: bool = True,
    show_layer_names: bool = True,
    show_layer_activations: bool = True,
    rankdir: str = "TB",
    dpi: int = 64,
):
    """Return the diagram of ``model`` (a built ``keras.Model``) as an IPython image, which
    a notebook displays when it is a cell's last value.

    When graphviz is missing, prints why and how to install it, then ``model.summary()``,
    and returns None: the notebook goes on.
    """
    import keras
    from IPython.display import Image

    require_model(model, "show_model_diagram")
    if not graphviz_available():
        print(GRAPHVIZ_MISSING)
        model.summary()
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.png"
        keras.utils.plot_model(
            model,
            to_file=str(path),
            show_shapes=show_shapes,
            show_layer_names=show_layer_names,
            show_layer_activations=show_layer_activations,
            rankdir=rankdir,
            dpi=dpi,
        )
        return Image(data=path.read_bytes(), format="png")
