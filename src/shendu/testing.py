"""Gradient checks against central finite differences, for our ops and for users' own.

``gradcheck(fn, inputs)`` compares the backward pass of ``fn`` with
(f(x + eps e) - f(x - eps e)) / (2 eps) in float64. For small problems it checks
the full Jacobian (one backward per output element, one pair of evaluations per
input element); for large ones it checks random projections u^T J v.
"""

from __future__ import annotations

import numpy as np

from .autograd import Tensor, grad

_FULL_LIMIT = 64  # at most this many output (input) elements for the full Jacobian


def _as_inputs(inputs):
    if isinstance(inputs, (Tensor, np.ndarray)) or np.isscalar(inputs):
        inputs = (inputs,)
    out = []
    for x in inputs:
        a = x.data if isinstance(x, Tensor) else x
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(np.array(a, dtype=np.float64))
        else:
            out.append(a)
    return out


def _outputs(fn, arrays, requires):
    ts = [Tensor(a, requires_grad=True) if r else a for a, r in zip(arrays, requires)]
    y = fn(*ts)
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    return ts, [v for v in ys if isinstance(v, Tensor) and v.dtype.kind == "f"]


def _scalar(ys, us):
    return sum(float(np.sum(y.data.astype(np.float64) * u)) for y, u in zip(ys, us))


def _numeric_along(fn, arrays, requires, i, direction, us, eps):
    plus = list(arrays)
    minus = list(arrays)
    plus[i] = arrays[i] + eps * direction
    minus[i] = arrays[i] - eps * direction
    _, yp = _outputs(fn, plus, requires)
    _, ym = _outputs(fn, minus, requires)
    return (_scalar(yp, us) - _scalar(ym, us)) / (2 * eps)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check the gradients of ``fn`` at ``inputs`` in float64.

    Args:
        fn: a function of Tensors returning a Tensor (or a tuple of Tensors).
        inputs: arrays or Tensors; every float array is checked.
    Returns:
        True when every checked entry agrees within ``atol + rtol * |numeric|``.
    Raises:
        AssertionError naming the input and the largest mismatch (when
        ``raise_exception``).
    """
    rng = np.random.default_rng(seed)
    arrays = _as_inputs(inputs)
    requires = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    _, ys = _outputs(fn, arrays, requires)
    n_out = sum(y.size for y in ys)
    if n_out == 0:
        return True
    if n_out <= _FULL_LIMIT:
        projections = []
        for k in range(n_out):
            flat = np.zeros(n_out)
            flat[k] = 1.0
            projections.append(flat)
    else:
        projections = [rng.standard_normal(n_out) for _ in range(2)]
    for flat in projections:
        us, start = [], 0
        for y in ys:
            us.append(flat[start : start + y.size].reshape(y.shape))
            start += y.size
        ts, ys_t = _outputs(fn, arrays, requires)
        leaves = [t for t, r in zip(ts, requires) if r]
        if not leaves:
            return True
        total = None
        for y, u in zip(ys_t, us):
            if not y.requires_grad:
                continue
            term = (y * Tensor(u.astype(y.dtype))).sum()
            total = term if total is None else total + term
        if total is None:
            analytic = [np.zeros_like(a) for a in arrays if isinstance(a, np.ndarray)]
            grads = [None] * len(leaves)
        else:
            grads = grad(total, leaves, allow_unused=True)
        li = 0
        for i, (a, r) in enumerate(zip(arrays, requires)):
            if not r:
                continue
            g = grads[li]
            li += 1
            analytic = np.zeros_like(a) if g is None else np.asarray(g.data, dtype=np.float64)
            if a.size <= _FULL_LIMIT:
                numeric = np.zeros(a.size)
                for j in range(a.size):
                    e = np.zeros(a.size)
                    e[j] = 1.0
                    numeric[j] = _numeric_along(fn, arrays, requires, i, e.reshape(a.shape), us, eps)
                numeric = numeric.reshape(a.shape)
                bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
                if bad.any():
                    if raise_exception:
                        j = np.unravel_index(np.argmax(np.abs(analytic - numeric)), a.shape)
                        raise AssertionError(
                            f"gradcheck: input {i} (shape {a.shape}) disagrees at {j}: "
                            f"analytic {analytic[j]!r} vs numeric {numeric[j]!r}"
                        )
                    return False
            else:
                for _ in range(3):
                    v = rng.standard_normal(a.shape)
                    num = _numeric_along(fn, arrays, requires, i, v, us, eps)
                    ana = float(np.sum(analytic * v))
                    if abs(ana - num) > atol + rtol * abs(num):
                        if raise_exception:
                            raise AssertionError(
                                f"gradcheck: input {i} (shape {a.shape}) projection "
                                f"disagrees: analytic {ana!r} vs numeric {num!r}"
                            )
                        return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of x -> d(sum(u * fn(x)))/dx with create_graph."""
    rng = np.random.default_rng(seed + 1)
    arrays = _as_inputs(inputs)
    requires = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    _, ys = _outputs(fn, arrays, requires)
    us = [rng.standard_normal(y.shape) for y in ys]

    def first_grads(*xs):
        leaves = [x for x, r in zip(xs, requires) if r]
        out = fn(*xs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        total = None
        for y, u in zip(outs, us):
            term = (y * Tensor(u.astype(y.dtype))).sum()
            total = term if total is None else total + term
        gs = grad(total, leaves, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, arrays, eps=eps, atol=atol, rtol=rtol, seed=seed)
