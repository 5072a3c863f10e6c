"""Regularisation layers: spatial dropout, Gaussian noise and dropout, alpha dropout,
activity regularisation. Each is the identity at inference."""

from __future__ import annotations

import numpy as np

from .. import backend, ops, regularizers
from ..naming import serialize
from .base import Layer, same_shape
from .core import Dropout


class SpatialDropout1D(Dropout):
    """Drop whole channels: one mask per (sample, channel), shared over steps."""

    def expected_ndim(self):
        return 3

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = (inputs.shape[0], 1, inputs.shape[-1])
        return ops.dropout(inputs, self.rate, shape, seed=self.generator)


class SpatialDropout2D(Dropout):
    """Drop whole feature maps: one mask per (sample, channel)."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = backend.standardize_data_format(data_format)

    def expected_ndim(self):
        return 4

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        n, c = inputs.shape[0], inputs.shape[-1 if self.data_format == "channels_last" else 1]
        shape = (n, 1, 1, c) if self.data_format == "channels_last" else (n, c, 1, 1)
        return ops.dropout(inputs, self.rate, shape, seed=self.generator)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return {**config, "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """Drop whole 3-D feature maps: one mask per (sample, channel)."""

    def expected_ndim(self):
        return 5

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        n, c = inputs.shape[0], inputs.shape[-1 if self.data_format == "channels_last" else 1]
        shape = (n, 1, 1, 1, c) if self.data_format == "channels_last" else (n, c, 1, 1, 1)
        return ops.dropout(inputs, self.rate, shape, seed=self.generator)


def _rng(layer):
    return layer.generator if layer.generator is not None else backend.generator()


class GaussianNoise(Layer):
    """Adds N(0, stddev) noise when training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev, self.seed = float(stddev), seed
        self.generator = backend.make_generator(seed) if seed is not None else None
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        noise = _rng(self).normal(0.0, self.stddev, inputs.shape).astype(inputs.dtype)
        return inputs + noise

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies by N(1, rate / (1 - rate)) noise when training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Invalid value received for argument `rate`. Received: rate={rate}")
        self.rate, self.seed = float(rate), seed
        self.generator = backend.make_generator(seed) if seed is not None else None
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        std = np.sqrt(self.rate / (1 - self.rate))
        return inputs * _rng(self).normal(1.0, std, inputs.shape).astype(inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout that keeps SELU's self-normalising mean and variance (Klambauer et al.)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Invalid value received for argument `rate`. Received: rate={rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self.generator = backend.make_generator(seed) if seed is not None else None

    compute_output_shape = same_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        alpha_p = -1.6732632423543772 * 1.0507009873554805
        keep = (_rng(self).random(inputs.shape) >= self.rate).astype(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return (inputs * keep + alpha_p * (1 - keep)) * a + b

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


class ActivityRegularization(Layer):
    """Identity that adds l1 * sum|x| + l2 * sum x^2 (per sample) to the loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


__all__ = ["serialize"]
