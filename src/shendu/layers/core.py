"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda, Identity."""

from __future__ import annotations

import numpy as np

from .. import activations, backend, ops
from .base import Layer, check_last_axis, same_shape
from .kernel_bias import KernelBiasMixin
from .shapes import product


def _positive_int(layer, name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive integer. "
            f"Received: {name}={value}"
        )
    return int(value)


class Dense(KernelBiasMixin, Layer):
    """y = activation(x @ kernel + bias), applied to the last axis.

    Args:
        units: output size.
        activation: a name ('relu', 'softmax', ...) or a callable; None is linear.
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer of the kernel ('glorot_uniform').
        bias_initializer: initializer of the bias ('zeros').
        kernel_regularizer: penalty on the kernel added to the loss.
        bias_regularizer: penalty on the bias.
        activity_regularizer: penalty on the output.
        kernel_constraint: projection applied to the kernel after each update.
        bias_constraint: projection applied to the bias.

    Input shape: (batch, ..., input_dim).  Output shape: (batch, ..., units).

    Example:
    >>> import numpy as np, shendu
    >>> layer = shendu.layers.Dense(3, activation="relu")
    >>> layer(np.ones((2, 4))).shape
    (2, 3)
    """

    replay_safe = True

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _positive_int(self, "units", units)
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
        self.supports_masking = True

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(
                f"Layer {self.name!r}: the last axis of the input must be known to build a "
                f"Dense layer. Received: input_shape={input_shape}"
            )
        self._add_kernel_and_bias((in_dim, self.units), self.units)
        self.input_dim = in_dim
        self.built = True

    def _check_input(self, x):
        check_last_axis(self, x, self.input_dim)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, inputs):
        name = self._fused_activation_name()
        if name is not None:  # relu/tanh inside the linear node
            return ops.linear(inputs, self.kernel, self.bias, activation=name)
        y = ops.linear(inputs, self.kernel, self.bias)
        return self.activation(y) if self.activation is not activations.linear else y

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                **self._kernel_bias_config(),
            }
        )
        return config


class Activation(Layer):
    """Applies an activation function: y = activation(x).

    Args:
        activation: a name ("relu", "softmax", ...) or a callable.
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    replay_safe = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Sets a fraction ``rate`` of inputs to 0 when training, scaling the rest by 1/(1-rate).

    Identity at inference. ``seed`` fixes this layer's own generator.

    Args:
        rate: the fraction of inputs set to 0, in [0, 1).
        noise_shape: the shape of the mask, 1 where one draw is shared along an axis
            (e.g. ``(batch, 1, features)`` drops the same features at every step).
        seed: an integer seed of the layer's own generator.
        **kwargs: the Layer options (name, dtype, trainable).
    """

    replay_safe = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate}"
            )
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        from .. import backend

        self.generator = backend.make_generator(seed) if seed is not None else None
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        return ops.dropout(inputs, self.rate, self.noise_shape, seed=self.generator)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


class Flatten(Layer):
    """Flattens every axis but the batch axis: (batch, d1, d2, ...) -> (batch, d1*d2*...).

    Args:
        data_format: "channels_last" or "channels_first" (channels first: the input is moved to
            channels last before flattening, as Keras).
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    replay_safe = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first" and x.ndim > 2:
            x = ops.moveaxis(x, 1, -1)
        return ops.reshape(x, (x.shape[0], -1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], product(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes to ``(batch,) + target_shape``; one entry may be -1.

    Args:
        target_shape: the shape without the batch axis; one entry may be -1 (inferred).
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    replay_safe = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        if sum(s == -1 for s in self.target_shape) > 1 or any(
            s < -1 or s == 0 for s in self.target_shape
        ):
            raise ValueError(
                "Reshape: `target_shape` may hold one -1 and positive sizes. "
                f"Received: target_shape={target_shape}"
            )

    def call(self, inputs):
        size = int(np.prod(inputs.shape[1:]))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        if (-1 not in self.target_shape and known != size) or (known and size % known):
            raise ValueError(
                f"Layer {self.name!r}: cannot reshape an input of shape "
                f"{(None,) + tuple(inputs.shape[1:])} to {(None,) + self.target_shape}"
            )
        return ops.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        target: tuple[int | None, ...] = self.target_shape
        if -1 in target:
            size = product(input_shape[1:])
            known = product([s for s in target if s != -1])
            fill = None if size is None or not known else size // known
            target = tuple(fill if s == -1 else s for s in target)
        return (input_shape[0],) + target

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Lambda(Layer):
    """Wraps a function of Tensors as a layer: ``Lambda(lambda x: x * 2)``.

    Its function is not saved in configs as code: loading a model with a Lambda
    layer needs the function passed in ``custom_objects`` (or ``safe_mode=False``
    where supported); see the saving guide.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: expected a callable. Received: {function!r}")
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape

    def call(self, inputs, mask=None, training=None):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        return {
            **super().get_config(),
            "function": getattr(self.function, "__name__", "lambda"),
            "arguments": self.arguments,
        }

    @classmethod
    def from_config(cls, config):
        from ..naming import scoped_objects, scoped_safe_mode

        config = dict(config)
        fn = config.pop("function")
        if callable(fn):
            return cls(fn, **config)
        if scoped_safe_mode():
            raise ValueError(
                f"Lambda layer {config.get('name')!r}: refusing to rebuild a Lambda function "
                "from a config under safe_mode=True. Pass safe_mode=False and the function "
                f"itself in custom_objects={{{fn!r}: your_function}} to opt in."
            )
        if fn not in scoped_objects():
            raise ValueError(
                f"Lambda layer {config.get('name')!r}: the function {fn!r} must be passed in "
                "custom_objects (its code is never stored in the file)"
            )
        return cls(scoped_objects()[fn], **config)


class Identity(Layer):
    """Returns its input unchanged."""

    replay_safe = True

    supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return inputs
