"""Normalisation layers: Batch, Layer, Group, RMS and Unit normalisation."""

from __future__ import annotations

from .. import constraints, initializers, ops, regularizers
from ..naming import serialize
from .base import Layer, same_shape


class BatchNormalization(Layer):
    """Normalise with the batch statistics when training, the moving ones at inference.

    Training: y = gamma (x - mean_B) / sqrt(var_B + eps) + beta (one fused node), and
    moving = moving * momentum + batch * (1 - momentum). Inference uses the moving
    statistics (non-trainable weights). Weights, in Keras's order: gamma, beta,
    moving_mean, moving_variance.

    Args:
        axis: the features axis (the channels, -1 by default).
        momentum: the moving statistics' momentum.
        epsilon: added to the variance before its square root.
        center: learn the offset beta.
        scale: learn the scale gamma.
        beta_initializer: initializer of beta ("zeros").
        gamma_initializer: initializer of gamma ("ones").
        moving_mean_initializer: initializer of the moving mean ("zeros").
        moving_variance_initializer: initializer of the moving variance ("ones").
        beta_regularizer: penalty on beta.
        gamma_regularizer: penalty on gamma.
        beta_constraint: projection applied to beta after each update.
        gamma_constraint: projection applied to gamma after each update.
        **kwargs: the Layer options (name, dtype, trainable).
    """

    # the moving statistics are updated inside the normalisation node
    replay_safe = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        axis = self.axis % len(input_shape)
        dim = input_shape[axis]
        self._axis = axis
        self.gamma = (
            self.add_weight(
                (dim,),
                self.gamma_initializer,
                name="gamma",
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(
                (dim,),
                self.beta_initializer,
                name="beta",
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
            if self.center
            else None
        )
        self.moving_mean = self.add_weight(
            (dim,), self.moving_mean_initializer, trainable=False, name="moving_mean"
        )
        self.moving_variance = self.add_weight(
            (dim,), self.moving_variance_initializer, trainable=False, name="moving_variance"
        )

    def _param(self, v, ndim):
        if v is None:
            return None
        if self._axis == ndim - 1:
            return v
        shape = [1] * ndim
        shape[self._axis] = -1
        return ops.reshape(v, tuple(shape))

    compute_output_shape = same_shape

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if training and self.trainable:
            y, _, _ = ops.batch_norm_train(
                x,
                self._param(self.gamma, x.ndim),
                self._param(self.beta, x.ndim),
                self._axis,
                self.epsilon,
                moving=(self.moving_mean, self.moving_variance, self.momentum),
            )
            return y
        return ops.batch_normalization(  # the statistics as variables: a replayed
            x,  # inference call (models.step_replay) reads them when it runs
            self.moving_mean,
            self.moving_variance,
            self._axis,
            self.beta,
            self.gamma,
            self.epsilon,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "moving_mean_initializer": serialize(self.moving_mean_initializer),
            "moving_variance_initializer": serialize(self.moving_variance_initializer),
        }


class LayerNormalization(Layer):
    """Normalise each sample over ``axis``: gamma (x - mean) / sqrt(var + eps) + beta.

    Args:
        axis: the axis (or axes) normalised over, per sample.
        epsilon: added to the variance before its square root.
        center: learn the offset beta.
        scale: learn the scale gamma.
        rms_scaling: divide by the root mean square instead (no mean subtracted, no beta).
        beta_initializer: initializer of beta ("zeros").
        gamma_initializer: initializer of gamma ("ones").
        **kwargs: the Layer options (name, dtype, trainable; beta's and gamma's regularizers
            and constraints are not taken yet).
    """

    replay_safe = True

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        self._axes = tuple(a % len(input_shape) for a in axes)
        shape = tuple(input_shape[a] for a in self._axes)
        full = [1] * len(input_shape)
        for a in self._axes:
            full[a] = input_shape[a]
        self._param_shape = tuple(full[1:]) if self._axes != (len(input_shape) - 1,) else None
        self.gamma = (
            self.add_weight(shape, self.gamma_initializer, name="gamma") if self.scale else None
        )
        self.beta = (
            self.add_weight(shape, self.beta_initializer, name="beta")
            if self.center and not self.rms_scaling
            else None
        )

    compute_output_shape = same_shape

    def call(self, inputs):
        g, b = self.gamma, self.beta
        if self._param_shape is not None:
            g = None if g is None else ops.reshape(g, self._param_shape)
            b = None if b is None else ops.reshape(b, self._param_shape)
        if self.rms_scaling:
            return ops.rms_normalization(inputs, g, self._axes, self.epsilon)
        return ops.layer_normalization(inputs, g, b, self._axes, self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
        }


class GroupNormalization(Layer):
    """Normalise over groups of channels (and the spatial axes) per sample."""

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.groups, self.axis, self.epsilon = int(groups), axis, float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape):
        c = input_shape[self.axis]
        if c % self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a divisor of the number of channels "
                f"({c}). Received: input_shape={input_shape}"
            )
        self.gamma = (
            self.add_weight((c,), self.gamma_initializer, name="gamma") if self.scale else None
        )
        self.beta = (
            self.add_weight((c,), self.beta_initializer, name="beta") if self.center else None
        )

    compute_output_shape = same_shape

    def call(self, inputs):
        x = inputs
        if self.axis not in (-1, x.ndim - 1):
            x = ops.moveaxis(x, self.axis, -1)
        shape = x.shape
        g = self.groups
        xg = ops.reshape(x, shape[:-1] + (g, shape[-1] // g))
        axes = tuple(range(1, xg.ndim - 2)) + (xg.ndim - 1,)
        y = ops.reshape(ops.layer_normalization(xg, None, None, axes, self.epsilon), shape)
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        if self.axis not in (-1, inputs.ndim - 1):
            y = ops.moveaxis(y, -1, self.axis)
        return y

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }


class RMSNormalization(Layer):
    """y = x / sqrt(mean(x^2) + eps) * scale over ``axis``."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, float(epsilon)

    def build(self, input_shape):
        self.scale = self.add_weight((input_shape[self.axis],), "ones", name="scale")

    compute_output_shape = same_shape

    def call(self, inputs):
        return ops.rms_normalization(inputs, self.scale, self.axis, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm along ``axis``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    compute_output_shape = same_shape

    def call(self, inputs):
        return inputs / ops.sqrt(
            ops.maximum(ops.sum(ops.square(inputs), axis=self.axis, keepdims=True), 1e-12)
        )

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
