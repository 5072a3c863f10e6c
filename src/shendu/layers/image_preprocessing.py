"""Image preprocessing layers: flips, affine maps (rotation, zoom, translation), contrast,
brightness, crops and resizing. The augmentations follow ``image_augmentation``'s
two-phase protocol (a random draw, then its application)."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from .base import Layer
from .image_augmentation import (
    ImageAugmentation,
    as_array,
    box_format_of,
    carry_targets,
    check_image_size,
    sample,
)


def _factor_range(factor, name):
    lo, hi = (-factor, factor) if isinstance(factor, (int, float, np.number)) else tuple(factor)
    if lo > hi:
        raise ValueError(f"`{name}` lower bound exceeds the upper bound. Received: {factor}")
    return float(lo), float(hi)


class RandomFlip(ImageAugmentation):
    """Flip images left-right and/or up-down with probability 1/2 each.

    Args:
        mode: "horizontal", "vertical" or "horizontal_and_vertical".
        seed: the seed of the layer's own generator.
        data_format: "channels_last", the default, or "channels_first".
        **kwargs: the Layer options, and ``bounding_box_format`` for dict inputs with boxes.
    """

    moves_pixels = True

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip: unknown `mode`. Received: mode={mode!r}")
        self.mode = mode

    def random_transformation(self, images):
        rng, n = self._rng(), len(images)
        horizontal = rng.random(n) < 0.5 if "horizontal" in self.mode else np.zeros(n, bool)
        vertical = rng.random(n) < 0.5 if "vertical" in self.mode else np.zeros(n, bool)
        return horizontal, vertical

    def transform_images(self, images, transformation):
        horizontal, vertical = transformation
        out = images.copy()
        out[horizontal] = out[horizontal][:, :, ::-1]
        out[vertical] = out[vertical][:, ::-1]
        return out

    def transform_segmentation_masks(self, masks, transformation):
        return self.transform_images(masks, transformation)

    def transform_bounding_boxes(self, boxes, transformation, height, width):
        """x -> width - x for the images flipped left-right, y -> height - y for those
        flipped up-down (corners swapped, so x1 <= x2 stays)."""
        horizontal, vertical = transformation
        out = boxes.copy()
        out[horizontal, :, 0] = width - boxes[horizontal, :, 2]
        out[horizontal, :, 2] = width - boxes[horizontal, :, 0]
        out[vertical, :, 1] = height - boxes[vertical, :, 3]
        out[vertical, :, 3] = height - boxes[vertical, :, 1]
        return out

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _Affine(ImageAugmentation):
    moves_pixels = True

    def params(self, n, h, w):
        """The random transformation of ``n`` images of ``h`` x ``w`` (each layer defines
        it)."""
        raise NotImplementedError

    def __init__(
        self,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed, data_format, **kwargs)
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise ValueError(f"Unknown `fill_mode`. Received: fill_mode={fill_mode!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Unknown `interpolation`. Received: {interpolation!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def random_transformation(self, images):
        n, h, w, _ = images.shape
        return self.params(n, h, w)

    def transform_images(self, x, transformation, interpolation=None):
        n, h, w, _ = x.shape
        yy, xx = np.meshgrid(
            np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij"
        )
        cy, cx = (h - 1) / 2, (w - 1) / 2
        a, _, ty, tx = transformation  # source = A (dst - centre) + centre + t
        dy, dx = yy[None] - cy, xx[None] - cx
        src_y = a[:, 0, 0, None, None] * dy + a[:, 0, 1, None, None] * dx + cy + ty[:, None, None]
        src_x = a[:, 1, 0, None, None] * dy + a[:, 1, 1, None, None] * dx + cx + tx[:, None, None]
        how = interpolation or self.interpolation
        return sample(x, src_y, src_x, self.fill_mode, self.fill_value, how)

    def transform_segmentation_masks(self, masks, transformation):
        return self.transform_images(masks, transformation, interpolation="nearest")

    def transform_bounding_boxes(self, boxes, transformation, height, width):
        """Each box's corners through the inverse of the sampling map,
        dst = A^-1 (src - centre - t) + centre (box coordinates taken as pixel indices, as
        Keras maps boxes), and the box around them."""
        a, _, ty, tx = transformation
        cy, cx = (height - 1) / 2, (width - 1) / 2
        inverse = np.linalg.inv(a)  # (n, 2, 2), on (y, x)
        x1, y1, x2, y2 = (boxes[..., i].astype(np.float64) for i in range(4))
        corner_y = np.stack([y1, y1, y2, y2], -1) - cy - ty[:, None, None]
        corner_x = np.stack([x1, x2, x1, x2], -1) - cx - tx[:, None, None]
        inv = inverse[:, None, None]  # broadcast over boxes and corners
        new_y = inv[..., 0, 0] * corner_y + inv[..., 0, 1] * corner_x + cy
        new_x = inv[..., 1, 0] * corner_y + inv[..., 1, 1] * corner_x + cx
        return np.stack(
            [new_x.min(-1), new_y.min(-1), new_x.max(-1), new_y.max(-1)], axis=-1
        ).astype(np.float32)

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


def _eye(n):
    return np.repeat(np.eye(2)[None], n, axis=0)


class RandomRotation(_Affine):
    """Rotate by a random angle in factor * 2 pi (factor a float or a (lo, hi) pair)."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.range = _factor_range(factor, "factor")

    def params(self, n, h, w):
        theta = self._rng().uniform(*self.range, size=n) * 2 * np.pi
        c, s = np.cos(theta), np.sin(theta)
        a = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], 1)
        return a, None, np.zeros(n), np.zeros(n)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_Affine):
    """Zoom by a random factor: height_factor 0.2 means between 80% and 120% (Keras's sign:
    a positive value zooms out)."""

    def __init__(self, height_factor, width_factor=None, **kwargs):
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.h_range = _factor_range(height_factor, "height_factor")
        self.w_range = (
            None if width_factor is None else _factor_range(width_factor, "width_factor")
        )

    def params(self, n, h, w):
        rng = self._rng()
        zy = 1 + rng.uniform(*self.h_range, size=n)
        zx = zy if self.w_range is None else 1 + rng.uniform(*self.w_range, size=n)
        a = np.zeros((n, 2, 2))
        a[:, 0, 0], a[:, 1, 1] = zy, zx
        return a, None, np.zeros(n), np.zeros(n)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


class RandomTranslation(_Affine):
    """Shift by random fractions of the height and width."""

    def __init__(self, height_factor, width_factor, **kwargs):
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.h_range = _factor_range(height_factor, "height_factor")
        self.w_range = _factor_range(width_factor, "width_factor")

    def params(self, n, h, w):
        rng = self._rng()
        return (
            _eye(n),
            None,
            -rng.uniform(*self.h_range, size=n) * h,
            -rng.uniform(*self.w_range, size=n) * w,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


class RandomContrast(ImageAugmentation):
    """(x - mean) * f + mean per image and channel, f in [1 - factor, 1 + factor] (a pair
    (lower, upper) gives [1 - lower, 1 + upper], as Keras)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor
        if np.isscalar(factor):
            self.range = _factor_range(factor, "factor")
        else:
            lower, upper = (float(f) for f in factor)
            self.range = (-lower, upper)
        self.value_range = tuple(value_range)

    def random_transformation(self, images):
        return 1 + self._rng().uniform(*self.range, size=(len(images), 1, 1, 1))

    def transform_images(self, x, f):
        mean = x.mean(axis=(1, 2), keepdims=True)
        return np.clip((x - mean) * f + mean, *self.value_range).astype(x.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": list(self.value_range),
        }


class RandomBrightness(ImageAugmentation):
    """Add a random delta of factor * (value range) to each image."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor
        self.range = _factor_range(factor, "factor")
        self.value_range = tuple(value_range)

    def random_transformation(self, images):
        span = self.value_range[1] - self.value_range[0]
        return self._rng().uniform(*self.range, size=(len(images), 1, 1, 1)) * span

    def transform_images(self, x, delta):
        return np.clip(x + delta, *self.value_range).astype(x.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": list(self.value_range),
        }


def _box_format_config(layer):
    """``{"bounding_box_format": ...}`` when the layer has one (Keras's config), else {}."""
    box_format = layer.bounding_box_format
    return {} if box_format is None else {"bounding_box_format": box_format}


def _resize(x, height, width, interpolation):
    n, h, w, _ = x.shape
    ys = (np.arange(height) + 0.5) * h / height - 0.5
    xs = (np.arange(width) + 0.5) * w / width - 0.5
    src_y = np.broadcast_to(ys[None, :, None], (n, height, width))
    src_x = np.broadcast_to(xs[None, None, :], (n, height, width))
    return sample(x, src_y, src_x, "nearest", 0.0, interpolation)


class RandomCrop(ImageAugmentation):
    """A random height x width crop when training; a resize to it at inference (Keras)."""

    moves_pixels = True

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width) + shape[-1:]

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):  # boxes and masks move with the crop (or the resize)
            images = as_array(inputs["images"])
            single = images.ndim == 3
            corners = self._corners(images[None] if single else images, training)
            out = {**inputs, "images": self._crop(inputs["images"], corners)}

            def move_boxes(boxes, h, w):
                if corners is None:  # inference: a resize to height x width
                    return boxes * np.asarray([self.width / w, self.height / h] * 2, np.float32)
                shift = np.stack([corners[1], corners[0]] * 2, axis=-1)[:, None]
                return boxes - shift

            carry_targets(self, inputs, out, move_boxes, lambda m: self._crop_last(m, corners))
            return out
        x = as_array(inputs)
        single = x.ndim == 3
        return self._crop(inputs, self._corners(x[None] if single else x, training))

    def _corners(self, x, training):
        """(tops, lefts) of a training crop per image, or None at inference (a resize)."""
        if not training:
            return None
        n, h, w, _ = x.shape
        if h < self.height or w < self.width:
            raise ValueError(
                f"Layer {self.name!r}: crop {(self.height, self.width)} is larger than "
                f"the images {(h, w)}"
            )
        rng = self._rng()
        tops, lefts = np.empty(n, int), np.empty(n, int)
        for i in range(n):
            tops[i] = rng.integers(0, h - self.height + 1)
            lefts[i] = rng.integers(0, w - self.width + 1)
        return tops, lefts

    def _crop_last(self, x, corners, interpolation="nearest"):
        if corners is None:
            return _resize(x, self.height, self.width, interpolation)
        tops, lefts = corners
        out = np.empty((len(x), self.height, self.width, x.shape[-1]), x.dtype)
        for i, (top, left) in enumerate(zip(tops, lefts)):
            out[i] = x[i, top : top + self.height, left : left + self.width]
        return out

    def _crop(self, images, corners):
        x = as_array(images)
        single = x.ndim == 3
        out = self._crop_last(x[None] if single else x, corners, "bilinear")
        return Tensor.wrap(out[0] if single else out)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class Resizing(Layer):
    """Resize images to height x width, always (not only in training), with Keras's
    ``ops.image.resize``: its interpolations (bilinear, nearest, bicubic, lanczos3,
    lanczos5), ``antialias``, and ``crop_to_aspect_ratio`` (the largest centred crop of
    the target's aspect ratio first) or ``pad_to_aspect_ratio`` (padding with
    ``fill_value`` instead). Differentiable: a Resizing inside a network passes gradients."""

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        self.bounding_box_format = box_format_of(kwargs)
        super().__init__(**kwargs)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True. "
                f"Received: crop_to_aspect_ratio={crop_to_aspect_ratio}, "
                f"pad_to_aspect_ratio={pad_to_aspect_ratio}"
            )
        self.height, self.width, self.interpolation = int(height), int(width), interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = (
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
        )
        self.fill_mode, self.fill_value, self.antialias = fill_mode, fill_value, antialias
        self.data_format = data_format or "channels_last"

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.data_format == "channels_first":
            return shape[:-2] + (self.height, self.width)
        return shape[:-3] + (self.height, self.width) + shape[-1:]

    def call(self, inputs):
        if isinstance(inputs, dict):  # {"images", "bounding_boxes", "segmentation_masks"}
            out = {**inputs, "images": self._resize(inputs["images"], self.interpolation)}
            carry_targets(
                self,
                inputs,
                out,
                self._move_boxes,
                lambda masks: self._resize(masks, "nearest", "channels_last").data,
            )
            return out
        return self._resize(inputs, self.interpolation)

    def _resize(self, images, interpolation, data_format=None):
        array = as_array(images)
        check_image_size(self, array[None] if array.ndim == 3 else array)
        return ops.image.resize(
            images,
            (self.height, self.width),
            interpolation=interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=data_format or self.data_format,
        )

    def _move_boxes(self, boxes, height, width):
        """Keras's box maps: scaled by the size ratios; with ``pad_to_aspect_ratio`` by the
        smaller ratio and shifted by the padding; with ``crop_to_aspect_ratio`` scaled to
        cover the target and shifted by the crop (Keras rounds both shifts down in output
        pixels; the images' crop is taken in input pixels, a difference below one output
        pixel). Boxes whose 4 values were all 0 or all -1 (padding) stay all 0."""
        padding = np.all(boxes == -1, axis=-1) | np.all(boxes == 0, axis=-1)
        ratio_y, ratio_x = self.height / height, self.width / width
        if self.pad_to_aspect_ratio:
            ratio = min(ratio_y, ratio_x)
            offset_y = (self.height - height * ratio) // 2
            offset_x = (self.width - width * ratio) // 2
            scale, shift = [ratio, ratio] * 2, [offset_x, offset_y] * 2
        elif self.crop_to_aspect_ratio:
            source, target = width / height, self.width / self.height
            new_w = self.height * source if source > target else self.width
            new_h = self.height if source > target else self.width / source
            scale = [new_w / width, new_h / height] * 2
            shift = [-((new_w - self.width) // 2), -((new_h - self.height) // 2)] * 2
        else:
            scale, shift = [ratio_x, ratio_y] * 2, [0.0] * 4
        moved = boxes * np.asarray(scale, np.float32) + np.asarray(shift, np.float32)
        return np.where(padding[..., None], 0.0, moved)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
            **_box_format_config(self),
        }


class CenterCrop(Layer):
    """The central height x width crop; an image smaller than that is resized to it from
    its largest central crop of the target's aspect ratio (Keras's ``smart_resize``).
    Differentiable (slicing, or ``ops.image.resize``)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        self.bounding_box_format = box_format_of(kwargs)
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)
        self.data_format = data_format or "channels_last"

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.data_format == "channels_first":
            return shape[:-2] + (self.height, self.width)
        return shape[:-3] + (self.height, self.width) + shape[-1:]

    def compute_output_dtype(self, input_dtype):
        return self.dtype  # the input is cast first, as Keras

    def call(self, inputs):
        if isinstance(inputs, dict):  # {"images", "bounding_boxes", "segmentation_masks"}
            out = {**inputs, "images": self._center_crop(inputs["images"])}
            carry_targets(
                self,
                inputs,
                out,
                self._move_boxes,
                lambda masks: self._center_crop(masks, "nearest", "channels_last", False).data,
            )
            return out
        return self._center_crop(inputs)

    def _move_boxes(self, boxes, height, width):
        """Keras's map: the boxes clipped to the crop and shifted to its corner; an image
        smaller than the target is cropped to the target's aspect ratio and scaled."""
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            crop_h, crop_w = self.height, self.width
        else:
            crop_h = max(min(height, int(width * self.height / self.width)), 1)
            crop_w = max(min(width, int(height * self.width / self.height)), 1)
            top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
        low = np.asarray([left, top] * 2, np.float32)
        high = low + np.asarray([crop_w, crop_h] * 2, np.float32)
        scale = np.asarray([self.width / crop_w, self.height / crop_h] * 2, np.float32)
        return (np.clip(boxes, low, high) - low) * scale

    def _center_crop(self, inputs, interpolation="bilinear", data_format=None, cast=True):
        """The crop (or the resize of a smaller image); ``cast``: in the layer's dtype, as
        Keras (uint8 pixels -> float32); masks keep theirs and sample the nearest pixel."""
        x = inputs if isinstance(inputs, Tensor) else ops.convert_to_tensor(inputs)
        if cast and x.dtype != self.dtype:
            x = ops.cast(x, self.dtype)
        data_format = data_format or self.data_format
        first = data_format == "channels_first"
        h, w = (x.shape[-2], x.shape[-1]) if first else (x.shape[-3], x.shape[-2])
        check_image_size(self, np.empty((1, h, w, 1)))
        if h < self.height or w < self.width:
            return ops.image.resize(
                x,
                (self.height, self.width),
                interpolation=interpolation,
                crop_to_aspect_ratio=True,
                data_format=data_format,
            )
        top, left = (h - self.height) // 2, (w - self.width) // 2
        rows, cols = slice(top, top + self.height), slice(left, left + self.width)
        return x[..., rows, cols] if first else x[..., rows, cols, :]

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "data_format": self.data_format,
            **_box_format_config(self),
        }
