"""Augmentations that mix images or chain other augmentations: MixUp and CutMix (which mix
the labels as they mix the images: pass ``{"images": x, "labels": y}``), RandAugment and
AugMix (random chains of the colour and geometric layers). Formulas follow Keras 3.
"""

from __future__ import annotations

import numpy as np

from .color_augmentation import (
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from .geometric_augmentation import RandomShear, box_masks, crop_bounds
from .image_augmentation import ImageAugmentation, parse_factor, parse_value_range
from .image_preprocessing import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
)


def _mix(values, weight, permutation):
    """``w v + (1 - w) v[permutation]``, ``w`` one weight per sample."""
    w = weight.reshape((-1,) + (1,) * (values.ndim - 1)).astype(values.dtype)
    return w * values + (1.0 - w) * values[permutation]


class MixUp(ImageAugmentation):
    """MixUp (Zhang et al. 2018): ``x' = w x + (1 - w) x[p]`` and the same for the labels,
    ``p`` a random permutation of the batch and ``w ~ Beta(alpha, alpha)`` per sample."""

    moves_pixels = True

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if alpha <= 0:
            raise ValueError(f"`alpha` must be positive. Received: alpha={alpha}")
        self.alpha = alpha

    def random_transformation(self, images):
        rng, n = self._rng(), len(images)
        return rng.beta(self.alpha, self.alpha, size=n), rng.permutation(n)

    def transform_images(self, images, transformation):
        return _mix(images, *transformation)

    def transform_labels(self, labels, transformation):
        return _mix(labels, *transformation)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class CutMix(ImageAugmentation):
    """CutMix (Yun et al. 2019): paste a box from another image of the batch (a random
    permutation ``p``) into each image. With ``a`` drawn from ``factor`` (once per batch)
    and ``w ~ Beta(a, a)`` per image, the box's sides are ``sqrt(1 - w)`` of the image's,
    placed uniformly; the labels mix by the area kept, ``l' = r l + (1 - r) l[p]`` with
    ``r = 1 - box area / image area``. A single image (rank 3) is left as it is."""

    moves_pixels = True

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = parse_factor(factor, (0, 1))

    def random_transformation(self, images):
        n, h, w, _ = images.shape
        if n == 1:
            return None
        rng = self._rng()
        alpha = rng.uniform(*self.factor) + 1e-6
        ratio = np.sqrt(1.0 - rng.beta(alpha, alpha, size=n))
        x0, x1 = crop_bounds(rng, n, w, ratio)
        y0, y1 = crop_bounds(rng, n, h, ratio)
        kept = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)
        return box_masks(images.shape, x0, x1, y0, y1), kept, rng.permutation(n)

    def transform_images(self, images, transformation):
        if transformation is None:
            return images
        masks, _, permutation = transformation
        return np.where(masks, images[permutation], images)

    def transform_labels(self, labels, transformation):
        if transformation is None:
            return labels
        _, kept, permutation = transformation
        return _mix(labels, kept, permutation)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


def _augmentations(factor, value_range, interpolation, seed, data_format, colour=True):
    """The layers RandAugment and AugMix choose from, by Keras's names, all at one
    strength ``factor``; ``colour=False`` leaves out brightness, colour degeneration,
    contrast and sharpness (AugMix's ``all_ops=False``)."""
    common = {"seed": seed, "data_format": data_format}
    ranged = {"value_range": value_range, **common}
    layers = {
        "random_shear": RandomShear(factor, factor, interpolation=interpolation, **common),
        "random_translation": RandomTranslation(
            factor, factor, interpolation=interpolation, **common
        ),
        "random_rotation": RandomRotation(factor, interpolation=interpolation, **common),
    }
    if colour:
        layers["random_brightness"] = RandomBrightness(factor, **ranged)
        layers["random_color_degeneration"] = RandomColorDegeneration(factor, **ranged)
        layers["random_contrast"] = RandomContrast(factor, **ranged)
        layers["random_sharpness"] = RandomSharpness(factor, **ranged)
    layers["solarization"] = Solarization(factor, factor, **ranged)
    layers["random_posterization"] = RandomPosterization(max(1, int(8 * factor[1])), **ranged)
    layers["auto_contrast"] = AutoContrast(value_range, data_format=data_format)
    layers["equalization"] = Equalization(value_range, data_format=data_format)
    return layers


def _apply(layer, images):
    return layer.transform_images(images, layer.random_transformation(images))


class RandAugment(ImageAugmentation):
    """RandAugment (Cubuk et al. 2020): ``num_ops`` times, one augmentation chosen
    uniformly from eleven (shear, translation, rotation, brightness, colour degeneration,
    contrast, sharpness, solarization, posterization, auto-contrast, equalization), all at
    the strength ``factor``, is applied to the whole batch."""

    moves_pixels = True

    def __init__(
        self,
        value_range=(0, 255),
        num_ops=2,
        factor=0.5,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed, data_format, **kwargs)
        self.value_range = parse_value_range(value_range)
        self.num_ops = int(num_ops)
        self.factor = parse_factor(factor, (0, 1))
        self.interpolation = interpolation
        self.augmentations = _augmentations(
            self.factor, self.value_range, interpolation, seed, None
        )

    def random_transformation(self, images):
        names = list(self.augmentations)
        return [names[i] for i in self._rng().integers(0, len(names), size=self.num_ops)]

    def transform_images(self, images, chosen):
        for name in chosen:
            images = _apply(self.augmentations[name], images)
        return images

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": list(self.value_range),
            "num_ops": self.num_ops,
            "factor": list(self.factor),
            "interpolation": self.interpolation,
        }


class AugMix(ImageAugmentation):
    """AugMix (Hendrycks et al. 2020): ``num_chains`` chains, each of up to ``chain_depth``
    augmentations chosen at random (a step may be skipped), mixed with Dirichlet(alpha)
    weights ``m``; the result is ``w x + (1 - w) sum_i m_i chain_i(x)`` with
    ``w ~ Beta(alpha, alpha)``, clipped to ``value_range``."""

    moves_pixels = True

    def __init__(
        self,
        value_range=(0, 255),
        num_chains=3,
        chain_depth=3,
        factor=0.3,
        alpha=1.0,
        all_ops=True,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed, data_format, **kwargs)
        self.value_range = parse_value_range(value_range)
        self.num_chains, self.chain_depth = int(num_chains), int(chain_depth)
        self.factor = parse_factor(factor, (0, 1))
        self.alpha, self.all_ops, self.interpolation = alpha, all_ops, interpolation
        self.augmentations = _augmentations(
            self.factor, self.value_range, interpolation, seed, None, colour=all_ops
        )

    def random_transformation(self, images):
        rng = self._rng()
        gamma = rng.gamma(self.alpha, size=self.num_chains)
        chain_weights = gamma / gamma.sum()
        keep = rng.beta(self.alpha, self.alpha)
        options = list(self.augmentations) + [None]
        chains = [
            [c for c in rng.choice(len(options), size=self.chain_depth) if options[c]]
            for _ in range(self.num_chains)
        ]
        return chain_weights, keep, [[options[c] for c in chain] for chain in chains]

    def transform_images(self, images, transformation):
        chain_weights, keep, chains = transformation
        mixed = np.zeros_like(images)
        for weight, chain in zip(chain_weights, chains):
            chained = images.copy()
            for name in chain:
                chained = _apply(self.augmentations[name], chained)
            mixed += chained * images.dtype.type(weight)
        out = images.dtype.type(keep) * images + images.dtype.type(1 - keep) * mixed
        return np.clip(out, *self.value_range)

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": list(self.value_range),
            "num_chains": self.num_chains,
            "chain_depth": self.chain_depth,
            "factor": list(self.factor),
            "alpha": self.alpha,
            "all_ops": self.all_ops,
            "interpolation": self.interpolation,
        }
