"""Pooling layers (channels_last by default)."""

from __future__ import annotations

from .. import backend, ops
from .base import Layer
from .shapes import conv_length, spatial_axes


class _Pool(Layer):
    replay_safe = True  # see Layer.replay_safe
    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        r = self.rank
        self.pool_size = (pool_size,) * r if isinstance(pool_size, int) else tuple(pool_size)
        self.strides = (
            None
            if strides is None
            else ((strides,) * r if isinstance(strides, int) else tuple(strides))
        )
        if padding not in ("valid", "same"):
            raise ValueError(
                f"Invalid value for argument `padding`. Expected 'valid' or 'same'. "
                f"Received: padding={padding!r}"
            )
        self.padding = padding
        self.data_format = backend.standardize_data_format(data_format)

    def expected_ndim(self):
        return self.rank + 2

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        strides = self.strides or self.pool_size
        for i, axis in enumerate(spatial_axes(self.rank, self.data_format)):
            shape[axis] = conv_length(shape[axis], self.pool_size[i], strides[i], 1, self.padding)
        return tuple(shape)

    def call(self, inputs):
        fn = ops.max_pool if self.mode == "max" else ops.average_pool
        return fn(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": None if self.strides is None else list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pool):
    """Max over windows of ``pool_size`` steps."""

    rank, mode = 1, "max"


class MaxPooling2D(_Pool):
    """Max over ``pool_size`` windows of height and width."""

    rank, mode = 2, "max"


class MaxPooling3D(_Pool):
    """Max over windows of (batch, depth, height, width, channels)."""

    rank, mode = 3, "max"


class AveragePooling1D(_Pool):
    """Mean over windows of ``pool_size`` steps."""

    rank, mode = 1, "average"


class AveragePooling2D(_Pool):
    """Mean over ``pool_size`` windows of height and width."""

    rank, mode = 2, "average"


class AveragePooling3D(_Pool):
    """Mean over windows of (batch, depth, height, width, channels) ('same' padding: of the
    real entries)."""

    rank, mode = 3, "average"


class _GlobalPool(Layer):
    replay_safe = True  # see Layer.replay_safe
    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.keepdims = keepdims
        self.supports_masking = self.rank == 1

    def expected_ndim(self):
        return self.rank + 2

    def call(self, inputs, mask=None):
        axes = (
            tuple(range(1, self.rank + 1))
            if self.data_format == "channels_last"
            else tuple(range(2, self.rank + 2))
        )
        if mask is not None and self.mode == "average" and self.rank == 1:
            m = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
            total = ops.sum(inputs * m, axis=axes, keepdims=self.keepdims)
            return total / ops.maximum(ops.sum(m, axis=axes, keepdims=self.keepdims), 1.0)
        fn = ops.max if self.mode == "max" else ops.mean
        return fn(inputs, axis=axes, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        axes = spatial_axes(self.rank, self.data_format)
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPool):
    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPool):
    rank, mode = 2, "max"


class GlobalAveragePooling1D(_GlobalPool):
    """Mean over steps (masked steps excluded when a mask arrives)."""

    rank, mode = 1, "average"


class GlobalAveragePooling2D(_GlobalPool):
    rank, mode = 2, "average"


class GlobalMaxPooling3D(_GlobalPool):
    rank, mode = 3, "max"


class GlobalAveragePooling3D(_GlobalPool):
    rank, mode = 3, "average"


class _AdaptivePool(Layer):
    """Pools adaptive windows so that the spatial shape becomes ``output_size``: output
    position j of an axis of length n covers [floor(j n / m), ceil((j + 1) n / m))."""

    replay_safe = True  # see Layer.replay_safe
    rank = 2
    mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        r = self.rank
        size = (output_size,) * r if isinstance(output_size, int) else tuple(output_size)
        if len(size) != r or not all(isinstance(v, int) and v > 0 for v in size):
            raise ValueError(
                f"`output_size` must be a positive integer or a tuple of {r} positive "
                f"integers. Received: output_size={output_size!r}"
            )
        self.output_size = size
        self.data_format = backend.standardize_data_format(data_format)

    def expected_ndim(self):
        return self.rank + 2

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for i, axis in enumerate(spatial_axes(self.rank, self.data_format)):
            shape[axis] = self.output_size[i]
        return tuple(shape)

    def call(self, inputs):
        fn = ops.adaptive_max_pool if self.mode == "max" else ops.adaptive_average_pool
        return fn(inputs, self.output_size, self.data_format)

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "data_format": self.data_format,
        }


class AdaptiveAveragePooling1D(_AdaptivePool):
    """Mean over adaptive windows of (batch, steps, channels)."""

    rank, mode = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePool):
    """Mean over adaptive windows of (batch, height, width, channels)."""

    rank, mode = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePool):
    """Mean over adaptive windows of (batch, depth, height, width, channels)."""

    rank, mode = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePool):
    """Max over adaptive windows of (batch, steps, channels)."""

    rank, mode = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePool):
    """Max over adaptive windows of (batch, height, width, channels)."""

    rank, mode = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePool):
    """Max over adaptive windows of (batch, depth, height, width, channels)."""

    rank, mode = 3, "max"
