"""Convolutional LSTMs: an LSTM whose products are convolutions (sequences of images)."""

from __future__ import annotations

import numpy as np

from .. import activations, backend, ops
from ..autograd.tensor import Tensor
from .base import Layer
from .conv import _tuple
from .recurrent import _dropout_mask, _RecurrentWeights, _UnitForgetBias
from .shapes import conv_length


class _ConvLSTM(_RecurrentWeights, Layer):
    """ConvLSTM over (batch, time, *spatial, channels) (channels_first: (batch, time,
    channels, *spatial)).

    Per step, with * a convolution (the input's with the layer's strides, padding and
    dilation; the state's with stride 1 and 'same' padding, so h keeps the output's shape):
    z = x_t * W + h * U + b; i, f, o = recurrent_activation(z_i, z_f, z_o);
    c' = f c + i activation(z_c); h' = o activation(c'). The input convolutions of all steps
    run as one, over batch * time images. Weights as Keras's: kernel (*window, channels,
    4 filters), recurrent_kernel (*window, filters, 4 filters), bias (4 filters).
    """

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        kwargs.pop("zero_output_for_mask", None)
        super().__init__(**kwargs)
        r = self.rank
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"`filters` must be a positive integer. Received: filters={filters}")
        self.filters = self.units = filters
        self.kernel_size = _tuple(kernel_size, r, "kernel_size")
        self.strides = _tuple(strides, r, "strides")
        self.dilation_rate = _tuple(dilation_rate, r, "dilation_rate")
        if padding not in ("valid", "same"):
            raise ValueError(
                f"Invalid value for argument `padding`. Expected 'valid' or 'same'. "
                f"Received: padding={padding!r}"
            )
        self.padding = padding
        self.data_format = backend.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias, self.unit_forget_bias = bool(use_bias), bool(unit_forget_bias)
        self._weight_options(
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
        )
        self._dropout_options(dropout, recurrent_dropout, seed)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.states = None

    def expected_ndim(self):
        return self.rank + 3

    def _channels_last_shape(self, shape):
        shape = tuple(shape)
        if self.data_format == "channels_first":
            return shape[:2] + shape[3:] + (shape[2],)
        return shape

    def build(self, input_shape):
        channels = self._channels_last_shape(input_shape)[-1]
        width = 4 * self.filters
        bias_init = self.bias_initializer
        if self.unit_forget_bias:
            bias_init = _UnitForgetBias(self.filters)
        self._add_recurrent_weights(
            self.kernel_size + (channels, width),
            self.kernel_size + (self.filters, width),
            (width,),
            bias_init,
        )
        self.built = True

    def _spatial_out(self, spatial):
        return tuple(
            conv_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )

    def compute_output_shape(self, input_shape):
        shape = self._channels_last_shape(input_shape)
        batch, steps, spatial = shape[0], shape[1], shape[2:-1]
        out = self._spatial_out(spatial)
        state = (batch,) + (
            (self.filters,) + out
            if self.data_format == "channels_first"
            else out + (self.filters,)
        )
        seq = (batch, steps) + state[1:] if self.return_sequences else state
        return [seq, state, state] if self.return_state else seq

    def _to_channels_first(self, y, time_axis):
        if self.data_format != "channels_first":
            return y
        axes = list(range(y.ndim))
        channel = axes.pop(-1)
        axes.insert(time_axis + 1, channel)
        return ops.transpose(y, axes)

    def call(self, inputs, training=None, initial_state=None):
        x = inputs
        if self.data_format == "channels_first":  # (N, T, C, *S) -> (N, T, *S, C)
            x = ops.transpose(x, (0, 1) + tuple(range(3, self.rank + 3)) + (2,))
        n, steps = x.shape[0], x.shape[1]
        rng = self._mask_rng()
        if training and 0 < self.dropout < 1:  # one mask for every step, as Keras's cell
            keep = (1,) + tuple(x.shape[2:])
            x = x * _dropout_mask((n,) + keep, self.dropout, x.dtype, rng)
        frames = ops.reshape(x, (n * steps,) + tuple(x.shape[2:]))
        xz = ops.conv(
            frames,
            self.kernel,
            self.strides,
            self.padding,
            dilation_rate=self.dilation_rate,
            bias=self.bias,
        )
        out_shape = tuple(xz.shape[1:-1])
        xz = ops.reshape(xz, (n, steps) + tuple(xz.shape[1:]))
        states = self._initial_states(x, n, out_shape, initial_state)
        rec_mask = None
        if training and 0 < self.recurrent_dropout < 1:
            rec_mask = _dropout_mask(
                (n,) + out_shape + (self.filters,), self.recurrent_dropout, x.dtype, rng
            )
        h, c = states
        f = self.filters
        act, gate = self.activation, self.recurrent_activation
        outputs = []
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        for t in order:
            hr = h if rec_mask is None else h * rec_mask
            z = xz[:, t] + ops.conv(hr, self.recurrent_kernel, 1, "same")
            i, fg = gate(z[..., :f]), gate(z[..., f : 2 * f])
            g, o = act(z[..., 2 * f : 3 * f]), gate(z[..., 3 * f :])
            c = fg * c + i * g
            h = o * act(c)
            outputs.append(h)
        if self.stateful:
            self.states = [h.detach(), c.detach()]
        seq = ops.stack(outputs, axis=1) if self.return_sequences else h
        seq = self._to_channels_first(seq, 1 if self.return_sequences else 0)
        if self.return_state:
            return [seq, self._to_channels_first(h, 0), self._to_channels_first(c, 0)]
        return seq

    def _initial_states(self, x, n, out_shape, initial_state):
        if initial_state is not None:
            states = list(initial_state)
            if self.data_format == "channels_first":
                states = [ops.moveaxis(s, 1, -1) for s in states]
            return states
        if self.stateful and self.states is not None:
            return list(self.states)
        zeros = np.zeros((n,) + out_shape + (self.filters,), dtype=x.dtype)
        return [Tensor.wrap(zeros), Tensor.wrap(zeros.copy())]

    def reset_states(self):
        self.states = None

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            **self._weights_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
        }


class ConvLSTM1D(_ConvLSTM):
    """ConvLSTM over (batch, time, steps, channels)."""

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """ConvLSTM over (batch, time, height, width, channels) (frames of video).

    Example:
    >>> import numpy as np, shendu
    >>> shendu.layers.ConvLSTM2D(3, 3)(np.zeros((2, 4, 6, 7, 2))).shape
    (2, 4, 5, 3)
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """ConvLSTM over (batch, time, depth, height, width, channels)."""

    rank = 3


__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]
