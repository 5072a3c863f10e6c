"""GELU with the exact (erf) form, forward and backward, in one pass each.

    y = x Phi(x) = x / 2 (1 + erf(x / sqrt 2));   dy/dx = Phi(x) + x phi(x),
    phi(x) = exp(-x^2 / 2) / sqrt(2 pi).

Keras's ``gelu`` (``activation="gelu"``) is this form. NumPy has no erf: shendu's NumPy
path evaluates an erfc approximation in about twenty passes over the array, twice a step
(a GPT block's feed-forward spent 30% of its step there). The loops use the rational
approximation erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (+-1 beyond, in float32), the one
Eigen and XLA use for float32 (measured here: at most 4.2e-7 from the C library's erf,
a few float32 ulps): no transcendental call, so LLVM vectorises it; the derivative's
exp is the only one. Arrays are flat and contiguous; ``a``, ``e`` bound the elements a call
writes (threads take disjoint ranges).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .dispatch import Kernel

F32 = np.float32
_ERF_CLAMP = F32(4.0)
_ERF_P = tuple(
    F32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)
_ERF_Q = tuple(
    F32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)
_HALF, _ONE = F32(0.5), F32(1.0)
_INV_SQRT2 = F32(1 / math.sqrt(2))
_INV_SQRT_2PI = F32(1 / math.sqrt(2 * math.pi))


def erf_rational(x):
    """erf(x) for a float32 x (numba inlines it; works on NumPy arrays too)."""
    x = min(max(x, -_ERF_CLAMP), _ERF_CLAMP)
    x2 = x * x
    p = _ERF_P[0]
    p = p * x2 + _ERF_P[1]
    p = p * x2 + _ERF_P[2]
    p = p * x2 + _ERF_P[3]
    p = p * x2 + _ERF_P[4]
    p = p * x2 + _ERF_P[5]
    p = p * x2 + _ERF_P[6]
    q = _ERF_Q[0]
    q = q * x2 + _ERF_Q[1]
    q = q * x2 + _ERF_Q[2]
    q = q * x2 + _ERF_Q[3]
    q = q * x2 + _ERF_Q[4]
    return x * p / q


def _erf_reference(xp, x):
    x = xp.clip(x, -_ERF_CLAMP, _ERF_CLAMP)
    x2 = x * x
    p = xp.full_like(x, _ERF_P[0])
    for c in _ERF_P[1:]:
        p = p * x2 + c
    q = xp.full_like(x, _ERF_Q[0])
    for c in _ERF_Q[1:]:
        q = q * x2 + c
    return x * p / q


def _forward_reference(x, y, a, e):
    xp = backend.array_module(x)
    v = x[a:e]
    y[a:e] = _HALF * v * (_ONE + _erf_reference(xp, v * _INV_SQRT2))


def _forward_loop(x, y, a, e):
    for i in range(a, e):
        v = x[i]
        y[i] = _HALF * v * (_ONE + erf_rational(v * _INV_SQRT2))


GELU_FORWARD = Kernel("gelu_forward", _forward_reference, _forward_loop, (F32,), (erf_rational,))
"""y = x / 2 (1 + erf(x / sqrt 2)) over elements a..e-1 of flat arrays."""


def _backward_reference(x, gy, gx, a, e):
    xp = backend.array_module(x)
    v = x[a:e]
    cdf = _HALF * (_ONE + _erf_reference(xp, v * _INV_SQRT2))
    gx[a:e] = gy[a:e] * (cdf + v * xp.exp(-_HALF * v * v) * _INV_SQRT_2PI)


def _backward_loop(x, gy, gx, a, e):
    for i in range(a, e):
        v = x[i]
        cdf = _HALF * (_ONE + erf_rational(v * _INV_SQRT2))
        gx[i] = gy[i] * (cdf + v * np.exp(-_HALF * v * v) * _INV_SQRT_2PI)


GELU_BACKWARD = Kernel(
    "gelu_backward", _backward_reference, _backward_loop, (F32,), (erf_rational,)
)
"""gx = gy (Phi(x) + x phi(x)) over elements a..e-1 of flat arrays."""
