"""Bounding boxes as Keras's ``keras.utils.bounding_boxes``: formats, clipping, affine maps,
crops, pads, IoU and CIoU, and the anchor deltas of single-stage detectors.

A box is 4 numbers on the last axis, in one of these formats (x across, y down, in pixels;
the ``rel_`` ones in fractions of the image's width and height):

- ``xyxy``: left, top, right, bottom; ``yxyx``: top, left, bottom, right;
- ``xywh``: left, top, width, height;
- ``center_xywh``: centre x, centre y, width, height; ``center_yxhw``: centre y, centre x,
  height, width;
- ``rel_xyxy``, ``rel_yxyx``, ``rel_xywh``, ``rel_center_xywh``.

Every function works on arrays or Tensors and computes with ``shendu.ops``, so a loss built
on ``compute_iou`` or ``compute_ciou`` is differentiable. A ``bounding_boxes`` dict holds
``"boxes"`` (..., k, 4) and ``"labels"`` (..., k); a label of -1 marks no box (a box
clipped to nothing gets it).
"""

from __future__ import annotations

import math

from .. import ops
from ..backend import epsilon

SUPPORTED_FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)


def _columns(boxes):
    return ops.split(boxes, 4, axis=-1)


def _join(columns):
    return ops.concatenate(list(columns), axis=-1)


def _to_xyxy(boxes, source, height, width):
    a, b, c, d = _columns(boxes)
    if source == "xyxy":
        return boxes
    if source == "yxyx":
        return _join([b, a, d, c])
    if source == "xywh":
        return _join([a, b, a + c, b + d])
    if source == "center_xywh":
        return _join([a - c / 2.0, b - d / 2.0, a + c / 2.0, b + d / 2.0])
    if source == "center_yxhw":
        return _join([b - d / 2.0, a - c / 2.0, b + d / 2.0, a + c / 2.0])
    if source == "rel_xyxy":
        return _join([a * width, b * height, c * width, d * height])
    if source == "rel_yxyx":
        return _join([b * width, a * height, d * width, c * height])
    if source == "rel_xywh":
        return _join([a * width, b * height, (a + c) * width, (b + d) * height])
    # rel_center_xywh
    return _join(
        [
            (a - c / 2.0) * width,
            (b - d / 2.0) * height,
            (a + c / 2.0) * width,
            (b + d / 2.0) * height,
        ]
    )


def _from_xyxy(boxes, target, height, width):
    x1, y1, x2, y2 = _columns(boxes)
    if target == "xyxy":
        return boxes
    if target == "yxyx":
        return _join([y1, x1, y2, x2])
    if target == "xywh":
        return _join([x1, y1, x2 - x1, y2 - y1])
    if target == "center_xywh":
        return _join([x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0, x2 - x1, y2 - y1])
    if target == "center_yxhw":
        return _join([y1 + (y2 - y1) / 2.0, x1 + (x2 - x1) / 2.0, y2 - y1, x2 - x1])
    if target == "rel_xyxy":
        return _join([x1 / width, y1 / height, x2 / width, y2 / height])
    if target == "rel_yxyx":
        return _join([y1 / height, x1 / width, y2 / height, x2 / width])
    if target == "rel_xywh":
        return _join([x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height])
    # rel_center_xywh
    return _join(
        [
            (x1 + (x2 - x1) / 2.0) / width,
            (y1 + (y2 - y1) / 2.0) / height,
            (x2 - x1) / width,
            (y2 - y1) / height,
        ]
    )


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """``boxes`` from the ``source`` format to the ``target`` one (the formats of the
    module docstring, any case).

    Args:
        boxes: boxes (..., 4), or a dict whose ``"boxes"`` are converted (in place, as
            Keras; the dict is returned).
        source: the format of ``boxes``.
        target: the format wanted.
        height: the image height, needed when either format is relative.
        width: the image width, needed when either format is relative.
        dtype: the dtype of the result.

    Returns:
        The converted boxes (or the dict holding them).
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    shape = ops.shape(boxes)
    if not shape or shape[-1] != 4:
        raise ValueError(
            f"`boxes` must be a tensor with the last dimension of 4. Received: boxes.shape={shape}"
        )
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Invalid source or target format. Supported formats: {SUPPORTED_FORMATS}. "
            f"Received: source={source!r}, target={target!r}"
        )
    if (source.startswith("rel_") or target.startswith("rel_")) and (
        width is None or height is None
    ):
        raise ValueError(
            "convert_format() must receive `height` and `width` to convert between relative "
            f"and absolute formats. Received: source={source!r}, target={target!r}, "
            f"height={height}, width={width}"
        )
    boxes = ops.cast(boxes, dtype)
    if source == target:
        return boxes
    if width is not None:
        width = ops.cast(width, dtype)
    if height is not None:
        height = ops.cast(height, dtype)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)


def _area_xyxy(boxes):
    x1, y1, x2, y2 = _columns(boxes)
    return ops.squeeze((x2 - x1) * (y2 - y1), axis=-1)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Boxes clipped to the image (0..width, 0..height; 0..1 for ``rel_xyxy``); a box left
    with no area gets the label -1.

    Args:
        bounding_boxes: a dict with ``"boxes"`` and optionally ``"labels"``.
        height: the image height (needed for ``xyxy``).
        width: the image width (needed for ``xyxy``).
        bounding_box_format: ``"xyxy"`` or ``"rel_xyxy"`` (Keras's two).

    Returns:
        A new dict with the clipped boxes and their labels.
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(
            "clip_to_image_size supports bounding_box_format 'xyxy' and 'rel_xyxy'. "
            f"Received: {bounding_box_format!r}"
        )
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    boxes = ops.convert_to_tensor(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    high_x, high_y = (width, height) if bounding_box_format == "xyxy" else (1.0, 1.0)
    x1, y1, x2, y2 = _columns(boxes)
    boxes = _join(
        [
            ops.clip(x1, 0, high_x),
            ops.clip(y1, 0, high_y),
            ops.clip(x2, 0, high_x),
            ops.clip(y2, 0, high_y),
        ]
    )
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if labels is not None:
        result["labels"] = ops.where(_area_xyxy(boxes) > 0, labels, -1)
    return result


def _inverse_affine_matrix(
    center_x, center_y, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width
):
    """(batch, 3, 3) matrices that map box points as Keras's image affine maps pixels
    (angles and shears in degrees, translations in fractions of the size, about the
    centre (center_x, center_y) in fractions of (width - 1, height - 1))."""
    angle, shear_x, shear_y = -angle, -shear_x, -shear_y
    cx = center_x * (width - 1)
    cy = center_y * (height - 1)
    rot = angle * (math.pi / 180.0)
    tx = -translate_x * (width - 1)
    ty = -translate_y * (height - 1)
    sx = shear_x * (math.pi / 180.0)
    sy = shear_y * (math.pi / 180.0)
    cos_sy = ops.cos(sy)
    tan_sx = ops.tan(sx)
    a = ops.cos(rot - sy) / cos_sy
    b = a * tan_sx + ops.sin(rot)
    c = -ops.sin(rot - sy) / cos_sy
    d = ops.cos(rot) - c * tan_sx
    a0, a1 = d * scale, -b * scale
    b0, b1 = -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    zeros, ones = ops.zeros_like(a0), ops.ones_like(a0)
    matrix = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, ones], axis=-1)
    return ops.reshape(matrix, (-1, 3, 3))


def affine_transform(
    boxes,
    angle,
    translate_x,
    translate_y,
    scale,
    shear_x,
    shear_y,
    height,
    width,
    center_x=None,
    center_y=None,
    bounding_box_format="xyxy",
):
    """Boxes (batch, k, 4) moved by a per-image affine map: each box's corners are mapped
    and the box becomes their bounding box.

    Args:
        boxes: ``xyxy`` boxes (batch, k, 4).
        angle: (batch,) rotations in degrees.
        translate_x: (batch,) shifts in fractions of the width.
        translate_y: (batch,) shifts in fractions of the height.
        scale: (batch,) scale factors.
        shear_x: (batch,) shears in degrees.
        shear_y: (batch,) shears in degrees.
        height: the image height.
        width: the image width.
        center_x: the centre's x in fractions of the width (0.5 when None).
        center_y: the centre's y in fractions of the height (0.5 when None).
        bounding_box_format: ``"xyxy"`` (Keras's only).

    Returns:
        The moved boxes (batch, k, 4), not clipped.
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(
            f"affine_transform supports bounding_box_format 'xyxy'. Received: "
            f"{bounding_box_format!r}"
        )
    angle, translate_x, translate_y, scale, shear_x, shear_y = (
        ops.cast(ops.convert_to_tensor(v), "float32")
        for v in (angle, translate_x, translate_y, scale, shear_x, shear_y)
    )
    matrix = _inverse_affine_matrix(
        0.5 if center_x is None else center_x,
        0.5 if center_y is None else center_y,
        angle,
        translate_x,
        translate_y,
        scale,
        shear_x,
        shear_y,
        height,
        width,
    )
    boxes = ops.cast(boxes, matrix.dtype)
    batch, k = ops.shape(boxes)[0], ops.shape(boxes)[1]
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    corners = ops.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=-1)
    corners = ops.reshape(corners, (batch, k, 4, 2))
    corners = ops.concatenate([corners, ops.ones((batch, k, 4, 1), corners.dtype)], axis=-1)
    moved = ops.einsum("bnxy,byz->bnxz", corners, ops.transpose(matrix[:, :2, :], (0, 2, 1)))
    return ops.concatenate([ops.min(moved, axis=2), ops.max(moved, axis=2)], axis=-1)


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """Boxes of an image cropped at (top, left) to height x width: shifted and clipped.

    Args:
        boxes: ``xyxy`` boxes (..., 4).
        top: the crop's first row.
        left: the crop's first column.
        height: the crop's height.
        width: the crop's width.
        bounding_box_format: ``"xyxy"`` (Keras's only).

    Returns:
        The boxes in the crop's coordinates.
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"crop supports 'xyxy'. Received: {bounding_box_format!r}")
    x1, y1, x2, y2 = _columns(boxes)
    return _join(
        [
            ops.clip(x1 - left, 0, width),
            ops.clip(y1 - top, 0, height),
            ops.clip(x2 - left, 0, width),
            ops.clip(y2 - top, 0, height),
        ]
    )


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """Boxes of an image padded by ``top`` rows and ``left`` columns: shifted.

    Args:
        boxes: ``xyxy`` boxes (..., 4).
        top: rows added above.
        left: columns added on the left.
        height: unused (Keras's signature).
        width: unused (Keras's signature).
        bounding_box_format: ``"xyxy"`` (Keras's only).

    Returns:
        The shifted boxes.
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"pad supports 'xyxy'. Received: {bounding_box_format!r}")
    x1, y1, x2, y2 = _columns(boxes)
    return _join([x1 + left, y1 + top, x2 + left, y2 + top])


def _image_size(image_shape):
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def compute_iou(
    boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1, image_shape=None
):
    """The intersection over union of every pair of boxes: area(a & b) / area(a | b).

    Args:
        boxes1: (M, 4) or (batch, M, 4) boxes.
        boxes2: (N, 4) or (batch, N, 4) boxes.
        bounding_box_format: the format of both.
        use_masking: give ``mask_val`` to the pairs with a box whose 4 values are all
            negative (padding).
        mask_val: the value of masked pairs.
        image_shape: (height, width, channels), needed for relative formats.

    Returns:
        The IoUs (M, N), or (batch, M, N) when either is batched.
    """
    rank1, rank2 = len(ops.shape(boxes1)), len(ops.shape(boxes2))
    for name, rank in (("boxes1", rank1), ("boxes2", rank2)):
        if rank not in (2, 3):
            raise ValueError(
                f"compute_iou() expects {name} to be batched (rank 3) or unbatched (rank 2). "
                f"Received: len(boxes1.shape)={rank1}, len(boxes2.shape)={rank2}"
            )
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` "
            f"argument must be provided. Received `image_shape`: {image_shape}"
        )
    height, width = _image_size(image_shape)
    b1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    b2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width)
    swap = (1, 0) if rank2 == 2 else (0, 2, 1)
    x1a, y1a, x2a, y2a = _columns(b1)
    x1b, y1b, x2b, y2b = (ops.transpose(c, swap) for c in _columns(b2))
    inter_h = ops.maximum(ops.minimum(y2a, y2b) - ops.maximum(y1a, y1b), 0.0)
    inter_w = ops.maximum(ops.minimum(x2a, x2b) - ops.maximum(x1a, x1b), 0.0)
    intersection = inter_h * inter_w
    area1 = ops.expand_dims(_area_xyxy(b1), -1)
    area2 = ops.expand_dims(_area_xyxy(b2), 1 if rank2 == 3 else 0)
    iou = intersection / (area1 + area2 - intersection + epsilon())
    if not use_masking:
        return iou
    swap1 = (1, 0) if rank1 == 2 else (0, 2, 1)
    padding1 = ops.max(b1, axis=-1, keepdims=True) < 0.0
    padding2 = ops.transpose(ops.max(b2, axis=-1, keepdims=True) < 0.0, swap1)
    return ops.where(ops.logical_or(padding1, padding2), float(mask_val), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """The complete IoU of boxes paired elementwise: IoU minus the squared distance of the
    centres over the squared diagonal of the enclosing box, minus alpha * v, where
    v = 4 / pi^2 (atan(w2 / h2) - atan(w1 / h1))^2 compares the aspect ratios and
    alpha = v / (v - IoU + 1). 1 - CIoU is the CIoU loss.

    Args:
        boxes1: boxes (..., 4).
        boxes2: boxes (..., 4), paired with ``boxes1`` (broadcast).
        bounding_box_format: the format of both (not a relative one, as Keras).
        image_shape: unused for absolute formats (Keras's signature).

    Returns:
        The CIoU of each pair (...).
    """
    if "rel" in bounding_box_format:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` "
            f"argument must be provided. Received `image_shape`: {image_shape}"
        )
    height, width = _image_size(image_shape)
    x1a, y1a, x2a, y2a = _columns(
        convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    )
    x1b, y1b, x2b, y2b = _columns(
        convert_format(boxes2, bounding_box_format, "xyxy", height, width)
    )
    eps = epsilon()
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    intersection = ops.maximum(ops.minimum(x2a, x2b) - ops.maximum(x1a, x1b), 0) * ops.maximum(
        ops.minimum(y2a, y2b) - ops.maximum(y1a, y1b), 0
    )
    union = w1 * h1 + w2 * h2 - intersection + eps
    iou = ops.squeeze(intersection / (union + eps), axis=-1)
    enclosing_w = ops.maximum(x2a, x2b) - ops.minimum(x1a, x1b)
    enclosing_h = ops.maximum(y2a, y2b) - ops.minimum(y1a, y1b)
    diagonal = ops.squeeze(enclosing_w**2 + enclosing_h**2 + eps, axis=-1)
    centres = ops.squeeze(
        ((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2 + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2,
        axis=-1,
    )
    v = ops.squeeze(4 / math.pi**2 * (ops.arctan(w2 / h2) - ops.arctan(w1 / h1)) ** 2, axis=-1)
    alpha = v / (v - iou + (1 + eps))
    return iou - (centres / diagonal + v * alpha)


def _check_variance(variance):
    if variance is None:
        return None
    variance = ops.convert_to_tensor(variance, "float32")
    if variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def encode_box_to_deltas(
    anchors,
    boxes,
    anchor_format,
    box_format,
    encoding_format="center_yxhw",
    variance=None,
    image_shape=None,
):
    """The regression targets of ``boxes`` against ``anchors``: in the encoding format's
    centre form, ((c_box - c_anchor) / size_anchor, log(size_box / size_anchor)), divided
    by ``variance``.

    Args:
        anchors: the anchors (..., 4).
        boxes: the boxes (..., 4), one per anchor.
        anchor_format: the anchors' format.
        box_format: the boxes' format.
        encoding_format: ``"center_yxhw"`` or ``"center_xywh"``.
        variance: 4 scales dividing the deltas (None: 1).
        image_shape: (height, width, channels), needed for relative formats.

    Returns:
        The deltas (..., 4).
    """
    variance = _check_variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            "`encoding_format` should be one of 'center_xywh' or 'center_yxhw', "
            f"got {encoding_format}"
        )
    height, width = _image_size(image_shape)
    encoded_anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    encoded_boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_size = ops.maximum(encoded_anchors[..., 2:], epsilon())
    box_size = ops.maximum(encoded_boxes[..., 2:], epsilon())
    deltas = ops.concatenate(
        [
            (encoded_boxes[..., :2] - encoded_anchors[..., :2]) / anchor_size,
            ops.log(box_size / anchor_size),
        ],
        axis=-1,
    )
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(
    anchors,
    boxes_delta,
    anchor_format,
    box_format,
    encoded_format="center_yxhw",
    variance=None,
    image_shape=None,
):
    """The boxes that ``encode_box_to_deltas`` encoded: the inverse map (dicts of levels
    decode level by level).

    Args:
        anchors: the anchors (..., 4), or a dict of them per level.
        boxes_delta: the deltas (..., 4), or a dict of them per level.
        anchor_format: the anchors' format.
        box_format: the format of the boxes returned.
        encoded_format: ``"center_yxhw"`` or ``"center_xywh"``.
        variance: the 4 scales the deltas were divided by (None: 1).
        image_shape: (height, width, channels), needed for relative formats.

    Returns:
        The boxes (..., 4), or a dict of them per level.
    """
    variance = _check_variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            "`encoded_format` should be 'center_xywh' or 'center_yxhw', "
            f"but got '{encoded_format}'."
        )
    height, width = _image_size(image_shape)

    def decode(anchor, delta):
        encoded_anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        if variance is not None:
            delta = delta * variance
        box = ops.concatenate(
            [
                delta[..., :2] * encoded_anchor[..., 2:] + encoded_anchor[..., :2],
                ops.exp(delta[..., 2:]) * encoded_anchor[..., 2:],
            ],
            axis=-1,
        )
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)
