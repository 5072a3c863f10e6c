"""Statistics under ``keras.ops`` names: NaN-ignoring reductions, quantiles, cumulative
products, differences, integrals, correlations and distances.

Each differentiable function here is a composition of differentiable ops (the gradient of
a NaN-ignoring reduction is 0 at the NaNs; a quantile's gradient goes to the one or two
sorted elements it interpolates), except ``cumprod``, one node whose backward is the
reverse recurrence s_i = gy_i + x_{i+1} s_{i+1}, dx_i = (prod_{k<i} x_k) s_i, exact with
zeros in the input.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import as_tensor, data_of, normalize_axis
from .arithmetic import cast, isnan, sqrt, square, where
from .dtypes import cumulative_dtype, promote
from .reduction import max as max_
from .reduction import mean, prod
from .reduction import min as min_
from .reduction import sum as sum_
from .shape import cumsum, getitem, moveaxis, reshape, take_along_axis


def _filled(x, value):
    x = as_tensor(x)
    if x.dtype.kind not in "fc":
        return x, None
    nan = isnan(x)
    return where(nan, value, x), nan


# --------------------------------------------------------------- NaN-ignoring reductions


def nansum(x, axis=None, keepdims=False):
    filled, _ = _filled(x, 0.0)
    return sum_(filled, axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    filled, nan = _filled(x, 0.0)
    if nan is None:
        return mean(filled, axis=axis, keepdims=keepdims)
    count = sum_(cast(~nan.data, filled.dtype), axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sum_(filled, axis=axis, keepdims=keepdims) / count


def nanprod(x, axis=None, keepdims=False):
    filled, _ = _filled(x, 1.0)
    return prod(filled, axis=axis, keepdims=keepdims)


def _nan_extreme(x, axis, keepdims, fill, reduce):
    x = as_tensor(x)
    filled, nan = _filled(x, fill)
    out = reduce(filled, axis=axis, keepdims=keepdims)
    if nan is None:
        return out
    all_nan = np.all(nan.data, axis=axis, keepdims=keepdims)
    if np.any(all_nan):
        out = where(all_nan, np.nan, out)
    return out


def nanmax(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, -np.inf, max_)


def nanmin(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, np.inf, min_)


def nanvar(x, axis=None, keepdims=False):
    x = as_tensor(x)
    m = nanmean(x, axis=axis, keepdims=True)
    centred, nan = _filled(x - m, 0.0)  # filled before squaring: no NaN in the gradient
    if nan is None:
        return mean(square(centred), axis=axis, keepdims=keepdims)
    count = sum_(cast(~nan.data, centred.dtype), axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sum_(square(centred), axis=axis, keepdims=keepdims) / count


def nanstd(x, axis=None, keepdims=False):
    return sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def nanargmax(x, axis=None, keepdims=False):
    a = data_of(as_tensor(x))
    return Tensor.wrap(np.asarray(np.nanargmax(a, axis=axis, keepdims=keepdims), "int32"))


def nanargmin(x, axis=None, keepdims=False):
    a = data_of(as_tensor(x))
    return Tensor.wrap(np.asarray(np.nanargmin(a, axis=axis, keepdims=keepdims), "int32"))


def nancumsum(x, axis=None, dtype=None):
    filled, _ = _filled(x, 0.0)
    return cumsum(filled, axis=axis)


def nancumprod(x, axis=None, dtype=None):
    filled, _ = _filled(x, 1.0)
    return cumprod(filled, axis=axis)


# ------------------------------------------------------------------ cumulative product


class Cumprod(Function):
    """y_i = prod_{j<=i} x_j along ``axis``.

    dx_i = (prod_{k<i} x_k) s_i with s_i = gy_i + x_{i+1} s_{i+1} (from the last index down):
    no division, so zeros in x are exact."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.x = x
        return backend.array_module(x).cumprod(x, axis=self.axis, dtype=x.dtype)

    def backward(self, gy):
        xp = backend.array_module(gy)
        x = xp.moveaxis(self.x, self.axis, -1)
        g = xp.moveaxis(gy, self.axis, -1)
        n = x.shape[-1]
        s = xp.empty_like(g)
        if n:
            s[..., n - 1] = g[..., n - 1]
            for i in range(n - 2, -1, -1):
                s[..., i] = g[..., i] + x[..., i + 1] * s[..., i + 1]
            ones = xp.ones(x.shape[:-1] + (1,), x.dtype)
            before = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
            s = before * s
        return xp.moveaxis(s, -1, self.axis)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (flattened when None)."""
    x = as_tensor(x)
    if dtype is None and x.data.dtype.kind != "f":
        dtype = cumulative_dtype(x.data.dtype)  # Keras: bool counts in int32
    if dtype is not None:
        x = cast(x, dtype)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = normalize_axis(axis, x.ndim, "cumprod")[0]
    return Cumprod(axis).apply(x)


# ------------------------------------------------------------------------- quantiles

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, axis, method, keepdims, ignore_nan, name):
    """Quantiles by sorting: position p = q (n - 1) among the n sorted values (the
    non-NaN ones with ``ignore_nan``); ``method`` picks between floor(p) and ceil(p)."""
    from .sorting import sort

    if method not in _METHODS:
        raise ValueError(f"{name}: `method` must be one of {_METHODS}. Received: {method!r}")
    x = as_tensor(x)
    if x.dtype.kind not in "f":
        x = cast(x, backend.floatx())
    q_arr = np.asarray(data_of(q), dtype=np.float64)
    if np.any((q_arr < 0) | (q_arr > 1)):
        raise ValueError(f"{name}: quantiles must be in [0, 1]. Received: {q_arr.tolist()}")
    original_ndim = x.ndim
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = normalize_axis(axis, x.ndim, name)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = x if not rest and len(axes) == x.ndim else x
    perm = rest + list(axes)
    from .shape import transpose

    moved = transpose(x, perm)
    lead = tuple(x.shape[a] for a in rest)
    flat = reshape(moved, lead + (-1,))
    s = sort(flat, axis=-1)  # NaNs sort last
    n_total = flat.shape[-1]
    if ignore_nan:
        counts = np.sum(~np.isnan(flat.data), axis=-1, keepdims=True)
    else:
        counts = np.full(lead + (1,), n_total)
    outs = []
    for qv in q_arr.reshape(-1):
        pos = qv * (np.maximum(counts, 1) - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        if method == "lower":
            hi = lo
        elif method == "higher":
            lo = hi
        elif method == "nearest":
            lo = hi = np.round(pos).astype(np.int64)
        weight = (pos - lo) if method == "linear" else np.where(hi > lo, 0.5, 0.0)
        if method in ("lower", "higher", "nearest"):
            weight = np.zeros_like(pos)
        a = take_along_axis(s, lo, axis=-1)
        b = take_along_axis(s, hi, axis=-1)
        val = a + (b - a) * weight.astype(s.dtype)
        if ignore_nan and np.any(counts == 0):
            val = where(counts == 0, np.nan, val)
        if not ignore_nan and n_total and np.any(np.isnan(flat.data)):
            val = where(np.any(np.isnan(flat.data), axis=-1, keepdims=True), np.nan, val)
        val = reshape(val, lead)
        if keepdims:
            shape = [1 if i in axes else d for i, d in enumerate(x.shape)]
            val = reshape(val, tuple(shape[:original_ndim]))
        outs.append(val)
    if q_arr.ndim == 0:
        return outs[0]
    from .shape import stack

    return reshape(stack(outs, axis=0), q_arr.shape + outs[0].shape)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


def percentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(
        x, np.asarray(data_of(q)) / 100.0, axis, method, keepdims, False, "percentile"
    )


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(
        x, np.asarray(data_of(q)) / 100.0, axis, method, keepdims, True, "nanpercentile"
    )


def median(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "linear", keepdims, False, "median")


def nanmedian(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "linear", keepdims, True, "nanmedian")


# ------------------------------------------------------------------------ other statistics


def ptp(x, axis=None, keepdims=False):
    """max - min (peak to peak)."""
    return max_(x, axis=axis, keepdims=keepdims) - min_(x, axis=axis, keepdims=keepdims)


def average(x, axis=None, weights=None):
    """sum(x w) / sum(w) over ``axis`` (the mean without weights); 1-D weights apply along
    ``axis``."""
    x = as_tensor(x)
    if weights is None:
        return mean(x, axis=axis)
    w = as_tensor(weights)
    if w.ndim == 1 and x.ndim > 1:
        if axis is None:
            raise ValueError("average: 1-D weights need an `axis` for a multi-axis input")
        ax = normalize_axis(axis, x.ndim, "average")[0]
        w = reshape(w, tuple(-1 if i == ax else 1 for i in range(x.ndim)))
    return sum_(x * w, axis=axis) / sum_(w * (x * 0 + 1), axis=axis)


def diff(a, n=1, axis=-1):
    """The n-th discrete difference along ``axis``: out[i] = a[i + 1] - a[i], n times."""
    x = as_tensor(a)
    axis = normalize_axis(axis, x.ndim, "diff")[0]
    for _ in range(n):
        hi = [slice(None)] * x.ndim
        lo = [slice(None)] * x.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        x = getitem(x, tuple(hi)) - getitem(x, tuple(lo))
    return x


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The trapezoid rule: sum of (y[i] + y[i + 1]) / 2 times the spacing."""
    y = as_tensor(y)
    axis = normalize_axis(axis, y.ndim, "trapezoid")[0]
    hi = [slice(None)] * y.ndim
    lo = [slice(None)] * y.ndim
    hi[axis], lo[axis] = slice(1, None), slice(None, -1)
    mid = (getitem(y, tuple(hi)) + getitem(y, tuple(lo))) / 2.0
    if x is None:
        return sum_(mid, axis=axis) * dx
    step = diff(x, axis=-1 if as_tensor(x).ndim == 1 else axis)
    if step.ndim == 1 and y.ndim > 1:
        step = reshape(step, tuple(-1 if i == axis else 1 for i in range(y.ndim)))
    return sum_(mid * step, axis=axis)


def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (variables in rows)."""
    x = as_tensor(x)
    if x.ndim == 1:
        x = reshape(x, (1, -1))
    centred = x - mean(x, axis=1, keepdims=True)
    cov = centred @ moveaxis(centred, 0, 1)
    d = sqrt(getitem(cov, (np.arange(cov.shape[0]), np.arange(cov.shape[0]))))
    out = cov / (reshape(d, (-1, 1)) * reshape(d, (1, -1)))
    return out if out.shape != (1, 1) else reshape(out, ())


def correlate(x1, x2, mode="valid"):
    """1-D cross-correlation: out[k] = sum_n a[n + k] v[n], modes valid, same and full."""
    from .selection import index_map

    a, v = promote(as_tensor(x1), as_tensor(x2), float_result=True)  # Keras: in floatx
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError("correlate: expected two 1-D inputs")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be valid, same or full. Received: {mode!r}")
    if a.shape[0] < v.shape[0]:
        return correlate(v, a, mode)[::-1] if mode != "same" else _flip_same(v, a)
    m = v.shape[0]
    pad = {"valid": (0, 0), "same": (m // 2, m - 1 - m // 2), "full": (m - 1, m - 1)}[mode]
    from .shape import pad as pad_

    padded = pad_(a, [pad])
    windows = index_map(padded, lambda p: np.lib.stride_tricks.sliding_window_view(p, m))
    return windows @ v


def _flip_same(v, a):
    full = correlate(v, a, "full")[::-1]
    n = v.shape[0]
    start = (full.shape[0] - n) // 2
    return full[start : start + n]


def cdist(x, y, p=2.0):
    """Distances between the rows of x (..., m, d) and y (..., n, d): (..., m, n); ``p`` is
    the Minkowski order (shendu's addition; Keras computes p = 2)."""
    x1, x2 = x, y
    from .arithmetic import abs as abs_
    from .arithmetic import power
    from .shape import expand_dims

    a, b = as_tensor(x1), as_tensor(x2)
    delta = expand_dims(a, -2) - expand_dims(b, -3)
    if p == 2:
        return sqrt(sum_(square(delta), axis=-1))
    if p == 1:
        return sum_(abs_(delta), axis=-1)
    if p == np.inf:
        return max_(abs_(delta), axis=-1)
    return power(sum_(power(abs_(delta), p), axis=-1), 1.0 / p)


__all__ = [
    "average",
    "cdist",
    "corrcoef",
    "correlate",
    "cumprod",
    "diff",
    "median",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "percentile",
    "ptp",
    "quantile",
    "trapezoid",
]


from ._util import export_ops  # noqa: E402

export_ops(globals())
