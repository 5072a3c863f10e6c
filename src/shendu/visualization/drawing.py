"""Annotating image batches in NumPy: segmentation masks blended in colour, bounding boxes
as rectangles (with class labels through Pillow when a ``class_mapping`` is given)."""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor


def _numpy(x):
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _batched(images, data_format):
    images = _numpy(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}"
        )
    return np.moveaxis(images, 1, -1) if data_format == "channels_first" else images


def color_palette(num_classes):
    """Keras's default class colours: ``i * (2^25 - 1, 2^15 - 1, 2^21 - 1) mod 255``."""
    palette = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [(i * palette % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(
    images,
    segmentation_masks,
    num_classes=None,
    color_mapping=None,
    alpha=0.8,
    blend=True,
    ignore_index=-1,
    data_format=None,
):
    """Paint each pixel with its class's colour (class k of ``num_classes``, default the
    largest label); with ``blend``, ``(1 - alpha) image + alpha colour`` as uint8 where the
    mask is not ``ignore_index``. Masks (N, H, W, 1) or (N, H, W) of integers."""
    x = _batched(images, data_format).astype(np.float32)
    masks = _numpy(segmentation_masks)
    if data_format == "channels_first" and masks.ndim == 4:
        masks = np.moveaxis(masks, 1, -1)
    if masks.dtype.kind not in "iu":
        raise TypeError(
            "`segmentation_masks` must be in integer dtype. "
            f"Received: segmentation_masks.dtype={masks.dtype}"
        )
    if masks.ndim == 3:
        masks = masks[..., None]
    if num_classes is None:
        num_classes = int(masks.max())
    colors = (
        color_palette(num_classes)
        if color_mapping is None
        else [color_mapping[i] for i in range(num_classes)]
    )
    labels = masks[..., 0]
    painted = x.copy()
    for k, color in enumerate(colors):
        painted[labels == k] = np.asarray(color, np.float32)
    if not blend:
        return painted
    out = x * (1 - alpha) + painted * alpha
    out = np.where((labels != ignore_index)[..., None], out, x)
    return out.astype(np.uint8)


def to_xyxy(boxes, bounding_box_format, height, width):
    """Boxes (..., 4) in one of Keras's formats as absolute (x1, y1, x2, y2)."""
    boxes = np.asarray(boxes, np.float64)
    fmt = bounding_box_format.lower()
    relative = fmt.startswith("rel_")
    fmt = fmt[4:] if relative else fmt
    a, b, c, d = (boxes[..., i] for i in range(4))
    if fmt == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif fmt == "yxyx":
        y1, x1, y2, x2 = a, b, c, d
    elif fmt == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif fmt == "center_xywh":
        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    elif fmt == "center_yxhw":
        y1, x1, y2, x2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    else:
        raise ValueError(
            "`bounding_box_format` must be one of 'xyxy', 'yxyx', 'xywh', 'center_xywh', "
            f"'center_yxhw' or a 'rel_' form of them. Received: {bounding_box_format!r}"
        )
    if relative:
        x1, x2, y1, y2 = x1 * width, x2 * width, y1 * height, y2 * height
    return np.stack([x1, y1, x2, y2], axis=-1)


def _rectangle(image, x1, y1, x2, y2, color, thickness):
    """Draw a rectangle outline in place (clipped to the image)."""
    h, w = image.shape[:2]
    half = max(thickness, 1) // 2
    top, bottom = max(min(y1, y2) - half, 0), min(max(y1, y2) + half, h - 1)
    left, right = max(min(x1, x2) - half, 0), min(max(x1, x2) + half, w - 1)
    if top > bottom or left > right:
        return
    t = max(thickness, 1)
    color = np.asarray(color, image.dtype)[: image.shape[-1]]
    image[top : min(top + t, bottom + 1), left : right + 1] = color
    image[max(bottom - t + 1, top) : bottom + 1, left : right + 1] = color
    image[top : bottom + 1, left : min(left + t, right + 1)] = color
    image[top : bottom + 1, max(right - t + 1, left) : right + 1] = color


def _label(image, text, x, y, color, font_scale):
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError(
            "Drawing box labels needs Pillow, which is not installed. Install the extra: "
            "pip install 'shendu[image]' (or pass no class_mapping)"
        ) from None
    canvas = Image.fromarray(image.astype(np.uint8).squeeze(-1) if image.shape[-1] == 1 else image)
    font = ImageFont.load_default(size=max(int(12 * font_scale), 6))
    fill = tuple(int(c) for c in color) if image.shape[-1] == 3 else int(color[0])
    ImageDraw.Draw(canvas).text((x + 3, max(y - 14 * font_scale, 0)), text, fill=fill, font=font)
    drawn = np.asarray(canvas)
    image[...] = drawn[..., None] if image.shape[-1] == 1 else drawn


def draw_bounding_boxes(
    images,
    bounding_boxes,
    bounding_box_format,
    class_mapping=None,
    color=(128, 128, 128),
    line_thickness=2,
    text_thickness=1,
    font_scale=1.0,
    data_format=None,
):
    """Images (N, H, W, C) as uint8 (values in [0, 1] scaled by 255, others clipped to
    [0, 255]) with each box of ``bounding_boxes`` = {"boxes": (N, k, 4), "labels": (N, k),
    optionally "confidences"} drawn as a rectangle; boxes with label -1 are padding.
    With ``class_mapping`` ({class id: name}) each box is captioned "name | confidence"."""
    x = _batched(images, data_format)
    if not isinstance(bounding_boxes, dict):
        raise TypeError(
            "`bounding_boxes` should be a dict. "
            f"Received: bounding_boxes of type {type(bounding_boxes).__name__}"
        )
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(
            "`bounding_boxes` should be a dict containing 'boxes' and 'labels' keys. "
            f"Received keys: {sorted(bounding_boxes)}"
        )
    class_mapping = class_mapping or {}
    height, width = x.shape[1:3]
    boxes = to_xyxy(_numpy(bounding_boxes["boxes"]), bounding_box_format, height, width)
    labels = _numpy(bounding_boxes["labels"])
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else _numpy(confidences)
    x = x.astype(np.float64)
    x = np.clip(x, 0, 1) * 255 if x.max(initial=0) <= 1 else np.clip(x, 0, 255)
    out = x.astype(np.uint8)
    for i in range(len(out)):
        for j in range(boxes.shape[1]):
            c = int(labels[i, j])
            if c == -1:
                continue
            x1, y1, x2, y2 = (int(v) for v in boxes[i, j])
            _rectangle(out[i], x1, y1, x2, y2, color, line_thickness)
            if c in class_mapping:
                text = str(class_mapping[c])
                if confidences is not None:
                    text = f"{text} | {confidences[i, j]:.2f}"
                _label(out[i], text, x1, y1, color, font_scale)
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out
