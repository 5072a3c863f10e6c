"""Convolution layers (channels_last by default), on the fused conv ops."""

from __future__ import annotations

import inspect

from .. import activations, backend, initializers, ops
from ..naming import serialize
from .base import Layer, check_rank
from .core import _positive_int
from .kernel_bias import KernelBiasMixin
from .shapes import conv_length, spatial_axes, transpose_length


def _tuple(value, rank, name):
    t = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(t) != rank or any(not isinstance(v, int) or v <= 0 for v in t):
        raise ValueError(
            f"Expected `{name}` as {rank} positive integer(s). Received: {name}={value}"
        )
    return t


class BaseConv(KernelBiasMixin, Layer):
    """Shared arguments of the convolution layers (Keras names and defaults)."""

    replay_safe = True

    rank = 2
    transpose = False

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        output_padding=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        r = self.rank
        self.filters = _positive_int(self, "filters", filters) if filters is not None else None
        self.kernel_size = _tuple(kernel_size, r, "kernel_size")
        self.strides = _tuple(strides, r, "strides")
        self.dilation_rate = _tuple(dilation_rate, r, "dilation_rate")
        allowed = (
            ("valid", "same", "causal") if (r == 1 and not self.transpose) else ("valid", "same")
        )
        if not isinstance(padding, str) or padding.lower() not in allowed:
            raise ValueError(
                f"Invalid value for argument `padding`. Expected one of {allowed}. "
                f"Received: padding={padding!r}"
            )
        self.padding = padding.lower()
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                "Invalid value for argument `data_format`. Expected 'channels_last' or "
                f"'channels_first'. Received: data_format={data_format!r}"
            )
        self.data_format = backend.standardize_data_format(data_format)
        self.groups = _positive_int(self, "groups", groups)
        self.output_padding = output_padding
        self._set_kernel_bias_options(
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )

    def _channels(self, input_shape):
        axis = 1 if self.data_format == "channels_first" else -1
        c = input_shape[axis]
        if c is None:
            raise ValueError(f"Layer {self.name!r}: the channel axis of the input must be known")
        return c

    def expected_ndim(self):
        return self.rank + 2

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            check_rank(self, _Shape(input_shape), self.rank + 2)
        c = self._channels(input_shape)
        if c % self.groups:
            raise ValueError(
                f"Layer {self.name!r}: input channels {c} must be divisible by groups="
                f"{self.groups}"
            )
        if self.transpose:
            shape = self.kernel_size + (self.filters, c)
        else:
            shape = self.kernel_size + (c // self.groups, self.filters)
        self._add_kernel_and_bias(shape, self.filters)
        self.built = True

    def _out_channels(self, channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        """Each spatial length by ``shapes.conv_length`` (``transpose_length`` for the
        transposed layers); the channel axis holds ``filters``."""
        shape = list(input_shape)
        if len(shape) != self.rank + 2:
            raise ValueError(
                f"Layer {self.name!r} expects inputs of rank {self.rank + 2}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        op = self.output_padding
        if op is not None:
            op = (op,) * self.rank if isinstance(op, int) else tuple(op)
        for i, axis in enumerate(spatial_axes(self.rank, self.data_format)):
            k, st, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            if self.transpose:
                shape[axis] = transpose_length(
                    shape[axis], k, st, d, self.padding, None if op is None else op[i]
                )
            else:
                shape[axis] = conv_length(shape[axis], k, st, d, self.padding)
        channel_axis = 1 if self.data_format == "channels_first" else -1
        shape[channel_axis] = self._out_channels(shape[channel_axis])
        return tuple(shape)

    def _add_bias_activate(self, y):
        if self.bias is not None:
            if self.data_format == "channels_first":
                y = y + ops.reshape(self.bias, (-1,) + (1,) * self.rank)
            else:
                y = y + self.bias
        return self.activation(y) if self.activation is not activations.linear else y

    def convolution_op(self, inputs, kernel):
        """The convolution of ``inputs`` with ``kernel`` under the layer's settings (no bias
        or activation): the hook Keras documents for subclasses that change the kernel
        first (weight standardisation, spectral norms, ...)."""
        return ops.conv(
            inputs, kernel, self.strides, self.padding, self.data_format, self.dilation_rate
        )

    def call(self, inputs):
        fmt = self.data_format
        if not self.transpose and type(self).convolution_op is not BaseConv.convolution_op:
            return self._add_bias_activate(self.convolution_op(inputs, self.kernel))
        if self.transpose:
            y = ops.conv_transpose(
                inputs,
                self.kernel,
                self.strides,
                self.padding,
                self.output_padding,
                fmt,
                self.dilation_rate,
            )
        else:
            fused = self._fused_activation_name()
            y = ops.conv(
                inputs,
                self.kernel,
                self.strides,
                self.padding,
                fmt,
                self.dilation_rate,
                bias=self.bias,
                activation=fused,
            )
            if fused is not None or self.activation is activations.linear:
                return y
            return self.activation(y)
        return self._add_bias_activate(y)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": list(self.kernel_size),
                "strides": list(self.strides),
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "groups": self.groups,
                **self._kernel_bias_config(),
            }
        )
        if self.transpose:
            config["output_padding"] = self.output_padding
        return config


class _Shape:
    def __init__(self, shape):
        self.shape = tuple(shape)
        self.ndim = len(shape)


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels); padding valid, same or causal.

    Args:
        filters: the number of output channels.
        kernel_size: the window's length (an int, or one per spatial axis).
        strides: the step of the window.
        padding: "valid" (no padding), "same" (the output as long as the input divided by the
            strides) or, for Conv1D, "causal" (padding on the left only).
        data_format: "channels_last" (batch, steps, channels), the default, or "channels_first".
        dilation_rate: spacing between the window's taps.
        groups: input channels are split into this many groups, each convolved alone.
        activation: a name or a callable applied to the output; None is linear.
        use_bias: whether to add a bias per filter.
        kernel_initializer: initializer of the kernel ("glorot_uniform").
        bias_initializer: initializer of the bias ("zeros").
        kernel_regularizer: penalty on the kernel added to the loss.
        bias_regularizer: penalty on the bias.
        activity_regularizer: penalty on the output.
        kernel_constraint: projection applied to the kernel after each update.
        bias_constraint: projection applied to the bias.
        output_padding: for transposed convolutions only (None here).
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over (batch, height, width, channels).

    Example:
    >>> import numpy as np, shendu
    >>> shendu.layers.Conv2D(4, 3)(np.zeros((1, 8, 8, 3))).shape
    (1, 6, 6, 4)

    Args:
        filters: the number of output channels.
        kernel_size: the window's height and width (an int for both).
        strides: the step of the window (an int or a pair).
        padding: "valid" (no padding) or "same" (the output as large as the input divided
            by the strides).
        data_format: "channels_last" (batch, height, width, channels), the default, or
            "channels_first".
        dilation_rate: spacing between the window's taps (an int or a pair).
        groups: input channels are split into this many groups, each convolved alone.
        activation: a name or a callable applied to the output; None is linear.
        use_bias: whether to add a bias per filter.
        kernel_initializer: initializer of the kernel ("glorot_uniform").
        bias_initializer: initializer of the bias ("zeros").
        kernel_regularizer: penalty on the kernel added to the loss.
        bias_regularizer: penalty on the bias.
        activity_regularizer: penalty on the output.
        kernel_constraint: projection applied to the kernel after each update.
        bias_constraint: projection applied to the bias.
        output_padding: for transposed convolutions only (None here).
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over (batch, depth, height, width, channels) (volumes, video).

    Example:
    >>> import numpy as np, shendu
    >>> shendu.layers.Conv3D(4, 3)(np.zeros((1, 6, 8, 8, 2))).shape
    (1, 4, 6, 6, 4)
    """

    rank = 3


def _in_keras_order(*order):
    """An ``__init__`` taking BaseConv's arguments with ``order`` first (Keras's order for
    the transposed convolutions, which puts output_padding among the first and has no
    groups), so positional calls written for Keras mean the same here."""
    base = inspect.signature(BaseConv.__init__).parameters
    either, keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_KEYWORD
    names = list(order) + [n for n in base if n not in order and n not in ("self", "groups")]
    signature = inspect.Signature(
        [base["self"]]
        + [base[n].replace(kind=either) for n in names if base[n].kind is not keyword]
        + [base["kwargs"]]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs).arguments
        bound.pop("self")
        BaseConv.__init__(self, **bound.pop("kwargs", {}), **bound)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return __init__


_TRANSPOSE_ORDER = ("filters", "kernel_size", "strides", "padding", "output_padding")


class Conv1DTranspose(BaseConv):
    """Transposed 1-D convolution; kernel (kernel_size, filters, in_channels)."""

    rank = 1
    transpose = True
    __init__ = _in_keras_order(*_TRANSPOSE_ORDER, "data_format", "dilation_rate")


class Conv2DTranspose(BaseConv):
    """Transposed 2-D convolution; kernel (kh, kw, filters, in_channels).

    Args:
        filters: the number of output channels.
        kernel_size: the window's height and width (an int for both).
        strides: the upsampling step (an int or a pair).
        padding: "valid" or "same" (the output the input's size times the strides).
        output_padding: extra rows and columns on the output's far side (each below the stride);
            None: as the padding implies.
        data_format: "channels_last", the default, or "channels_first".
        dilation_rate: spacing between the window's taps.
        activation: a name or a callable applied to the output; None is linear.
        use_bias: whether to add a bias per filter.
        kernel_initializer: initializer of the kernel ("glorot_uniform").
        bias_initializer: initializer of the bias ("zeros").
        kernel_regularizer: penalty on the kernel added to the loss.
        bias_regularizer: penalty on the bias.
        activity_regularizer: penalty on the output.
        kernel_constraint: projection applied to the kernel after each update.
        bias_constraint: projection applied to the bias.
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    rank = 2
    transpose = True
    __init__ = _in_keras_order(*_TRANSPOSE_ORDER, "data_format", "dilation_rate")


class Conv3DTranspose(BaseConv):
    """Transposed 3-D convolution; kernel (kd, kh, kw, filters, in_channels)."""

    rank = 3
    transpose = True
    __init__ = _in_keras_order(*_TRANSPOSE_ORDER[:4], "data_format", "output_padding")


class DepthwiseConv2D(BaseConv):
    """Per-channel 2-D convolution; depthwise_kernel (kh, kw, channels, depth_multiplier)."""

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            None,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            1,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = _positive_int(self, "depth_multiplier", depth_multiplier)

    def build(self, input_shape):
        c = self._channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (c, self.depth_multiplier),
            self.kernel_initializer,
            name="depthwise_kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (c * self.depth_multiplier,), self.bias_initializer, name="bias"
            )
        self.built = True

    def _out_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def call(self, inputs):
        y = ops.depthwise_conv(
            inputs,
            self.depthwise_kernel,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )
        return self._add_bias_activate(y)

    def get_config(self):
        config = super().get_config()
        for k in ("filters", "groups"):
            config.pop(k)
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        config["depthwise_constraint"] = config.pop("kernel_constraint")
        return config


class SeparableConv2D(BaseConv):
    """Depthwise then pointwise (1x1) convolution: depthwise_kernel (kh, kw, C, m),
    pointwise_kernel (1, 1, C * m, filters)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            1,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            **kwargs,
        )
        self.depth_multiplier = _positive_int(self, "depth_multiplier", depth_multiplier)
        self.pointwise_initializer = initializers.get(pointwise_initializer)

    def build(self, input_shape):
        c = self._channels(input_shape)
        m = self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (c, m), self.kernel_initializer, name="depthwise_kernel"
        )
        self.pointwise_kernel = self.add_weight(
            (1,) * self.rank + (c * m, self.filters),
            self.pointwise_initializer,
            name="pointwise_kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias")
        self.built = True

    def call(self, inputs):
        y = ops.depthwise_conv(
            inputs,
            self.depthwise_kernel,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )
        y = ops.conv(y, self.pointwise_kernel, 1, "valid", self.data_format)
        return self._add_bias_activate(y)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["pointwise_initializer"] = serialize(self.pointwise_initializer)
        for k in (
            "kernel_regularizer",
            "kernel_constraint",
            "bias_regularizer",
            "bias_constraint",
        ):
            config.pop(k)
        return config


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1-D convolution: depthwise_kernel (k, C, depth_multiplier), one filter
    bank per input channel."""

    rank = 1


class SeparableConv1D(SeparableConv2D):
    """Depthwise then pointwise 1-D convolution: depthwise_kernel (k, C, m),
    pointwise_kernel (1, C * m, filters)."""

    rank = 1
