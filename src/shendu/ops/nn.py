"""Neural-network ops: softmax, cross-entropies (fused with the logits), dropout, normalisation.

Cross-entropy from probabilities is rewritten to the fused logits form when the
probabilities come straight from ``softmax``/``sigmoid`` (as Keras does), so a
softmax output layer trained with categorical cross-entropy is as stable as
``from_logits=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.normalization import (
    BATCH_COLUMN_SUMS,
    BATCH_GRADIENT_SUMS,
    BATCH_NORM_INPUT_GRAD,
    BATCH_NORMALIZE,
    LAYER_NORM_BACKWARD,
    LAYER_NORM_FORWARD,
)
from ..lazy import lazy_attributes
from ._util import as_tensor, data_of, normalize_axis, split_batch, sum_to_shape
from .activation import Sigmoid, _sigmoid
from .arithmetic import clip, exp, log, multiply, sum_to
from .dtypes import float_tensor, promote
from .reduction import logsumexp, mean
from .reduction import sum as _sum
from .shape import reshape

EPSILON = 1e-7
# Batch norm's column sums are taken by blocks of this many rows, each block's partial sums
# in float64, added in block order: the same result on any number of threads.
SUM_BLOCK_ROWS = 1024


def _over_rows(xp, fn, n_rows, size):
    """``fn(a, e)`` over ranges of ``n_rows``, split over threads for a single NumPy pass
    over ``size`` elements (``split_batch`` with ``parallel.MIN_PASS_ELEMENTS``)."""
    split_batch(xp, fn, n_rows, size, min_size=parallel.MIN_PASS_ELEMENTS)


def _sum_blocks(rows):
    """The number of SUM_BLOCK_ROWS blocks covering ``rows`` rows."""
    return -(-rows // SUM_BLOCK_ROWS)


def _log_softmax_array(xp, z, axis=-1):
    """log softmax(z) = (z - max) - log sum exp(z - max); finite for logits of any size."""
    m = z.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = z - m
    return s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))


def _softmax_array(xp, x, axis):
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    e = xp.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Function):
    """y = exp(x) / sum exp(x) along ``axis``.  dx = y * (gy - sum(gy * y))."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.y = _softmax_array(backend.array_module(x), x, self.axis)
        return self.y

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))

    def backward_graph(self, gy):
        (x,) = self.inputs
        y = softmax(x, self.axis)
        return y * (gy - _sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``.  dx = gy - softmax(x) * sum(gy)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.y = _log_softmax_array(backend.array_module(x), x, self.axis)
        return self.y

    def backward(self, gy):
        xp = backend.array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)

    def backward_graph(self, gy):
        (x,) = self.inputs
        return gy - softmax(x, self.axis) * _sum(gy, axis=self.axis, keepdims=True)


def softmax(x, axis=-1):
    """Softmax along ``axis`` (stable for logits of any size)."""
    x = float_tensor(x)
    axis = normalize_axis(axis, x.ndim, "softmax")[0] if x.ndim else 0
    y = Softmax(axis).apply(x)
    y._keras_logits = x if axis == x.ndim - 1 else None
    return y


def log_softmax(x, axis=-1):
    """log(softmax(x)) computed without forming the softmax (stable)."""
    x = float_tensor(x)
    axis = normalize_axis(axis, x.ndim, "log_softmax")[0] if x.ndim else 0
    return LogSoftmax(axis).apply(x)


# --------------------------------------------------------------------------- cross-entropies


class SoftmaxCrossEntropy(Function):
    """loss = -sum_k t_k log softmax(z)_k over the last axis (per sample).

    dz = gy * (softmax(z) * sum_k t_k - t),  dt = -gy * log_softmax(z).
    """

    def forward(self, t, z):
        logp = _log_softmax_array(backend.array_module(z), z)
        self.t, self.logp = t, logp
        return -(t * logp).sum(axis=-1)

    def backward(self, gy):
        xp = backend.array_module(gy)
        t, logp = self.t, self.logp
        g = gy[..., None]
        nt, nz = self.needs_input_grad
        gz = g * (xp.exp(logp) * t.sum(axis=-1, keepdims=True) - t) if nz else None
        gt = -g * logp if nt else None
        return gt, gz

    def backward_graph(self, gy):
        t, z = self.inputs
        g = reshape(gy, gy.shape + (1,))
        p = softmax(z, -1)
        gz = g * (p * _sum(t, axis=-1, keepdims=True) - t)
        gt = -g * log_softmax(z, -1)
        return gt, gz


class SparseSoftmaxCrossEntropy(Function):
    """loss = logsumexp(z) - z[label] (per sample).  dz = gy * (softmax(z) - onehot(label))."""

    def __init__(self, labels):
        self.labels = labels

    def forward(self, z):
        xp = backend.array_module(z)
        logp = _log_softmax_array(xp, z)
        self.logp = logp
        picked = xp.take_along_axis(logp, self.labels[..., None], axis=-1)[..., 0]
        return -picked

    def _onehot(self, xp, dtype):
        k = self.logp.shape[-1]
        return (self.labels[..., None] == xp.arange(k)).astype(dtype)

    def backward(self, gy):
        xp = backend.array_module(gy)
        return gy[..., None] * (xp.exp(self.logp) - self._onehot(xp, gy.dtype))

    def backward_graph(self, gy):
        (z,) = self.inputs
        xp = backend.array_module(gy.data)
        return reshape(gy, gy.shape + (1,)) * (softmax(z, -1) - self._onehot(xp, gy.dtype))


class SigmoidCrossEntropy(Function):
    """loss = max(z, 0) - z t + log(1 + exp(-|z|)) elementwise.

    dz = gy * (sigmoid(z) - t),  dt = -gy * z.
    """

    def forward(self, t, z):
        xp = backend.array_module(z)
        self.t, self.z = t, z
        return xp.maximum(z, 0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))

    def backward(self, gy):
        xp = backend.array_module(gy)
        nt, nz = self.needs_input_grad
        t, z = self.t, self.z
        gz = sum_to_shape(gy * (_sigmoid(xp, z) - t), z.shape) if nz else None
        gt = sum_to_shape(-gy * z, np.shape(t)) if nt else None
        return gt, gz

    def backward_graph(self, gy):
        from .activation import sigmoid

        t, z = self.inputs
        return sum_to(-gy * z, np.shape(data_of(t))), sum_to(gy * (sigmoid(z) - t), z.shape)


def _logits_of(output, creator_type):
    """The logits behind a softmax/sigmoid output, when they are known."""
    if not isinstance(output, Tensor):
        return None
    logits = getattr(output, "_keras_logits", None)
    if logits is not None and creator_type is Softmax:
        return logits
    c = output.creator
    if c is not None and isinstance(c, creator_type) and c.inputs is not None:
        if creator_type is Softmax and c.axis != output.ndim - 1:
            return None
        return c.inputs[0]
    return None


def _check_same_shape(op, target, output):
    if tuple(np.shape(target)) != tuple(output.shape):
        raise ValueError(
            f"{op}: `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(np.shape(target))}, output.shape={output.shape}"
        )


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample cross-entropy between one-hot (or soft) targets and predictions.

    loss = -sum_k target_k log p_k, with p = softmax(output) when ``from_logits``;
    otherwise p = output / sum(output) clipped to [1e-7, 1 - 1e-7] (Keras), unless
    ``output`` came from ``softmax``, in which case its logits are used (stable).
    """
    target, output = promote(target, output, float_result=True)
    output = as_tensor(output)
    _check_same_shape("categorical_crossentropy", data_of(target), output)
    if axis not in (-1, output.ndim - 1):
        target = as_tensor(target)
        from .shape import moveaxis

        target, output = moveaxis(target, axis, -1), moveaxis(output, axis, -1)
    if not from_logits:
        logits = _logits_of(output, Softmax)
        if logits is not None:
            output, from_logits = logits, True
    if from_logits:
        return SoftmaxCrossEntropy().apply(target, output)
    p = output / _sum(output, axis=-1, keepdims=True)
    p = clip(p, EPSILON, 1 - EPSILON)
    return -_sum(multiply(target, log(p)), axis=-1)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample cross-entropy with integer class labels: loss = -log p[label]."""
    output = float_tensor(output)
    labels = data_of(target)
    xp = backend.array_module(output.data)
    labels = xp.asarray(labels)
    if labels.dtype.kind == "f":
        if labels.size and not xp.all(labels == xp.round(labels)):
            raise ValueError(
                "sparse_categorical_crossentropy: expected integer class labels. Received "
                "non-integer floats; for one-hot labels use categorical_crossentropy."
            )
        labels = labels.astype(np.int64)
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != output.shape[:-1]:
        hint = (
            " (one-hot labels? use categorical_crossentropy)"
            if labels.shape == output.shape
            else ""
        )
        raise ValueError(
            "sparse_categorical_crossentropy: expected labels of shape "
            f"{output.shape[:-1]} for output shape {output.shape}. "
            f"Received: labels shape={labels.shape}{hint}"
        )
    k = output.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"sparse_categorical_crossentropy: labels must be in [0, {k}). "
            f"Received: labels in [{int(labels.min())}, {int(labels.max())}]"
        )
    if not from_logits:
        logits = _logits_of(output, Softmax)
        if logits is not None:
            output, from_logits = logits, True
    if from_logits:
        return SparseSoftmaxCrossEntropy(labels).apply(output)
    p = output / _sum(output, axis=-1, keepdims=True)
    p = clip(p, EPSILON, 1 - EPSILON)
    from .shape import take_along_axis

    picked = take_along_axis(log(p), labels[..., None], axis=-1)
    return -reshape(picked, labels.shape)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy: -(t log p + (1 - t) log(1 - p)).

    p = sigmoid(output) when ``from_logits`` (computed stably), else output clipped
    to [1e-7, 1 - 1e-7], unless ``output`` came from ``sigmoid`` (its logits are used).
    """
    target, output = promote(target, output, float_result=True)
    output = as_tensor(output)
    try:
        np.broadcast_shapes(np.shape(data_of(target)), output.shape)
    except ValueError:
        raise ValueError(
            "binary_crossentropy: `target` and `output` shapes do not broadcast. Received: "
            f"target.shape={np.shape(data_of(target))}, output.shape={output.shape}"
        ) from None
    if not from_logits:
        logits = _logits_of(output, Sigmoid)
        if logits is not None:
            output, from_logits = logits, True
    if from_logits:
        return SigmoidCrossEntropy().apply(target, output)
    p = clip(output, EPSILON, 1 - EPSILON)
    return -(multiply(target, log(p)) + multiply(1 - as_tensor(target, output.dtype), log(1 - p)))


# --------------------------------------------------------------------------- dropout


class Dropout(Function):
    """y = x * mask, mask = keep / (1 - rate) with keep ~ Bernoulli(1 - rate) drawn in
    forward over ``noise_shape`` (broadcast over the other axes).  dx = gy * mask.

    The mask is drawn inside the node, from ``seed`` (an int: a fresh generator from it each
    time; a Generator: that one) or else from the library's generator, so a recorded training
    step draws a new mask at every replay (``shendu.models.step_replay``).
    """

    def __init__(self, rate, noise_shape, seed):
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def forward(self, x):
        rng = backend.make_generator(self.seed) if self.seed is not None else backend.generator()
        shape = (
            x.shape
            if self.noise_shape is None
            else tuple(s if n is None else n for s, n in zip(x.shape, self.noise_shape))
        )
        mask = (rng.random(shape, dtype=np.float32) >= self.rate).astype(x.dtype)
        mask *= 1.0 / (1.0 - self.rate)
        self.mask = backend.array_module(x).asarray(mask)  # to the GPU when x is there
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask

    def backward_graph(self, gy):
        return gy * self.mask


def dropout(x, rate, noise_shape=None, seed=None):
    """Zero each value with probability ``rate`` and scale the rest by 1 / (1 - rate).

    ``seed``: an int or a ``numpy.random.Generator``; None draws from the library's
    seeded generator (``shendu.utils.set_random_seed``).
    """
    x = as_tensor(x)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: `rate` must be in [0, 1). Received: rate={rate}")
    if rate == 0:
        return x
    return Dropout(rate, noise_shape, seed).apply(x)


# --------------------------------------------------------------------------- normalisation


class Standardize(Function):
    """y = (x - mean) / std with std = sqrt(max(variance, 1e-7)), or with ``invert``
    y = x * std + mean; with ``impute_nan`` a NaN in y becomes 0 (the mean).
    dx = gy / std (gy * std inverted), 0 where a NaN was imputed.

    ``stats`` is any object with ``mean`` and ``variance`` arrays (a Normalization layer),
    read when forward runs: the statistics in force at each call, also in a recorded
    training step (shendu.models.step_replay).
    """

    def __init__(self, stats, invert=False, impute_nan=False, shape=None):
        self.stats, self.invert, self.impute_nan = stats, invert, impute_nan
        self.shape = shape  # the statistics reshaped to broadcast (None: as they are)

    def forward(self, x):
        xp = backend.array_module(x)
        mean, variance = xp.asarray(self.stats.mean), xp.asarray(self.stats.variance)
        if self.shape is not None:
            mean, variance = mean.reshape(self.shape), variance.reshape(self.shape)
        mean = mean.astype(x.dtype)
        std = xp.sqrt(xp.maximum(variance, 1e-7)).astype(x.dtype)
        self.std = std
        if self.invert:
            return x * std + mean
        y = (x - mean) / std
        self.nan = None
        if self.impute_nan:
            nan = xp.isnan(y)
            if nan.any():
                y[nan] = 0
                self.nan = nan
        return y

    def _gradient(self, gy, where):
        if self.invert:
            return gy * self.std
        gx = gy / self.std
        return gx if self.nan is None else where(self.nan, 0.0, gx)

    def backward(self, gy):
        return self._gradient(gy, backend.array_module(gy).where)

    def backward_graph(self, gy):
        from .arithmetic import where

        return self._gradient(gy, where)


def standardize(x, stats, invert=False, impute_nan=False, shape=None):
    """(x - stats.mean) / sqrt(stats.variance) in one node (see ``Standardize``); ``shape``
    reshapes the statistics to broadcast over ``x`` (a feature axis other than the last)."""
    return Standardize(stats, invert, impute_nan, shape).apply(as_tensor(x))


class Normalize(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, statistics over ``axes``.

    With xhat the normalised input, n the count over ``axes``, s = 1/sqrt(var + eps):
    dx = s * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * gamma;
    dgamma = sum(gy * xhat), dbeta = sum(gy) (each summed to its shape).
    First-order only (a fused op).
    """

    def __init__(self, axes, epsilon, rms=False, moving=None):
        self.axes, self.epsilon, self.rms = axes, epsilon, rms
        # (moving mean, moving variance, momentum): variables that forward updates with the
        # batch's statistics, moving = moving * momentum + batch * (1 - momentum); inside
        # the node, so that a recorded training step does it too
        self.moving = moving

    def _mean(self, a):
        """The mean over ``axes`` (kept as size-1 axes). Over the last axis alone (layer
        norm) it is a matrix-vector product with 1/n, which BLAS does faster than a reduction
        along short rows (docs/benchmarks.md, "stacked products")."""
        if self.last_axis:
            return (a @ self.ones_n)[..., None]
        return a.mean(axis=self.axes, keepdims=True)

    def _mean_of_product(self, a, b):
        """mean(a * b) over ``axes``, without the product array on the last-axis path."""
        if self.last_axis:
            return (self.xp.einsum("...i,...i->...", a, b) / a.shape[-1])[..., None]
        return (a * b).mean(axis=self.axes, keepdims=True)

    def _forward_rows(self, x, gamma, beta):
        """Layer norm over the last axis, as rows (kernels.normalization)."""
        xp, n = self.xp, x.shape[-1]
        x2 = xp.ascontiguousarray(x.reshape(-1, n))
        params = [_vector(xp, p, n, x.dtype) for p in (gamma, beta)]
        y, xhat = xp.empty_like(x2), xp.empty_like(x2)
        inv = xp.empty(x2.shape[0], dtype=x.dtype)
        LAYER_NORM_FORWARD(x2, *params, self.epsilon, self.rms, y, xhat, inv)
        self.mean = self.var = None
        if self.recording:
            self.xhat, self.inv, self.gamma = xhat, inv, params[0]
            self.param_shapes = (np.shape(gamma), np.shape(beta))
        return y.reshape(x.shape)

    def _backward_rows(self, gy):
        xp, n = self.xp, gy.shape[-1]
        needs = self.needs_input_grad
        gy2 = xp.ascontiguousarray(gy.reshape(-1, n))
        gx = xp.empty_like(gy2)
        grads = [xp.empty(n if len(needs) > k and needs[k] else 0, dtype=gy.dtype) for k in (1, 2)]
        LAYER_NORM_BACKWARD(gy2, self.xhat, self.inv, self.gamma, self.rms, gx, *grads)
        out = [gx.reshape(gy.shape)]
        for k, (g, shape) in enumerate(zip(grads, self.param_shapes), start=1):
            if len(needs) > k:
                out.append(g.reshape(shape) if needs[k] else None)
        return tuple(out)

    def _forward_columns(self, x, gamma, beta):
        """Batch norm over every axis but the last, as columns (kernels.normalization): the
        column sums by blocks of rows, then the normalisation by rows, each pass split over
        threads (``_over_rows``)."""
        xp, n = self.xp, x.shape[-1]
        x2 = xp.ascontiguousarray(x.reshape(-1, n))
        rows = x2.shape[0]
        params = [_vector(xp, p, n, x.dtype) for p in (gamma, beta)]
        y, xhat = xp.empty_like(x2), xp.empty_like(x2)
        blocks = _sum_blocks(rows)
        sums = xp.empty((blocks, n), dtype=xp.float64)

        def column_means(shift, square):
            _over_rows(
                xp,
                lambda a, e: BATCH_COLUMN_SUMS(x2, shift, square, sums, SUM_BLOCK_ROWS, a, e),
                blocks,
                x2.size,
            )
            return sums.sum(axis=0) / rows

        mean = column_means(xp.zeros(n, dtype=x.dtype), False).astype(x.dtype)
        var = column_means(mean, True).astype(x.dtype)
        inv = (1.0 / xp.sqrt(var.astype(xp.float64) + self.epsilon)).astype(x.dtype)
        _over_rows(
            xp,
            lambda a, e: BATCH_NORMALIZE(x2, mean, inv, *params, y, xhat, a, e),
            rows,
            x2.size,
        )
        stat_shape = (1,) * (x.ndim - 1) + (n,)
        self.mean, self.var = mean.reshape(stat_shape), var.reshape(stat_shape)
        if self.recording:
            self.xhat, self.inv, self.gamma = xhat, inv, params[0]
            self.param_shapes = (np.shape(gamma), np.shape(beta))
        self._update_moving(mean, var)
        return y.reshape(x.shape)

    def _backward_columns(self, gy):
        xp, n = self.xp, gy.shape[-1]
        needs = self.needs_input_grad
        gy2 = xp.ascontiguousarray(gy.reshape(-1, n))
        rows = gy2.shape[0]
        blocks = _sum_blocks(rows)
        sums1, sums2 = (xp.empty((blocks, n), dtype=xp.float64) for _ in range(2))
        _over_rows(
            xp,
            lambda a, e: BATCH_GRADIENT_SUMS(gy2, self.xhat, sums1, sums2, SUM_BLOCK_ROWS, a, e),
            blocks,
            gy2.size,
        )
        s1, s2 = sums1.sum(axis=0), sums2.sum(axis=0)
        gx = xp.empty_like(gy2)
        scale = self.inv * self.gamma if self.gamma.size else self.inv
        m1, m2 = (s1 / rows).astype(gy.dtype), (s2 / rows).astype(gy.dtype)
        _over_rows(
            xp,
            lambda a, e: BATCH_NORM_INPUT_GRAD(gy2, self.xhat, scale, m1, m2, gx, a, e),
            rows,
            gy2.size,
        )
        out = [gx.reshape(gy.shape)]
        for k, (s, shape) in enumerate(zip((s2, s1), self.param_shapes), start=1):
            if len(needs) > k:
                out.append(s.astype(gy.dtype).reshape(shape) if needs[k] else None)
        return tuple(out)

    def _update_moving(self, mu, var):
        if self.moving is not None:
            moving_mean, moving_var, m = self.moving
            moving_mean.data[...] = moving_mean.data * m + mu.reshape(-1) * (1 - m)
            moving_var.data[...] = moving_var.data * m + var.reshape(-1) * (1 - m)

    def forward(self, x, gamma=None, beta=None):
        xp = self.xp = backend.array_module(x)
        n = x.shape[-1] if x.ndim else 1
        self.last_axis = self.axes == (x.ndim - 1,) and x.dtype.kind == "f" and n > 1
        self.rows = self.last_axis and self.moving is None and _row_params(gamma, beta, n)
        if self.rows:
            return self._forward_rows(x, gamma, beta)
        # batch norm, channels last: statistics per channel over every other axis
        self.columns = (
            not self.rms
            and x.ndim >= 2
            and x.size > 0
            and x.dtype.kind == "f"
            and x.dtype.itemsize >= 4  # float16 keeps NumPy's reductions, which widen
            and self.axes == tuple(range(x.ndim - 1))
            and _row_params(gamma, beta, n)
        )
        if self.columns:
            return self._forward_columns(x, gamma, beta)
        if self.last_axis:
            self.ones_n = xp.full(n, 1.0 / n, dtype=x.dtype)
        mu: Any
        if self.rms:
            mu = None
            var = self._mean_of_product(x, x)
            centered = x
        else:
            mu = self._mean(x)
            centered = x - mu
            var = self._mean_of_product(centered, centered)
        inv = 1.0 / xp.sqrt(var + self.epsilon)
        xhat = centered * inv
        self.mean, self.var = mu, var
        y = xhat
        if gamma is not None:
            y = y * gamma
        if beta is not None:
            y = y + beta if gamma is None else xp.add(y, beta, out=y)
        if self.recording:
            self.xhat, self.inv, self.gamma = xhat, inv, gamma
            self.param_shapes = (np.shape(gamma), np.shape(beta))
        self._update_moving(mu, var)
        return y.astype(x.dtype, copy=False)

    def _param_grad(self, gy, other, shape):
        """sum over all but the parameter's axes of gy * other (or of gy when other is None)."""
        if self.last_axis and shape == gy.shape[-1:]:
            g2 = gy.reshape(-1, gy.shape[-1])
            if other is None:
                return self.xp.ones(g2.shape[0], dtype=gy.dtype) @ g2
            return self.xp.einsum("ni,ni->i", g2, other.reshape(g2.shape))
        return sum_to_shape(gy if other is None else gy * other, shape)

    def backward(self, gy):
        if self.rows:
            return self._backward_rows(gy)
        if self.columns:
            return self._backward_columns(gy)
        xhat, inv = self.xhat, self.inv
        needs = self.needs_input_grad
        g = gy * self.gamma if self.gamma is not None else gy
        gx = xhat * self._mean_of_product(g, xhat)
        self.xp.subtract(g, gx, out=gx)
        if not self.rms:
            gx -= self._mean(g)
        gx *= inv
        gx = gx.astype(gy.dtype, copy=False)
        out = [gx]
        if len(needs) > 1:
            out.append(self._param_grad(gy, xhat, self.param_shapes[0]) if needs[1] else None)
        if len(needs) > 2:
            out.append(self._param_grad(gy, None, self.param_shapes[1]) if needs[2] else None)
        return tuple(out)


def _row_params(gamma, beta, n):
    """Whether gamma and beta (either may be None) are per-feature vectors of the last
    axis (n,) (or broadcast to it), as layer norm's are."""
    return all(p is None or np.shape(p) in ((n,), (1,) * (len(np.shape(p)) - 1) + (n,))
               for p in (gamma, beta))  # fmt: skip


def _vector(xp, p, n, dtype):
    """A parameter as a contiguous (n,) array, or an empty array for None."""
    if p is None:
        return xp.empty(0, dtype=dtype)
    return xp.ascontiguousarray(xp.asarray(p, dtype=dtype).reshape(n))


def _normalize(x, gamma, beta, axes, epsilon, rms=False, moving=None):
    fn = Normalize(axes, epsilon, rms, moving)
    args = [x]
    if gamma is not None or beta is not None:
        args.append(gamma)
    if beta is not None:
        args.append(beta)
    return fn, fn.apply(*args)


def batch_norm_train(x, gamma, beta, axis=-1, epsilon=1e-3, moving=None):
    """Batch normalisation with the batch's statistics (one fused node).

    Returns (y, batch_mean, batch_var) with the statistics over every axis except ``axis``.
    ``moving``: (moving_mean, moving_variance, momentum), variables the node updates with
    moving = moving * momentum + batch * (1 - momentum).
    """
    x = as_tensor(x)
    keep = normalize_axis(axis, x.ndim, "batch_norm")
    axes = tuple(i for i in range(x.ndim) if i not in keep)
    fn, y = _normalize(x, gamma, beta, axes, epsilon, moving=moving)
    return y, fn.mean.reshape(-1), fn.var.reshape(-1)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalise with given statistics: (x - mean) / sqrt(variance + eps) * scale + offset."""
    x = float_tensor(x)
    axis = axis % x.ndim
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def r(v):
        return None if v is None else reshape(as_tensor(v, x.dtype), tuple(shape))

    from .arithmetic import sqrt

    y = (x - r(mean)) / sqrt(r(variance) + epsilon)
    if scale is not None:
        y = y * r(scale)
    if offset is not None:
        y = y + r(offset)
    return y


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    """Normalise over ``axis`` per sample, then scale by gamma and shift by beta (fused);
    epsilon defaults to ``backend.epsilon()`` as in Keras."""
    epsilon = backend.epsilon() if epsilon is None else epsilon
    x = float_tensor(x)
    axes = normalize_axis(axis, x.ndim, "layer_normalization")
    return _normalize(x, gamma, beta, axes, epsilon)[1]


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """y = x / sqrt(mean(x**2) + eps) * scale over ``axis`` (fused); epsilon defaults to
    ``backend.epsilon()`` as in Keras."""
    epsilon = backend.epsilon() if epsilon is None else epsilon
    x = float_tensor(x)
    axes = normalize_axis(axis, x.ndim, "rms_normalization")
    return _normalize(x, scale, None, axes, epsilon, rms=True)[1]


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance over ``axes`` (``synchronized``, for multi-device batch statistics,
    changes nothing on one process)."""
    m = mean(x, axis=axes, keepdims=True)
    from .arithmetic import square

    v = mean(square(x - m), axis=axes, keepdims=keepdims)
    if not keepdims:
        m = mean(x, axis=axes)
    return m, v


__all__ = [
    "batch_norm_train",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "dropout",
    "exp",
    "layer_normalization",
    "log_softmax",
    "logsumexp",
    "moments",
    "rms_normalization",
    "softmax",
    "sparse_categorical_crossentropy",
]


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encode integer labels: for each sample (the last axis holds its labels), 1
    at every class present (not differentiable). ``num_tokens`` is Keras's old name."""
    from .shape import one_hot

    num_classes = kwargs.pop("num_tokens", num_classes)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}")
    encoded = one_hot(inputs, num_classes, axis=-1, dtype=dtype)
    data = encoded.data
    reduced = data.max(axis=-2) if data.ndim > 1 else data
    if axis != -1:
        reduced = np.moveaxis(reduced, -1, axis)
    return Tensor.wrap(reduced)


def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(||x||_order, epsilon) along ``axis`` (epsilon: backend.epsilon()).

    For ``order=2`` it is x * rsqrt(max(sum(x**2), epsilon**2)), the same numbers as Keras's
    x * min(rsqrt(sum(x**2)), 1 / epsilon) without the infinity: the gradient is finite at
    a zero vector (the maximum takes the constant there).
    """
    from .arithmetic import maximum
    from .reduction import norm
    from .reduction import sum as reduce_sum

    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    eps = backend.epsilon() if epsilon is None else epsilon
    x = as_tensor(x)
    if x.ndim == 0:
        x = x.reshape((1,))
    if order == 2:
        from .elementwise import rsqrt

        square_sum = reduce_sum(x * x, axis=axis, keepdims=True)
        return x * rsqrt(maximum(square_sum, eps * eps))
    return x / maximum(norm(x, ord=order, axis=axis, keepdims=True), eps)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio: 20 log10(max_val) - 10 log10(mean((x1 - x2)**2))."""
    from .elementwise import log10
    from .reduction import mean

    x1, x2 = as_tensor(x1), as_tensor(x2)
    if x1.shape != x2.shape:
        raise ValueError(
            f"Input shapes {x1.shape} and {x2.shape} must match for PSNR calculation."
        )
    mse = mean((x1 - x2) * (x1 - x2))
    return 20.0 * np.log10(max_val) - 10.0 * log10(mse)


# ``keras.ops.nn``: the grouped namespace also holds the activations, convolutions, pooling
# and the other nn functions defined in their own modules (the rarely used ones on first use).
from .activation import (  # noqa: E402
    celu,
    elu,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    log_sigmoid,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    swish,
    tanh_shrink,
    threshold,
)
from .attention import dot_product_attention  # noqa: E402
from .conv import average_pool, conv, conv_transpose, depthwise_conv, max_pool  # noqa: E402
from .shape import one_hot  # noqa: E402

_LAZY = {
    "polar": "core",
    "ctc_decode": "ctc",
    "ctc_loss": "ctc",
    "adaptive_average_pool": "spatial",
    "adaptive_max_pool": "spatial",
    "depth_to_space": "spatial",
    "fold": "spatial",
    "separable_conv": "spatial",
    "space_to_depth": "spatial",
    "unfold": "spatial",
}


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __package__)


__all__ = [
    "average_pool",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "dot_product_attention",
    "dropout",
    "elu",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "layer_normalization",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "psnr",
    "relu",
    "relu6",
    "rms_normalization",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "standardize",
    "swish",
    "tanh_shrink",
    "threshold",
] + list(_LAZY)


from ._util import export_ops  # noqa: E402

export_ops(globals())
