"""The base of the image augmentation layers: a random draw, then a transformation.

Each augmentation splits in two, as in Keras: ``random_transformation(images)`` draws the
random parameters for a batch (angles, masks, mixing weights) and
``transform_images(images, transformation)`` applies them. Composite layers (RandAugment,
AugMix, RandomColorJitter) draw from their parts and apply them in turn.

Inputs are images ``(N, H, W, C)`` or one image ``(H, W, C)`` (``channels_first`` is moved
to the last axis and back), or Keras's dict ``{"images": ..., "labels": ...}`` whose labels
the mixing layers (MixUp, CutMix) mix as they mix the images; other keys pass through.

A dict may also carry ``"bounding_boxes"`` (``{"boxes": (N, k, 4), "labels": (N, k)}`` in
the layer's ``bounding_box_format``) and ``"segmentation_masks"`` (N, H, W, 1): the layers
that move pixels move them too (``transform_bounding_boxes``, and the masks by the image
transformation with nearest sampling). Boxes are then clipped to the image and a box left
with no area gets the label -1, as Keras does. A layer that moves pixels and cannot move
them refuses such a dict rather than return targets that no longer match the images.

As in Keras, ``call`` defaults to ``training=True``: a layer called on its own augments;
``predict``/``evaluate`` and ``training=False`` leave the images as they are. The layers
are not differentiable (they transform data, not parameters) and compute in float32 (the
layer's dtype), whatever the input's dtype.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .base import Layer, same_shape


def as_array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def parse_factor(factor, bounds=(-1.0, 1.0), name="factor"):
    """Keras's factor rule: a number f gives (max(-|f|, low bound), |f|); a pair is sorted.

    Raises ValueError naming the bounds when the factor lies outside them."""
    message = (
        f"The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{bounds[0]}, {bounds[1]}]. Received: {name}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        low, high = sorted(factor)
        return low, high
    if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(message)
        return max(-abs(float(factor)), bounds[0]), abs(float(factor))
    raise ValueError(message)


def parse_value_range(value_range):
    """``value_range`` as a sorted (low, high) pair; ValueError for anything else."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            "The `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value_range}"
        )
    low, high = sorted(value_range)
    return low, high


def rescale(images, source, target):
    """Map values linearly from the ``source`` range onto the ``target`` range."""
    scale = (target[1] - target[0]) / (source[1] - source[0])
    return (images - source[0]) * scale + target[0]


def batch_uniform(rng, low, high, n, dtype=np.float32):
    return rng.uniform(low, high, size=n).astype(dtype)


def apply_where(apply, transformed, images):
    """Per image: the transformed image where ``apply`` (N,) is True, else the original."""
    return np.where(np.asarray(apply)[:, None, None, None], transformed, images)


def check_image_size(layer, images):
    """Refuse a batch of images (N, H, W, C) with no pixels: a clear error instead of an
    index or division error deep in a transformation."""
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(
            f"Layer {layer.name!r} expects images of at least 1x1 pixels. "
            f"Received: images of height {images.shape[1]} and width {images.shape[2]}"
        )


def box_format_of(kwargs):
    """The ``bounding_box_format`` of a layer's keyword arguments (taken out of them), as
    Keras's image layers take it: one of the formats of ``utils.bounding_boxes``, or None."""
    from ..utils.bounding_boxes import SUPPORTED_FORMATS

    box_format = kwargs.pop("bounding_box_format", None)
    if box_format is not None and str(box_format).lower() not in SUPPORTED_FORMATS:
        raise ValueError(
            f"`bounding_box_format` must be one of {SUPPORTED_FORMATS}. "
            f"Received: bounding_box_format={box_format!r}"
        )
    return None if box_format is None else str(box_format).lower()


def boxes_in(layer, bounding_boxes, single, height, width):
    """The dict's boxes as ``xyxy`` float arrays in pixels (N, k, 4) and their labels
    (N, k) (None when the dict has none), for images of ``height`` x ``width``."""
    from ..utils import bounding_boxes as bb

    if layer.bounding_box_format is None:
        raise ValueError(
            "You passed an input with a 'bounding_boxes' key, but you didn't specify a "
            f"bounding box format. Pass a `bounding_box_format` argument to your "
            f"{type(layer).__name__} layer, e.g. `bounding_box_format='xyxy'`."
        )
    if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes:
        raise ValueError(
            "`bounding_boxes` must be a dict with 'boxes' (and 'labels'). Received: "
            f"{type(bounding_boxes).__name__}"
            + (f" with keys {sorted(bounding_boxes)}" if isinstance(bounding_boxes, dict) else "")
        )
    boxes = np.asarray(as_array(bounding_boxes["boxes"]), dtype=np.float32)
    if boxes.ndim != (2 if single else 3) or boxes.shape[-1] != 4:
        expected = "(k, 4) for one image" if single else "(batch, k, 4)"
        raise ValueError(
            f"Layer {layer.name!r}: bounding_boxes['boxes'] must have shape {expected}. "
            f"Received: shape {boxes.shape}"
        )
    labels = bounding_boxes.get("labels")
    labels = None if labels is None else np.asarray(as_array(labels))
    if single:
        boxes = boxes[None]
        labels = None if labels is None else labels[None]
    xyxy = bb.convert_format(boxes, layer.bounding_box_format, "xyxy", height, width)
    return np.asarray(xyxy.data, dtype=np.float32), labels


def boxes_out(layer, given, boxes, labels, single, height, width):
    """The moved ``xyxy`` boxes clipped to the output image (a box left with no area gets
    the label -1) and converted back to the layer's format, in the dict given."""
    from ..utils import bounding_boxes as bb

    boxes = np.clip(boxes, 0.0, [width, height, width, height]).astype(np.float32)
    if labels is not None:
        area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
        labels = np.where(area > 0, labels, -1).astype(labels.dtype, copy=False)
    boxes = np.asarray(
        bb.convert_format(boxes, "xyxy", layer.bounding_box_format, height, width).data
    )
    out = dict(given)
    out["boxes"] = Tensor.wrap(boxes[0] if single else boxes)
    if labels is not None:
        out["labels"] = Tensor.wrap(labels[0] if single else labels)
    return out


def carry_targets(layer, inputs, out, move_boxes, move_masks):
    """Into ``out`` (the output dict, holding the transformed images): the input dict's
    bounding boxes moved by ``move_boxes(xyxy boxes (N, k, 4), height, width)`` and its
    segmentation masks by ``move_masks(masks (N, H, W, C))``, in the layer's data format,
    one image or a batch as the images came."""
    last = getattr(layer, "data_format", "channels_last") == "channels_first"

    def batch_last(x, single):
        x = x[None] if single else x
        return np.moveaxis(x, -3, -1) if last else x

    in_images = as_array(inputs["images"])
    single = in_images.ndim == 3
    in_h, in_w = batch_last(in_images, single).shape[1:3]
    height, width = batch_last(as_array(out["images"]), single).shape[1:3]
    if "bounding_boxes" in inputs:
        boxes, labels = boxes_in(layer, inputs["bounding_boxes"], single, in_h, in_w)
        moved = np.asarray(move_boxes(boxes, in_h, in_w), dtype=np.float32)
        out["bounding_boxes"] = boxes_out(
            layer, inputs["bounding_boxes"], moved, labels, single, height, width
        )
    if "segmentation_masks" in inputs:
        masks = as_array(inputs["segmentation_masks"])
        moved = np.asarray(move_masks(batch_last(masks, single))).astype(masks.dtype, copy=False)
        moved = np.moveaxis(moved, -1, -3) if last else moved
        out["segmentation_masks"] = Tensor.wrap(moved[0] if single else moved)


class ImageAugmentation(Layer):
    """Base of the image augmentation layers (see the module docstring).

    Subclasses define ``random_transformation(images)`` (None when nothing is random) and
    ``transform_images(images, transformation)`` on float arrays (N, H, W, C); the mixing
    layers also ``transform_labels(labels, transformation)``."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        self.bounding_box_format = box_format_of(kwargs)
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                "`data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format!r}"
            )
        self.seed = seed
        self.data_format = data_format or "channels_last"
        self.generator = backend.make_generator(seed) if seed is not None else None

    #: whether the layer transforms at inference too (AutoContrast, as in Keras)
    always_applies = False

    #: whether the layer moves pixels (flips, crops, affine and elastic maps, mixes):
    #: bounding boxes and segmentation masks would have to move with them
    moves_pixels = False

    def _rng(self):
        return self.generator if self.generator is not None else backend.generator()

    def expected_ndim(self):
        return (3, 4)

    compute_output_shape = same_shape

    def random_transformation(self, images):
        return None

    def transform_images(self, images, transformation):
        raise NotImplementedError

    def transform_labels(self, labels, transformation):
        return labels

    def transform_bounding_boxes(self, boxes, transformation, height, width):
        """``xyxy`` boxes in pixels (N, k, 4) of images of ``height`` x ``width`` moved as
        ``transform_images`` moves the pixels (not clipped). Layers that move pixels define
        it; None here: the layer leaves boxes where they are (or cannot move them)."""
        return None

    def transform_segmentation_masks(self, masks, transformation):
        """Masks (N, H, W, C) moved as the images, sampled at the nearest pixel. Layers
        that move pixels define it; None here."""
        return None

    def _moves(self, name):
        return getattr(type(self), name) is not getattr(ImageAugmentation, name)

    def _to_last(self, x):
        return np.moveaxis(x, -3, -1) if self.data_format == "channels_first" else x

    def _from_last(self, x):
        return np.moveaxis(x, -1, -3) if self.data_format == "channels_first" else x

    def _augment_batch(self, images, labels=None, kept=None):
        """(images, labels) augmented: images as given (rank 3 or 4, own data format).
        ``kept`` (a dict) receives the transformation drawn."""
        x = as_array(images)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"Layer {self.name!r} expects images of rank 3 (one image) or 4 (a batch). "
                f"Received: images.shape={x.shape}"
            )
        single = x.ndim == 3
        x = self._to_last(x[None] if single else x).astype(self.dtype, copy=False)
        check_image_size(self, x)
        transformation = self.random_transformation(x)
        if kept is not None:
            kept["transformation"] = transformation
        y = self.transform_images(x, transformation).astype(self.dtype, copy=False)
        y = self._from_last(y)
        if labels is not None:
            lab = as_array(labels)
            lab = lab[None] if single else lab
            lab = np.asarray(self.transform_labels(lab.astype(self.dtype), transformation))
            labels = lab[0] if single else lab
        return (y[0] if single else y), labels

    def refuse_moved_targets(self, inputs):
        """Refuse a dict input whose bounding boxes or segmentation masks this layer would
        leave behind when it moves the pixels (a silent wrong label otherwise)."""
        movers = {
            "bounding_boxes": "transform_bounding_boxes",
            "segmentation_masks": "transform_segmentation_masks",
        }
        carried = sorted(k for k in movers if k in inputs and not self._moves(movers[k]))
        if self.moves_pixels and carried:
            raise ValueError(
                f"Layer {self.name!r} moves pixels, and shendu does not move "
                f"{' or '.join(carried)} with them yet (Keras does): they would no "
                "longer match the images. Augment the images and their targets "
                "together yourself, or use an augmentation that keeps pixels in place "
                "(brightness, contrast, colour, noise). Received keys: "
                f"{sorted(inputs)}"
            )

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            if "images" not in inputs:
                raise ValueError(
                    f"Layer {self.name!r}: a dict input needs an 'images' key. "
                    f"Received keys: {sorted(inputs)}"
                )
            if not (training or self.always_applies):
                return dict(inputs)
            self.refuse_moved_targets(inputs)
            kept: dict = {}
            images, labels = self._augment_batch(inputs["images"], inputs.get("labels"), kept)
            out = dict(inputs)
            out["images"] = Tensor.wrap(images)
            if labels is not None:
                out["labels"] = Tensor.wrap(labels)
            if self.moves_pixels:
                self._carry_targets(inputs, out, kept["transformation"])
            return out
        if not (training or self.always_applies):
            return inputs
        images, _ = self._augment_batch(inputs)
        return Tensor.wrap(images)

    def _carry_targets(self, inputs, out, transformation):
        """Move the dict's boxes and masks with the pixels (``out`` holds the images)."""
        carry_targets(
            self,
            inputs,
            out,
            lambda boxes, h, w: self.transform_bounding_boxes(boxes, transformation, h, w),
            lambda masks: self.transform_segmentation_masks(masks, transformation),
        )

    #: whether the class takes a ``seed`` (the deterministic ones do not, as in Keras)
    takes_seed = True

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.takes_seed:
            config["seed"] = self.seed
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


class ProbabilityAugmentation(ImageAugmentation):
    """An augmentation applied to each image with a probability itself drawn per image from
    ``factor`` (in [0, 1]; a number f gives [0, f]), as Keras's probabilistic layers."""

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = parse_factor(factor, (0, 1))

    def draw_apply(self, n):
        """(n,) booleans: apply to image i when u_i < p_i, p_i drawn from ``factor``."""
        rng = self._rng()
        probability = rng.uniform(*self.factor, size=n)
        return rng.uniform(0.0, 1.0, size=n) < probability

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


def sample(images, src_y, src_x, fill_mode, fill_value, interpolation):
    """Sample images (N, H, W, C) at per-image source coordinates (N, H, W)."""
    n, h, w, c = images.shape

    def fix(coord, size):
        # reflect and wrap land in [-0.5, size - 0.5]: the half pixel at each border takes
        # the border's value (clipped, so that bilinear weights never extrapolate)
        if fill_mode == "reflect":
            period = 2 * size
            coord = np.mod(coord + 0.5, period) - 0.5
            coord = np.where(coord > size - 0.5, period - 1 - coord, coord)
            return np.clip(coord, 0, size - 1), None
        if fill_mode == "wrap":
            return np.clip(np.mod(coord + 0.5, size) - 0.5, 0, size - 1), None
        if fill_mode == "nearest":
            return np.clip(coord, 0, size - 1), None
        outside = (coord < -0.5) | (coord > size - 0.5)
        return np.clip(coord, 0, size - 1), outside

    y, out_y = fix(src_y, h)
    x, out_x = fix(src_x, w)
    batch = np.arange(n)[:, None, None]
    if interpolation == "nearest":
        yi = np.clip(np.rint(y).astype(int), 0, h - 1)
        xi = np.clip(np.rint(x).astype(int), 0, w - 1)
        out = images[batch, yi, xi]
    else:
        y0 = np.clip(np.floor(y).astype(int), 0, h - 1)
        x0 = np.clip(np.floor(x).astype(int), 0, w - 1)
        y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
        wy, wx = (y - y0)[..., None], (x - x0)[..., None]
        out = (
            images[batch, y0, x0] * (1 - wy) * (1 - wx)
            + images[batch, y0, x1] * (1 - wy) * wx
            + images[batch, y1, x0] * wy * (1 - wx)
            + images[batch, y1, x1] * wy * wx
        )
    if out_y is not None:
        outside = (out_y | out_x)[..., None]
        out = np.where(outside, fill_value, out)
    return out.astype(images.dtype)
