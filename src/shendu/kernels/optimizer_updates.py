"""Optimizer update rules over flat arrays, in place: NumPy references and numba loops.

NumPy runs each rule as five to ten passes over the parameters (each line of the rule one
pass, through a scratch array); the loops read g, w and the slots once and write them once.
Arguments are 1-D arrays of one dtype (``shendu.optimizers``'s fused storage, or one
variable's values) and scalars already cast to that dtype, so both paths compute in the
arrays' precision. ``tmp`` is the reference's scratch array; the loops do not use it.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .dispatch import Kernel


def _adam_reference(g, w, m, v, alpha, c1, c2, eps, tmp):
    xp = backend.array_module(w)
    xp.subtract(g, m, out=tmp)
    tmp *= c1
    m += tmp  # m <- m + (1 - b1)(g - m)
    xp.multiply(g, g, out=tmp)
    tmp -= v
    tmp *= c2
    v += tmp  # v <- v + (1 - b2)(g^2 - v)
    xp.sqrt(v, out=tmp)
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= alpha
    w -= tmp


def _adam_loop(g, w, m, v, alpha, c1, c2, eps, tmp):
    for k in range(w.size):
        gk = g[k]
        mk = m[k] + c1 * (gk - m[k])
        vk = v[k] + c2 * (gk * gk - v[k])
        m[k] = mk
        v[k] = vk
        w[k] -= alpha * mk / (np.sqrt(vk) + eps)


ADAM = Kernel("adam", _adam_reference, _adam_loop)
"""Adam (Keras's form): m <- m + (1 - b1)(g - m); v <- v + (1 - b2)(g^2 - v);
w <- w - alpha * m / (sqrt(v) + eps), with alpha = lr sqrt(1 - b2^t) / (1 - b1^t);
called with c1 = 1 - b1 and c2 = 1 - b2."""


def _adam_amsgrad_reference(g, w, m, v, vh, alpha, c1, c2, eps, tmp):
    xp = backend.array_module(w)
    xp.subtract(g, m, out=tmp)
    tmp *= c1
    m += tmp
    xp.multiply(g, g, out=tmp)
    tmp -= v
    tmp *= c2
    v += tmp
    xp.maximum(vh, v, out=vh)
    xp.sqrt(vh, out=tmp)
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= alpha
    w -= tmp


def _adam_amsgrad_loop(g, w, m, v, vh, alpha, c1, c2, eps, tmp):
    for k in range(w.size):
        gk = g[k]
        mk = m[k] + c1 * (gk - m[k])
        vk = v[k] + c2 * (gk * gk - v[k])
        m[k] = mk
        v[k] = vk
        hk = max(vh[k], vk)
        vh[k] = hk
        w[k] -= alpha * mk / (np.sqrt(hk) + eps)


ADAM_AMSGRAD = Kernel("adam_amsgrad", _adam_amsgrad_reference, _adam_amsgrad_loop)
"""Adam with amsgrad: as ADAM, with v_hat <- max(v_hat, v) in place of v in the step."""


def _sgd_momentum_reference(g, w, m, lr, momentum, nesterov):
    m *= momentum
    m -= lr * g
    if nesterov:
        w += momentum * m - lr * g
    else:
        w += m


def _sgd_momentum_loop(g, w, m, lr, momentum, nesterov):
    for k in range(w.size):
        gk = g[k]
        mk = momentum * m[k] - lr * gk
        m[k] = mk
        if nesterov:
            w[k] += momentum * mk - lr * gk
        else:
            w[k] += mk


SGD_MOMENTUM = Kernel("sgd_momentum", _sgd_momentum_reference, _sgd_momentum_loop)
"""SGD with momentum: m <- momentum m - lr g; w <- w + m
(Nesterov: w <- w + momentum m - lr g)."""


def _rmsprop_reference(g, w, v, mg, m, lr, rho, c, eps, momentum):
    xp = backend.array_module(w)
    v *= rho
    v += c * g * g
    denom = v
    if mg.size:
        mg *= rho
        mg += c * g
        denom = v - mg * mg
    step = lr * g / xp.sqrt(denom + eps)
    if m.size:
        m *= momentum
        m += step
        w -= m
    else:
        w -= step


def _rmsprop_loop(g, w, v, mg, m, lr, rho, c, eps, momentum):
    centered, with_momentum = mg.size > 0, m.size > 0
    for k in range(w.size):
        gk = g[k]
        vk = rho * v[k] + c * gk * gk
        v[k] = vk
        if centered:
            mgk = rho * mg[k] + c * gk
            mg[k] = mgk
            vk = vk - mgk * mgk
        step = lr * gk / np.sqrt(vk + eps)
        if with_momentum:
            mk = momentum * m[k] + step
            m[k] = mk
            w[k] -= mk
        else:
            w[k] -= step


RMSPROP = Kernel("rmsprop", _rmsprop_reference, _rmsprop_loop)
"""RMSprop, with c = 1 - rho: v <- rho v + c g^2 (centered: mg <- rho mg + c g, and
v - mg^2 in the step); step = lr g / sqrt(v + eps); with momentum m <- momentum m + step,
w <- w - m, else w <- w - step. ``mg`` and ``m`` are empty arrays when unused."""


def flat(*arrays):
    """1-D views of ``arrays`` (the loops index them flat), or None when one is not
    C-contiguous (its flat form would be a copy, and an update written to it lost)."""
    if not all(a.flags.c_contiguous for a in arrays):
        return None
    return tuple(a.reshape(-1) for a in arrays)


def over_flat(kernel, *arrays):
    """(the rule to call, the arrays to give it): ``kernel`` with 1-D views of ``arrays``
    when they are all C-contiguous, else its NumPy reference with the arrays as they are
    (a Fortran-ordered variable, say: the loops index flat arrays)."""
    views = flat(*arrays)
    if views is None:
        return kernel.reference, arrays
    return kernel, views


def scalars(like, *values):
    """``values`` as scalars of ``like``'s dtype (the loops then compute in that precision)."""
    cast = np.dtype(like.dtype).type
    return tuple(cast(v) for v in values)
