"""Image galleries on a matplotlib grid (the ``[plot]`` extra): plain, with segmentation
masks beside each image, or with bounding boxes drawn on."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..utils.plotting import _pyplot
from .drawing import _batched, draw_bounding_boxes, draw_segmentation_masks


def plot_image_gallery(
    images,
    y_true=None,
    y_pred=None,
    label_map=None,
    rows=None,
    cols=None,
    value_range=(0, 255),
    scale=2,
    path=None,
    show=None,
    transparent=True,
    dpi=60,
    legend_handles=None,
    data_format=None,
):
    """Show (or, with ``path``, save) up to rows x cols images of a batch on a grid:
    rows default to ceil(sqrt(N)), cols to N // rows; values are mapped from
    ``value_range`` to 0..255; with ``y_true`` / ``y_pred`` and ``label_map`` (class id ->
    name) each image is titled "Label: ... Pred: ..."."""
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError(
            "If `y_true` or `y_pred` are provided, a `label_map` must also be provided."
        )
    show = show if show is not None else path is None
    x = _batched(images, data_format).astype(np.float64)
    batch = len(x)
    rows = rows or int(math.ceil(math.sqrt(batch)))
    cols = cols or max(int(math.ceil(batch // rows)), 1)
    x = x[: rows * cols]
    x = (x - value_range[0]) / (value_range[1] - value_range[0]) * 255.0
    plt = _pyplot()
    fig, axes = plt.subplots(
        nrows=rows,
        ncols=cols,
        figsize=(cols * scale, rows * scale),
        frameon=False,
        layout="tight",
        squeeze=False,
    )
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    y_true = None if y_true is None else np.asarray(y_true)
    y_pred = None if y_pred is None else np.asarray(y_pred)
    for index, axis in enumerate(axes.reshape(-1)):
        axis.axis("off")
        if index >= len(x):
            continue
        image = np.clip(x[index], 0, 255).astype(np.uint8)
        axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
        axis.margins(x=0, y=0)
        title = []
        if y_true is not None and index < len(y_true):
            title.append(f"Label: {label_map.get(y_true[index].item(), 'Unknown')}")
        if y_pred is not None and index < len(y_pred):
            title.append(f"Pred: {label_map.get(y_pred[index].item(), 'Unknown')}")
        if title:
            axis.set_title("  ".join(title), fontsize=8)
    if path is not None:
        fig.savefig(path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close(fig)
    elif show:
        plt.show()
        plt.close(fig)
    return fig


def plot_segmentation_mask_gallery(
    images,
    num_classes,
    value_range=(0, 255),
    y_true=None,
    y_pred=None,
    color_mapping=None,
    blend=True,
    alpha=0.8,
    ignore_index=-1,
    data_format=None,
    **kwargs,
):
    """One row per image: the image, then its true mask and its predicted mask drawn on it
    (``draw_segmentation_masks``), each when given."""
    x = _batched(images, data_format)
    draw = functools.partial(
        draw_segmentation_masks,
        num_classes=num_classes,
        color_mapping=color_mapping,
        alpha=alpha,
        ignore_index=ignore_index,
        blend=blend,
    )

    def masks(y):
        y = np.asarray(getattr(y, "data", y))
        if data_format == "channels_first":
            y = np.moveaxis(y, 1, -1)
        return draw(x, y.astype(np.int32))

    drawn = [masks(y) for y in (y_true, y_pred) if y is not None]
    gallery = [im for i in range(len(x)) for im in [x[i], *(d[i] for d in drawn)]]
    return plot_image_gallery(
        np.stack(gallery), value_range=value_range, rows=len(x), cols=1 + len(drawn), **kwargs
    )


def plot_bounding_box_gallery(
    images,
    bounding_box_format,
    y_true=None,
    y_pred=None,
    value_range=(0, 255),
    true_color=(0, 188, 212),
    pred_color=(255, 235, 59),
    line_thickness=2,
    font_scale=1.0,
    text_thickness=None,
    class_mapping=None,
    ground_truth_mapping=None,
    prediction_mapping=None,
    legend=False,
    legend_handles=None,
    rows=None,
    cols=None,
    data_format=None,
    **kwargs,
):
    """The images with the true boxes (``true_color``) and predicted boxes
    (``pred_color``) drawn on, as a gallery; ``legend`` adds a two-entry legend."""
    plotted = _batched(images, data_format)
    draw = functools.partial(
        draw_bounding_boxes,
        bounding_box_format=bounding_box_format,
        line_thickness=line_thickness,
        text_thickness=text_thickness,
        font_scale=font_scale,
    )
    if y_true is not None:
        plotted = draw(
            plotted, y_true, color=true_color, class_mapping=ground_truth_mapping or class_mapping
        )
    if y_pred is not None:
        plotted = draw(
            plotted, y_pred, color=pred_color, class_mapping=prediction_mapping or class_mapping
        )
    if legend:
        if legend_handles:
            raise ValueError(
                "Only pass `legend` OR `legend_handles` to plot_bounding_box_gallery()."
            )
        from matplotlib import patches

        legend_handles = [
            patches.Patch(color=tuple(np.array(true_color) / 255.0), label="Ground Truth"),
            patches.Patch(color=tuple(np.array(pred_color) / 255.0), label="Prediction"),
        ]
    if y_true is not None or y_pred is not None:
        value_range = (0, 255)  # drawing made uint8 images
    return plot_image_gallery(
        plotted,
        value_range=value_range,
        legend_handles=legend_handles,
        rows=rows,
        cols=cols,
        **kwargs,
    )
