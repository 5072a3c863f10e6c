"""Reductions over axes: sum, mean, max, min, prod, var, std, logsumexp, norm, arg-reductions."""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import as_tensor, data_of, expand_reduced, normalize_axis
from .arithmetic import abs as _abs
from .arithmetic import cast as _cast
from .arithmetic import exp, sqrt, square
from .dtypes import accumulation_dtype, index_dtype, mean_dtype
from .shape import broadcast_to, reshape


def _reduced_count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Sum(Function):
    """y = sum of x over ``axes``.  dx = gy broadcast back to x's shape."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims, dtype=x.dtype)

    def backward(self, gy):
        g = expand_reduced(gy, self.x_shape, self.axes, self.keepdims)
        xp = backend.array_module(g)
        if xp is np and g.size == 1 and math.prod(self.x_shape) <= 4096:
            # a small full reduction (a loss over a batch): filling a new array takes ~0.3 us,
            # broadcast_to ~2.7 us
            out = np.empty(self.x_shape, dtype=g.dtype)
            out.fill(g.reshape(())[()])
            return out
        return xp.broadcast_to(g, self.x_shape)

    def backward_graph(self, gy):
        g = reshape(gy, expand_reduced(gy.data, self.x_shape, self.axes, self.keepdims).shape)
        return broadcast_to(g, self.x_shape)


class Mean(Sum):
    """y = mean of x over ``axes``.  dx = gy / n broadcast back."""

    def forward(self, x):
        self.x_shape = x.shape
        self.n = _reduced_count(x.shape, self.axes)
        if x.dtype.kind != "f" or self.n == 0:
            return x.mean(axis=self.axes, keepdims=self.keepdims)
        # sum / n: what ndarray.mean computes, without its Python-level overhead
        return x.sum(axis=self.axes, keepdims=self.keepdims) / x.dtype.type(self.n)

    def backward(self, gy):
        return super().backward(gy / builtins.max(self.n, 1))

    def backward_graph(self, gy):
        return super().backward_graph(gy / builtins.max(self.n, 1))


class Max(Function):
    """y = max of x over ``axes``.  dx = gy shared equally among the maximal entries."""

    reduce_name = "max"

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{self.reduce_name}: zero-size input has no {self.reduce_name}imum")
        y = getattr(x, self.reduce_name)(axis=self.axes, keepdims=True)
        if self.recording:
            self.mask = x == y
            self.x_shape = x.shape
        return (
            y
            if self.keepdims
            else y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in self.axes))
        )

    def _weights(self, dtype):
        m = self.mask.astype(dtype)
        return m / m.sum(axis=self.axes, keepdims=True)

    def backward(self, gy):
        g = expand_reduced(gy, self.x_shape, self.axes, self.keepdims)
        return g * self._weights(gy.dtype)

    def backward_graph(self, gy):
        g = reshape(gy, expand_reduced(gy.data, self.x_shape, self.axes, self.keepdims).shape)
        return g * self._weights(gy.dtype)


class Min(Max):
    """y = min of x over ``axes``.  dx = gy shared equally among the minimal entries."""

    reduce_name = "min"


class Prod(Function):
    """y = prod of x over ``axes``.  dx_i = gy * prod_{j != i} x_j (exact with zeros)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        self.x = x
        return x.prod(axis=self.axes, keepdims=self.keepdims, dtype=x.dtype)

    def backward(self, gy):
        xp = backend.array_module(gy)
        x = self.x
        if x.size == 0:
            return xp.zeros_like(x)
        rest = [a for a in range(x.ndim) if a not in self.axes]
        perm = rest + list(self.axes)
        xt = x.transpose(perm)
        flat = xt.reshape(xt.shape[: len(rest)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(
            xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1),
            -1,
        )
        others = (left * right).reshape(xt.shape).transpose(np.argsort(perm))
        g = expand_reduced(gy, x.shape, self.axes, self.keepdims)
        return g * others

    def backward_graph(self, gy):
        # Graph form uses prod / x: exact where x has no zeros.
        (x,) = self.inputs
        y = prod(x, axis=self.axes, keepdims=True)
        g = reshape(gy, expand_reduced(gy.data, x.shape, self.axes, self.keepdims).shape)
        return g * y / x


class LogSumExp(Function):
    """y = log sum exp(x) over ``axes`` (shifted by the max).  dx = gy * softmax(x)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        xp = backend.array_module(x)
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        y = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        self.x, self.y = x, y
        if self.keepdims:
            return y
        return y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy):
        xp = backend.array_module(gy)
        g = expand_reduced(gy, self.x.shape, self.axes, self.keepdims)
        return g * xp.exp(self.x - self.y)

    def backward_graph(self, gy):
        (x,) = self.inputs
        y = logsumexp(x, axis=self.axes, keepdims=True)
        g = reshape(gy, expand_reduced(gy.data, x.shape, self.axes, self.keepdims).shape)
        return g * exp(x - y)


def _reduce(cls, x, axis, keepdims, name):
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, name)
    if x.data.dtype.kind != "f":  # Keras's dtypes: sums of int8 in int32, means in float32
        if cls in (Sum, Prod):
            x = _cast(x, accumulation_dtype(x.data.dtype))
        elif cls in (Mean, LogSumExp):
            x = _cast(x, mean_dtype(x.data.dtype))
    return cls(axes, bool(keepdims)).apply(x)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - the keras.ops name
    return _reduce(Sum, x, axis, keepdims, "sum")


def mean(x, axis=None, keepdims=False):
    return _reduce(Mean, x, axis, keepdims, "mean")


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return _reduce(Max, x, axis, keepdims, "max")


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return _reduce(Min, x, axis, keepdims, "min")


amax, amin = max, min


def prod(x, axis=None, keepdims=False, dtype=None):
    if dtype is not None:
        from .arithmetic import cast

        x = cast(as_tensor(x), dtype)
    return _reduce(Prod, x, axis, keepdims, "prod")


def logsumexp(x, axis=None, keepdims=False):
    return _reduce(LogSumExp, x, axis, keepdims, "logsumexp")


def var(x, axis=None, keepdims=False):
    """Population variance: mean((x - mean(x))**2); twice differentiable (composed)."""
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        x = _cast(x, mean_dtype(x.data.dtype))
    axes = normalize_axis(axis, x.ndim, "var")
    m = mean(x, axis=axes, keepdims=True)
    return mean(square(x - m), axis=axes, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """sqrt(var(x)); its gradient is infinite where the variance is 0."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - the keras.ops name
    """Vector norms (ord None/2: Euclidean, 1, inf, -inf, 0: the count of non-zeros, any
    other p: (sum |x|^p)^(1/p)) over one axis or the whole flattened input; matrix norms
    over two axes or for a 2-D input with a matrix ``ord`` ('fro', 'nuc', 1, -1, 2, -2, inf,
    -inf; ``decompositions.matrix_norm``)."""
    from .decompositions import matrix_norm

    x = as_tensor(x)
    if x.dtype.kind in "iub":
        from .arithmetic import cast

        x = cast(x, backend.floatx())
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return matrix_norm(x, "fro" if ord is None else ord, tuple(axis), keepdims)
    if axis is None and x.ndim == 2 and ord is not None:
        return matrix_norm(x, ord, (0, 1), keepdims)
    if ord in ("fro", "nuc"):
        raise ValueError(f"norm: ord={ord!r} needs a matrix (two axes)")
    if ord in (None, 2, "euclidean"):
        return sqrt(sum(square(x), axis=axis, keepdims=keepdims))
    if ord == 1:
        return sum(_abs(x), axis=axis, keepdims=keepdims)
    if ord in (np.inf, "inf"):
        return max(_abs(x), axis=axis, keepdims=keepdims)
    if ord in (-np.inf, "-inf"):
        return min(_abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        from .arithmetic import cast

        return sum(cast(x.data != 0, x.dtype), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)):
        from .arithmetic import power

        return power(sum(power(_abs(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)
    raise ValueError(f"norm: invalid `ord`. Received: ord={ord!r}")


def _nondiff(fn_name, x, axis, keepdims=False):
    a = data_of(x)
    a = a if hasattr(a, "shape") else np.asarray(a)
    xp = backend.array_module(a)
    y = getattr(xp, fn_name)(a, axis=axis, keepdims=keepdims)
    if fn_name in ("argmax", "argmin"):
        y = y.astype(index_dtype())
    return Tensor.wrap(y)


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum (not differentiable)."""
    return _nondiff("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum (not differentiable)."""
    return _nondiff("argmin", x, axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return _nondiff("any", x, axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return _nondiff("all", x, axis, keepdims)


from ._util import export_ops  # noqa: E402

export_ops(globals())
