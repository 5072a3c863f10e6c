"""Geometric augmentations beyond the affine basics: shear, perspective, elastic
distortion, and random erasing (a rectangle per image replaced by noise or a fill value).

The warps sample through ``ops.image`` (``affine_transform``, ``perspective_transform``,
``elastic_transform``); the formulas follow Keras 3 and are stated per class.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from .image_augmentation import (
    ImageAugmentation,
    ProbabilityAugmentation,
    apply_where,
    as_array,
    parse_factor,
    parse_value_range,
)

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _check_sampling(interpolation, fill_mode=None):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"Unknown `interpolation`: expected one of {_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    if fill_mode is not None and fill_mode not in _FILL_MODES + ("mirror",):
        raise ValueError(
            f"Unknown `fill_mode`: expected one of {_FILL_MODES}. "
            f"Received: fill_mode={fill_mode!r}"
        )


class RandomShear(ImageAugmentation):
    """Shear: output pixel (x, y) samples the input at (x + s_x y, s_y x + y), with s_x and
    s_y drawn per image from ``x_factor`` / ``y_factor`` (in [0, 1]; a number f gives
    [0, f]) and one random sign per image for both."""

    moves_pixels = True

    def __init__(
        self,
        x_factor=0.0,
        y_factor=0.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed, data_format, **kwargs)
        _check_sampling(interpolation, fill_mode)
        self.x_factor = parse_factor(x_factor, (0, 1), "x_factor")
        self.y_factor = parse_factor(y_factor, (0, 1), "y_factor")
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value

    def random_transformation(self, images):
        rng, n = self._rng(), len(images)
        sign = np.where(rng.uniform(size=n) > 0.5, -1.0, 1.0)
        shear_y = rng.uniform(*self.y_factor, size=n)
        shear_x = rng.uniform(*self.x_factor, size=n)
        return shear_x * sign, shear_y * sign

    def transform_images(self, images, transformation, interpolation=None):
        shear_x, shear_y = transformation
        one, zero = np.ones_like(shear_x), np.zeros_like(shear_x)
        matrix = np.stack([one, shear_x, zero, shear_y, one, zero, zero, zero], axis=1)
        how = interpolation or self.interpolation
        return as_array(
            ops.image.affine_transform(images, matrix, how, self.fill_mode, self.fill_value)
        )

    def transform_segmentation_masks(self, masks, transformation):
        return self.transform_images(masks, transformation, interpolation="nearest")

    def transform_bounding_boxes(self, boxes, transformation, height, width):
        """Corners through the inverse of the sampling map: (x, y) = M^-1 (x_in, y_in) with
        M = [[1, s_x], [s_y, 1]], and the box around them."""
        shear_x, shear_y = (t[:, None, None] for t in transformation)
        x1, y1, x2, y2 = (boxes[..., i].astype(np.float64) for i in range(4))
        xs, ys = np.stack([x1, x2, x1, x2], -1), np.stack([y1, y1, y2, y2], -1)
        det = 1.0 - shear_x * shear_y
        new_x, new_y = (xs - shear_x * ys) / det, (ys - shear_y * xs) / det
        return np.stack(
            [new_x.min(-1), new_y.min(-1), new_x.max(-1), new_y.max(-1)], axis=-1
        ).astype(np.float32)

    def get_config(self):
        return {
            **super().get_config(),
            "x_factor": list(self.x_factor),
            "y_factor": list(self.y_factor),
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
        }


class RandomPerspective(ProbabilityAugmentation):
    """Move the four corners by ``corner * u``, u uniform in [-scale/2, scale/2] per
    coordinate, and warp the image so the corners land there (``perspective_transform``,
    constant fill), each image with a probability drawn from ``factor``."""

    moves_pixels = True

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_value=0.0,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(factor, seed, data_format, **kwargs)
        _check_sampling(interpolation)
        if not 0 <= scale <= 1:
            raise ValueError(f"`scale` must be in the range [0, 1]. Received: scale={scale}")
        self.scale, self.interpolation, self.fill_value = scale, interpolation, fill_value

    def random_transformation(self, images):
        n, h, w, _ = images.shape
        apply = self.draw_apply(n)
        shift = self._rng().uniform(-0.5 * self.scale, 0.5 * self.scale, size=(n, 4, 2))
        corners = np.array([[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]])
        start = np.repeat(corners[None], n, axis=0)
        return apply, start, start + start * shift

    def transform_images(self, images, transformation):
        apply, start, end = transformation
        warped = ops.image.perspective_transform(
            images, start, end, self.interpolation, self.fill_value
        )
        return apply_where(apply, as_array(warped), images)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


class RandomElasticTransform(ProbabilityAugmentation):
    """Elastic distortion: a random displacement field, normal noise smoothed by a Gaussian
    of ``sigma = 0.05 s min(H, W)`` and scaled by ``alpha = 0.1 s max(H, W)``, with ``s``
    drawn once per batch from ``scale``; each image with a probability from ``factor``."""

    moves_pixels = True

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(factor, seed, data_format, **kwargs)
        _check_sampling(interpolation, fill_mode)
        self.scale = parse_factor(scale, (0, 1), "scale")
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.value_range = parse_value_range(value_range)

    def random_transformation(self, images):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return None
        apply = self.draw_apply(len(images))
        rng = self._rng()
        return apply, rng.uniform(*self.scale), int(rng.integers(0, 2**31 - 1))

    def transform_images(self, images, transformation):
        if transformation is None:
            return images
        apply, s, seed = transformation
        h, w = images.shape[1:3]
        alpha, sigma = max(h, w) * 0.1 * s, min(h, w) * 0.05 * s
        warped = ops.image.elastic_transform(
            images,
            alpha=alpha,
            sigma=max(sigma, 1e-6),
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            seed=seed,
        )
        return np.clip(apply_where(apply, as_array(warped), images), *self.value_range)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": list(self.scale),
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "value_range": list(self.value_range),
        }


def box_masks(shape, x0, x1, y0, y1):
    """Per image, the boolean mask (N, H, W, 1) of the box x0 <= x < x1, y0 <= y < y1."""
    n, h, w = shape[:3]
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    inside = (
        (xx[None] >= x0[:, None, None])
        & (xx[None] < x1[:, None, None])
        & (yy[None] >= y0[:, None, None])
        & (yy[None] < y1[:, None, None])
    )
    return inside[..., None]


def crop_bounds(rng, n, length, ratio):
    """Start and end of a segment of ``ratio * length`` placed uniformly in [0, length]."""
    crop = ratio * length
    start = rng.uniform(0.0, 1.0, size=n) * (length - crop)
    return start, start + crop


class RandomErasing(ProbabilityAugmentation):
    """Erase a rectangle per image (with a probability drawn from ``factor``): its sides are
    ``sqrt(u) H`` and ``sqrt(v) W``, u and v drawn from ``scale``, placed uniformly; the
    rectangle takes ``fill_value`` (a number or one per channel), or, when None (Keras's
    default), normal noise times ``value_range[1]``."""

    def __init__(
        self,
        factor=1.0,
        scale=(0.02, 0.33),
        fill_value=None,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(factor, seed, data_format, **kwargs)
        self.scale = parse_factor(scale, (0, 1), "scale")
        if fill_value is not None and not (
            isinstance(fill_value, (int, float))
            or (isinstance(fill_value, (tuple, list)) and len(fill_value) == 3)
        ):
            raise ValueError(
                "The `fill_value` argument should be a number (or a list of three numbers). "
                f"Received: fill_value={fill_value}"
            )
        self.fill_value = fill_value
        self.value_range = parse_value_range(value_range)

    def random_transformation(self, images):
        rng = self._rng()
        n, h, w, _ = images.shape
        sides = np.sqrt(rng.uniform(*self.scale, size=(n, 2)))
        x0, x1 = crop_bounds(rng, n, w, sides[:, 0])
        y0, y1 = crop_bounds(rng, n, h, sides[:, 1])
        apply = self.draw_apply(n)
        if self.fill_value is None:
            fill = rng.standard_normal(images.shape) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, np.float64), images.shape)
        return apply, box_masks(images.shape, x0, x1, y0, y1), fill.astype(images.dtype)

    def transform_images(self, images, transformation):
        apply, masks, fill = transformation
        return apply_where(apply, np.where(masks, fill, images), images)

    def get_config(self):
        fill = list(self.fill_value) if isinstance(self.fill_value, tuple) else self.fill_value
        return {
            **super().get_config(),
            "scale": list(self.scale),
            "fill_value": fill,
            "value_range": list(self.value_range),
        }
