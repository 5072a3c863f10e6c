"""Layer normalisation over the last axis of (rows, n) arrays, forward and backward.

Per row, with s = 1 / sqrt(var + eps) and xhat = (x - mean) s (RMS: mean taken as 0):
y = gamma xhat + beta; backward, with g = gy gamma,
dx = s (g - mean(g) - xhat mean(g xhat)) (RMS: without the mean(g) term),
dgamma = sum over rows of gy xhat, dbeta = sum over rows of gy.
NumPy makes about ten passes over the rows (means as matrix-vector products); the loops
make two. ``gamma``, ``beta``, ``dgamma`` and ``dbeta`` are empty arrays when unused.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .dispatch import Kernel


def _forward_reference(x, gamma, beta, eps, rms, y, xhat, inv):
    xp = backend.array_module(x)
    n = x.shape[1]
    ones_n = xp.full(n, 1.0 / n, dtype=x.dtype)
    centered = x if rms else x - (x @ ones_n)[:, None]
    var = xp.einsum("ri,ri->r", centered, centered) / n
    inv[...] = 1.0 / xp.sqrt(var + eps)
    xp.multiply(centered, inv[:, None], out=xhat)
    y[...] = xhat
    if gamma.size:
        y *= gamma
    if beta.size:
        y += beta


def _forward_loop(x, gamma, beta, eps, rms, y, xhat, inv):
    rows, n = x.shape
    for r in range(rows):
        xr = x[r]
        mean = xr[0] - xr[0]
        if not rms:
            for j in range(n):
                mean += xr[j]
            mean /= n
        var = mean - mean
        for j in range(n):
            d = xr[j] - mean
            var += d * d
        s = 1 / np.sqrt(var / n + eps)
        inv[r] = s
        xh, yr = xhat[r], y[r]
        for j in range(n):
            v = (xr[j] - mean) * s
            xh[j] = v
            if gamma.size:
                v = v * gamma[j]
            if beta.size:
                v = v + beta[j]
            yr[j] = v


LAYER_NORM_FORWARD = Kernel("layer_norm_forward", _forward_reference, _forward_loop)
"""y = gamma (x - mean) s + beta per row, s = 1 / sqrt(var + eps); xhat and s kept."""


def _backward_reference(gy, xhat, inv, gamma, rms, gx, dgamma, dbeta):
    xp = backend.array_module(gy)
    n = gy.shape[1]
    g = gy * gamma if gamma.size else gy
    gx[...] = xhat * (xp.einsum("ri,ri->r", g, xhat) / n)[:, None]
    xp.subtract(g, gx, out=gx)
    if not rms:
        gx -= (g @ xp.full(n, 1.0 / n, dtype=g.dtype))[:, None]
    gx *= inv[:, None]
    if dgamma.size:
        dgamma[...] = xp.einsum("ri,ri->i", gy, xhat)
    if dbeta.size:
        dbeta[...] = xp.ones(gy.shape[0], dtype=gy.dtype) @ gy


def _backward_loop(gy, xhat, inv, gamma, rms, gx, dgamma, dbeta):
    rows, n = gy.shape
    for j in range(dgamma.size):
        dgamma[j] = 0
    for j in range(dbeta.size):
        dbeta[j] = 0
    for r in range(rows):
        gr, xh, out = gy[r], xhat[r], gx[r]
        mean_g = inv[r] - inv[r]
        mean_gx = mean_g
        for j in range(n):
            g = gr[j] * gamma[j] if gamma.size else gr[j]
            mean_g += g
            mean_gx += g * xh[j]
        mean_g = mean_g / n if not rms else mean_g - mean_g
        mean_gx /= n
        s = inv[r]
        for j in range(n):
            g = gr[j] * gamma[j] if gamma.size else gr[j]
            out[j] = s * (g - mean_g - xh[j] * mean_gx)
        if dgamma.size:
            for j in range(n):
                dgamma[j] += gr[j] * xh[j]
        if dbeta.size:
            for j in range(n):
                dbeta[j] += gr[j]


LAYER_NORM_BACKWARD = Kernel("layer_norm_backward", _backward_reference, _backward_loop)
"""dx = s (g - mean(g) - xhat mean(g xhat)), g = gy gamma; dgamma = sum gy xhat,
dbeta = sum gy (over rows)."""
