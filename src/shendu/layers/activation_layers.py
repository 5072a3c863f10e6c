"""Activations as layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..naming import serialize
from .base import Layer, same_shape


class ReLU(Layer):
    """min(max(x, threshold-gated x or negative_slope x), max_value)."""

    replay_safe = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: `max_value` must be >= 0. Received: max_value={max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU: `negative_slope` must be >= 0. Received: {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return activations.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """x if x > 0 else negative_slope * x (default 0.3, as Keras's layer)."""

    replay_safe = True

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative. "
                f"Received: negative_slope={negative_slope}"
            )
        self.negative_slope = float(negative_slope)
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """x if x > 0 else alpha * x, with a learned ``alpha`` per input unit."""

    replay_safe = True

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = (
            None
            if shared_axes is None
            else ([shared_axes] if isinstance(shared_axes, int) else list(shared_axes))
        )

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for ax in self.shared_axes or []:
            shape[ax - 1] = 1
        self.alpha = self.add_weight(
            tuple(shape),
            self.alpha_initializer,
            name="alpha",
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )

    compute_output_shape = same_shape

    def call(self, inputs):
        pos = ops.relu(inputs)
        return pos - self.alpha * ops.relu(-inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": serialize(self.alpha_initializer),
            "alpha_regularizer": serialize(self.alpha_regularizer),
            "alpha_constraint": serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class ELU(Layer):
    """x if x > 0 else alpha (exp(x) - 1)."""

    replay_safe = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return ops.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax over ``axis``; masked positions (mask False) get probability 0."""

    replay_safe = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs, mask=None):
        if mask is not None:
            m = mask.data if hasattr(mask, "data") else np.asarray(mask)
            inputs = ops.where(np.broadcast_to(m, inputs.shape), inputs, -1e9)
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
