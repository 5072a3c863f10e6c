"""Activation functions as elementwise ops, each with its derivative stated beside it.

The forms avoid overflow for large |x| (no ``exp`` of a large positive number),
so logits of +-1000 give finite values and gradients.
"""

from __future__ import annotations

import math

import numpy as np

from .. import parallel
from ..kernels.activations import GELU_BACKWARD, GELU_FORWARD
from ._util import split_elements
from .arithmetic import Unary, _unary

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(xp, x):
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)


class Sigmoid(Unary):
    """y = 1 / (1 + exp(-x)).  dy/dx = y (1 - y)."""

    def f(self, xp, x):
        return _sigmoid(xp, x)

    def df(self, xp, x, y):
        return y * (1 - y)


class Softplus(Unary):
    """y = log(1 + exp(x)).  dy/dx = sigmoid(x)."""

    def f(self, xp, x):
        return _softplus(xp, x)

    def df(self, xp, x, y):
        return xp.sigmoid(x) if not hasattr(xp, "ndarray") else _sigmoid(xp, x)


class Softsign(Unary):
    """y = x / (1 + |x|).  dy/dx = 1 / (1 + |x|)**2."""

    def f(self, xp, x):
        x = xp.clip(x, -1e30, 1e30)  # so that +-inf gives +-1, not inf / inf
        return x / (1 + xp.abs(x))

    def df(self, xp, x, y):
        r = 1 / (1 + xp.abs(x))
        return r * r


def _relu_into(x, out):
    np.maximum(x, 0, out=out)


def _through_relu_into(gy, x, out):
    """out = gy * (x > 0) (the mask a slice at a time, in cache)."""
    np.multiply(gy, x > 0, out=out)


class Relu(Unary):
    """y = max(x, 0).  dy/dx = 1 where x > 0, else 0."""

    integer_result = True  # Keras: relu of int8 is int8, of bool int32
    bools_in_int32 = True

    def f(self, xp, x):
        return xp.maximum(x, 0)

    def df(self, xp, x, y):
        return x > 0

    def forward(self, x):
        if type(x) is not np.ndarray or x.dtype.kind != "f":
            return super().forward(x)
        y = split_elements(np, _relu_into, np.empty_like(x), x)
        if self.recording:
            self.x, self.y = x, y
        return y

    def backward(self, gy):
        x = self.x
        if type(gy) is not np.ndarray or type(x) is not np.ndarray or gy.dtype != x.dtype:
            return super().backward(gy)
        return split_elements(np, _through_relu_into, np.empty_like(gy), gy, x)

    def backward_graph(self, gy):
        (x,) = self.inputs
        return gy * (x.data > 0).astype(gy.dtype)


class Relu6(Unary):
    """y = min(max(x, 0), 6).  dy/dx = 1 on (0, 6), else 0."""

    def f(self, xp, x):
        return xp.clip(x, 0, 6).astype(x.dtype, copy=False)

    def df(self, xp, x, y):
        return (x > 0) & (x < 6)

    def backward_graph(self, gy):
        (x,) = self.inputs
        return gy * ((x.data > 0) & (x.data < 6)).astype(gy.dtype)


class LeakyRelu(Unary):
    """y = x if x > 0 else negative_slope * x.  dy/dx = 1 or negative_slope."""

    def __init__(self, negative_slope=0.2):
        self.negative_slope = negative_slope

    def params(self):
        return {"negative_slope": self.negative_slope}

    def f(self, xp, x):
        return xp.where(x > 0, x, x * self.negative_slope)

    def df(self, xp, x, y):
        return xp.where(x > 0, 1.0, self.negative_slope)


class Elu(Unary):
    """y = x if x > 0 else alpha (exp(x) - 1).  dy/dx = 1 or y + alpha."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def params(self):
        return {"alpha": self.alpha}

    def f(self, xp, x):
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def df(self, xp, x, y):
        return xp.where(x > 0, 1.0, y + self.alpha)


class Selu(Unary):
    """y = scale * elu(x, alpha) with the self-normalising constants.

    dy/dx = scale where x > 0, else y + scale * alpha.
    """

    def f(self, xp, x):
        return SELU_SCALE * xp.where(x > 0, x, SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))

    def df(self, xp, x, y):
        return xp.where(x > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
# Below this, x * sigmoid(x)-like products are 0 in float32 and float64; clamping keeps
# -inf * 0 from turning into NaN.
_LOW = -200.0


class GeluTanh(Unary):
    """y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x**3).

    dy/dx = (1 + t)/2 + x/2 (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 x**2), t = tanh(u).
    """

    def f(self, xp, x):
        x = xp.clip(x, _LOW, -_LOW)
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))

    def df(self, xp, x, y):
        x = xp.clip(x, _LOW, -_LOW)
        t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)


class GeluErf(Unary):
    """y = x/2 (1 + erf(x / sqrt 2)).  dy/dx = Phi(x) + x phi(x).

    On float32 NumPy arrays with the compiled loops selected, forward and backward are one
    pass each (``kernels.activations``), split over ``shendu.parallel``'s threads."""

    fused = False

    def forward(self, x):
        self.fused = isinstance(x, np.ndarray) and GELU_FORWARD.runs_compiled(x)
        if not self.fused:
            return super().forward(x)
        x1 = np.ascontiguousarray(x).reshape(-1)
        y1 = np.empty_like(x1)
        parallel.for_chunks(lambda a, e: GELU_FORWARD(x1, y1, a, e), x1.size, x1.size)
        if self.recording:
            self.x = x1
        return y1.reshape(x.shape)

    def backward(self, gy):
        if not self.fused:
            return super().backward(gy)
        gy1 = np.ascontiguousarray(gy, dtype=self.x.dtype).reshape(-1)
        gx1 = np.empty_like(gy1)
        parallel.for_chunks(lambda a, e: GELU_BACKWARD(self.x, gy1, gx1, a, e), gx1.size, gx1.size)
        return gx1.reshape(gy.shape)

    def f(self, xp, x):
        from .arithmetic import _erf_array

        if hasattr(xp, "ndarray"):
            return 0.5 * x * (1 + _erf_array(xp, x / math.sqrt(2)))
        return 0.5 * x * (1 + xp.erf(x / math.sqrt(2)))

    def df(self, xp, x, y):
        from .arithmetic import _erf_array

        erf = _erf_array if hasattr(xp, "ndarray") else (lambda _, v: xp.erf(v))
        cdf = 0.5 * (1 + erf(xp, x / math.sqrt(2)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return cdf + x * pdf


class Silu(Unary):
    """y = x sigmoid(x).  dy/dx = s + x s (1 - s), s = sigmoid(x)."""

    def f(self, xp, x):
        x = xp.maximum(x, _LOW)
        return x * (_sigmoid(xp, x) if hasattr(xp, "ndarray") else xp.sigmoid(x))

    def df(self, xp, x, y):
        x = xp.maximum(x, _LOW)
        s = _sigmoid(xp, x) if hasattr(xp, "ndarray") else xp.sigmoid(x)
        return s + x * s * (1 - s)


class HardSigmoid(Unary):
    """y = relu6(x + 3) / 6 (Keras 3).  dy/dx = 1/6 on (-3, 3), else 0."""

    def f(self, xp, x):
        return (xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def df(self, xp, x, y):
        return ((x > -3) & (x < 3)) / 6.0

    def backward_graph(self, gy):
        (x,) = self.inputs
        return gy * (((x.data > -3) & (x.data < 3)) / 6.0).astype(gy.dtype)


class Mish(Unary):
    """y = x tanh(softplus(x)).  dy/dx = t + x (1 - t**2) sigmoid(x), t = tanh(softplus(x))."""

    def f(self, xp, x):
        x = xp.maximum(x, _LOW)
        sp = _softplus(xp, x) if hasattr(xp, "ndarray") else xp.softplus(x)
        return x * xp.tanh(sp)

    def df(self, xp, x, y):
        x = xp.maximum(x, _LOW)
        if hasattr(xp, "ndarray"):
            t, s = xp.tanh(_softplus(xp, x)), _sigmoid(xp, x)
        else:
            t, s = xp.tanh(xp.softplus(x)), xp.sigmoid(x)
        return t + x * (1 - t * t) * s


def sigmoid(x):
    return _unary(Sigmoid, x)


def softplus(x):
    return _unary(Softplus, x)


def softsign(x):
    return _unary(Softsign, x)


def relu(x):
    return _unary(Relu, x)


def relu6(x):
    return _unary(Relu6, x)


def leaky_relu(x, negative_slope=0.2):
    return _unary(LeakyRelu, x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return _unary(Elu, x, alpha=alpha)


def selu(x):
    return _unary(Selu, x)


def gelu(x, approximate=True):
    """GELU; ``approximate=True`` (the Keras default) is the tanh form, False the erf form."""
    return _unary(GeluTanh if approximate else GeluErf, x)


def silu(x):
    return _unary(Silu, x)


swish = silu


def hard_sigmoid(x):
    return _unary(HardSigmoid, x)


def mish(x):
    return _unary(Mish, x)


__all__ = [
    "elu",
    "gelu",
    "hard_sigmoid",
    "leaky_relu",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softplus",
    "softsign",
    "swish",
]


# ---------------------------------------------------------------- more Keras activations
# Compositions of differentiable ops: each formula is its own derivative's statement.


def celu(x, alpha=1.0):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    from .arithmetic import exp, maximum, minimum

    return maximum(x, 0.0) + minimum(alpha * (exp(_t(x) / alpha) - 1.0), 0.0)


def glu(x, axis=-1):
    """a * sigmoid(b), with a and b the two halves of ``x`` along ``axis``."""
    from .shape import split

    x = _t(x)
    if x.shape[axis] % 2:
        raise ValueError(
            f"glu: axis {axis} must have an even size to split in two. Received: {x.shape}"
        )
    a, b = split(x, 2, axis=axis)
    return a * sigmoid(b)


def hard_silu(x):
    """x * relu6(x + 3) / 6."""
    x = _t(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x):
    """clip(x, -1, 1)."""
    from .arithmetic import clip

    return clip(_t(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    from .arithmetic import abs as abs_
    from .arithmetic import where

    x = _t(x)
    return where(abs_(x).data > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    """sign(x) * max(|x| - threshold, 0)."""
    from .arithmetic import where

    x = _t(x)
    return where(x.data > threshold, x - threshold, where(x.data < -threshold, x + threshold, 0.0))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -softplus(-_t(x))


def sparse_plus(x):
    """0 for x <= -1, (x + 1)**2 / 4 on (-1, 1), x for x >= 1."""
    from .arithmetic import where

    x = _t(x)
    return where(x.data <= -1, 0.0, where(x.data >= 1, x, (x + 1.0) * (x + 1.0) / 4.0))


def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 on (-1, 1), 1 for x >= 1."""
    from .arithmetic import clip

    return clip((_t(x) + 1.0) / 2.0, 0.0, 1.0)


def squareplus(x, b=4):
    """(x + sqrt(x**2 + b)) / 2."""
    from .arithmetic import sqrt

    x = _t(x)
    return (x + sqrt(x * x + b)) / 2.0


def tanh_shrink(x):
    """x - tanh(x)."""
    from .arithmetic import tanh

    x = _t(x)
    return x - tanh(x)


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    from .arithmetic import where

    x = _t(x)
    return where(x.data > threshold, x, default_value)


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``:
    max(x - tau, 0), tau chosen so the result sums to 1 (Martins & Astudillo, 2016). The
    support is found on the data; tau is a differentiable mean over it."""
    import numpy as np

    from .arithmetic import maximum
    from .reduction import sum as sum_
    from .shape import moveaxis

    x = moveaxis(_t(x), axis, -1)
    z = x.data
    zs = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cums = np.cumsum(zs, axis=-1)
    support_size = np.sum(1 + k * zs > cums, axis=-1, keepdims=True)
    threshold_value = np.take_along_axis(zs, support_size - 1, axis=-1)
    in_support = (z >= threshold_value).astype(z.dtype)
    tau = (sum_(x * in_support, axis=-1, keepdims=True) - 1.0) / support_size.astype(z.dtype)
    return moveaxis(maximum(x - tau, 0.0), -1, axis)


def _t(x):
    from ._util import as_tensor

    t = as_tensor(x)
    if t.dtype.kind in "iub":
        from .. import backend
        from .arithmetic import cast

        t = cast(t, backend.floatx())
    return t


from ._util import export_ops  # noqa: E402

export_ops(globals())
