"""A dataset browser: pages of images with their class names, filtered by class, and with
a model's predictions, filtered to its mistakes.

An ipywidgets box: a class menu, a page slider and a grid of image tiles. The first page
is drawn when the browser is made, so a headless run (nbval, the batch grader) gets its
output at once and nothing waits for input.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from PIL import Image

from course_utils.language import translate
from course_utils.plots import _displayable

WIDGET_CLASS = "course-dataset-browser"  # CSS class of the widget box (the browser test finds it)
ALL = "all classes"
MISTAKES = "mistakes only"
_TILE_PIXELS = 72  # images are enlarged by a whole factor to at least about this size
_RIGHT = "#1f2328"
_WRONG = "#cf222e"


def _png(image: np.ndarray) -> bytes:
    """uint8 PNG bytes of an image (H, W, 3) or (H, W), enlarged with square pixels."""
    shown = _displayable(np.asarray(image))
    if shown.dtype != np.uint8:
        shown = (shown * 255.0 + 0.5).astype(np.uint8)
    picture = Image.fromarray(shown)
    factor = max(1, round(_TILE_PIXELS / max(picture.size)))
    if factor > 1:
        picture = picture.resize((picture.width * factor, picture.height * factor), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class DatasetBrowser:
    """Browse ``images`` (N, H, W, 3), uint8 or float scaled to [0, 1] or [-0.5, 0.5],
    with integer ``labels`` (N,) named by ``class_names``.

    With ``predictions`` (N,) integer classes, each tile reads "true / predicted", wrong
    predictions in red, and the class menu offers "mistakes only". ``show`` picks the
    menu's first choice: "all classes", a class name or "mistakes only". ``per_page``
    tiles show at a time, ``columns`` to a row. ``shown`` holds the indices on the
    current page.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        class_names: Sequence[str],
        *,
        predictions: np.ndarray | None = None,
        show: str = ALL,
        per_page: int = 24,
        columns: int = 8,
    ) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim not in (3, 4) or len(images) == 0:
            raise ValueError(
                f"dataset_browser: expected images (N, H, W, 3) or (N, H, W) with N > 0, "
                f"found shape {images.shape}."
            )
        if labels.shape != (len(images),):
            raise ValueError(
                f"dataset_browser: expected one label per image, shape ({len(images)},), "
                f"found {labels.shape}."
            )
        if labels.min() < 0 or labels.max() >= len(class_names):
            raise ValueError(
                f"dataset_browser: labels must be in 0..{len(class_names) - 1} "
                f"(one per class name), found {labels.min()}..{labels.max()}."
            )
        if predictions is not None:
            predictions = np.asarray(predictions)
            if predictions.shape != labels.shape:
                raise ValueError(
                    translate(
                        "dataset_browser: expected one prediction per image, shape "
                        "{expected}, found {found}.",
                        expected=labels.shape,
                        found=predictions.shape,
                    )
                )
        if per_page < 1 or columns < 1:
            raise ValueError("dataset_browser: per_page and columns must be at least 1.")
        self.images, self.labels, self.predictions = images, labels, predictions
        self.class_names = list(class_names)
        self.per_page = per_page

        options = [(translate("all classes ({count})", count=len(labels)), ALL)]
        options += [
            (f"{name} ({int(np.sum(labels == i))})", name) for i, name in enumerate(class_names)
        ]
        if predictions is not None:
            mistakes = int(np.sum(predictions != labels))
            options.append((translate("mistakes only ({count})", count=mistakes), MISTAKES))
        choices = [value for _, value in options]
        if show not in choices:
            raise ValueError(f"dataset_browser: show must be one of {choices}, found {show!r}.")
        self.class_menu = widgets.Dropdown(
            options=options, value=show, description=translate("show")
        )
        self.page_slider = widgets.IntSlider(
            value=1, min=1, max=1, description=translate("page"), continuous_update=False
        )
        self.caption = widgets.HTML()
        self.grid = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns=f"repeat({columns}, max-content)")
        )
        self.widget = widgets.VBox(
            [widgets.HBox([self.class_menu, self.page_slider]), self.caption, self.grid]
        )
        self.widget.add_class(WIDGET_CLASS)
        self.shown: list[int] = []
        self.class_menu.observe(lambda _: self._filter_changed(), names="value")
        self.page_slider.observe(lambda _: self._draw(), names="value")
        self._filter_changed()

    def selection(self) -> np.ndarray:
        """Indices (int64) of the images the class menu selects, in dataset order."""
        choice = self.class_menu.value
        if choice == ALL:
            return np.arange(len(self.labels))
        if choice == MISTAKES:
            return np.flatnonzero(self.predictions != self.labels)
        return np.flatnonzero(self.labels == self.class_names.index(choice))

    def _filter_changed(self) -> None:
        pages = max(1, -(-len(self.selection()) // self.per_page))
        with self.page_slider.hold_trait_notifications():
            self.page_slider.max = pages
            self.page_slider.value = 1
        self._draw()

    def _draw(self) -> None:
        selected = self.selection()
        page = self.page_slider.value
        self.shown = [int(i) for i in selected[(page - 1) * self.per_page : page * self.per_page]]
        if not self.shown:
            self.caption.value = "<i>" + html.escape(translate("no image here")) + "</i>"
        else:
            self.caption.value = translate(
                "images {first}-{last} of {total}",
                first=(page - 1) * self.per_page + 1,
                last=(page - 1) * self.per_page + len(self.shown),
                total=len(selected),
            )
        self.grid.children = [self._tile(i) for i in self.shown]

    def _tile(self, index: int) -> widgets.Widget:
        title = self.class_names[int(self.labels[index])]
        colour = _RIGHT
        if self.predictions is not None:
            predicted = self.class_names[int(self.predictions[index])]
            colour = _RIGHT if predicted == title else _WRONG
            title = f"{title} / {predicted}"
        label = widgets.HTML(
            f'<div style="font-size:11px;line-height:1.2;color:{colour};max-width:9em">'
            f"#{index}<br>{html.escape(title)}</div>"
        )
        return widgets.VBox([widgets.Image(value=_png(self.images[index]), format="png"), label])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return translate(
            "DatasetBrowser: {shown} of {total} images shown",
            shown=len(self.shown),
            total=len(self.labels),
        )


def dataset_browser(
    images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], **options
) -> DatasetBrowser:
    """Browse a dataset page by page, by class, or (with ``predictions=``) by mistake;
    display it as the last line of a cell. ``options``: ``predictions``, ``show``,
    ``per_page``, ``columns``, as in :class:`DatasetBrowser`."""
    return DatasetBrowser(images, labels, class_names, **options)
