"""Layer and batch normalisation of (rows, n) arrays, forward and backward.

Layer normalisation, over the last axis: per row, with s = 1 / sqrt(var + eps) and
xhat = (x - mean) s (RMS: mean taken as 0): y = gamma xhat + beta; backward, with g = gy gamma,
dx = s (g - mean(g) - xhat mean(g xhat)) (RMS: without the mean(g) term),
dgamma = sum over rows of gy xhat, dbeta = sum over rows of gy.
NumPy makes about ten passes over the rows (means as matrix-vector products); the loops
make two. Batch normalisation (channels last), per column: below. ``gamma``, ``beta``,
``dgamma`` and ``dbeta`` are empty arrays when unused.
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


# ---------------------------------------------------------------- batch normalisation
# Per column (channel) of (rows, n) arrays, the statistics over the rows (every axis but the
# channels, channels last): mean, var = mean((x - mean)^2), s = 1 / sqrt(var + eps),
# xhat = (x - mean) s, y = gamma xhat + beta. Backward, with S1 = sum gy and
# S2 = sum gy xhat over the rows: dx = gamma s (gy - S1 / rows - xhat S2 / rows),
# dgamma = S2, dbeta = S1. The loops make three passes forward and two backward, summing
# in float64; NumPy's make about nine and twelve.


def _batch_forward_reference(x, gamma, beta, eps, y, xhat, mean, var, inv):
    xp = backend.array_module(x)
    rows = x.shape[0]
    ones = xp.full(rows, 1.0 / rows, dtype=x.dtype)
    mean[...] = ones @ x
    xp.subtract(x, mean, out=xhat)
    xp.multiply(xhat, xhat, out=y)  # y as scratch for the squares
    var[...] = ones @ y
    inv[...] = 1.0 / xp.sqrt(var + eps)
    xhat *= inv
    y[...] = xhat
    if gamma.size:
        y *= gamma
    if beta.size:
        y += beta


def _batch_forward_loop(x, gamma, beta, eps, y, xhat, mean, var, inv):
    rows, n = x.shape
    acc = np.zeros(n, dtype=np.float64)
    for r in range(rows):
        xr = x[r]
        for j in range(n):
            acc[j] += xr[j]
    for j in range(n):
        mean[j] = acc[j] / rows
        acc[j] = 0.0
    for r in range(rows):
        xr = x[r]
        for j in range(n):
            d = xr[j] - mean[j]
            acc[j] += d * d
    for j in range(n):
        var[j] = acc[j] / rows
        inv[j] = 1 / np.sqrt(var[j] + eps)
    for r in range(rows):
        xr, xh, yr = x[r], xhat[r], y[r]
        for j in range(n):
            v = (xr[j] - mean[j]) * inv[j]
            xh[j] = v
            if gamma.size:
                v = v * gamma[j]
            if beta.size:
                v = v + beta[j]
            yr[j] = v


BATCH_NORM_FORWARD = Kernel("batch_norm_forward", _batch_forward_reference, _batch_forward_loop)
"""Per column: mean, var, s = 1 / sqrt(var + eps), xhat = (x - mean) s, y = gamma xhat +
beta."""


def _batch_backward_reference(gy, xhat, inv, gamma, gx, dgamma, dbeta):
    xp = backend.array_module(gy)
    rows = gy.shape[0]
    ones = xp.ones(rows, dtype=gy.dtype)
    s1 = ones @ gy
    xp.multiply(gy, xhat, out=gx)  # gx as scratch for gy xhat
    s2 = ones @ gx
    scale = inv * gamma if gamma.size else inv
    xp.multiply(xhat, s2 / rows, out=gx)
    xp.subtract(gy, gx, out=gx)
    gx -= s1 / rows
    gx *= scale
    if dgamma.size:
        dgamma[...] = s2
    if dbeta.size:
        dbeta[...] = s1


def _batch_backward_loop(gy, xhat, inv, gamma, gx, dgamma, dbeta):
    rows, n = gy.shape
    s1 = np.zeros(n, dtype=np.float64)
    s2 = np.zeros(n, dtype=np.float64)
    for r in range(rows):
        gr, xh = gy[r], xhat[r]
        for j in range(n):
            s1[j] += gr[j]
            s2[j] += gr[j] * xh[j]
    m1 = np.empty(n, dtype=gy.dtype)
    m2 = np.empty(n, dtype=gy.dtype)
    scale = np.empty(n, dtype=gy.dtype)
    for j in range(n):
        m1[j] = s1[j] / rows
        m2[j] = s2[j] / rows
        scale[j] = inv[j] * gamma[j] if gamma.size else inv[j]
    for r in range(rows):
        gr, xh, out = gy[r], xhat[r], gx[r]
        for j in range(n):
            out[j] = scale[j] * (gr[j] - m1[j] - xh[j] * m2[j])
    for j in range(dgamma.size):
        dgamma[j] = s2[j]
    for j in range(dbeta.size):
        dbeta[j] = s1[j]


BATCH_NORM_BACKWARD = Kernel(
    "batch_norm_backward", _batch_backward_reference, _batch_backward_loop
)
"""dx = gamma s (gy - mean(gy) - xhat mean(gy xhat)); dgamma = sum gy xhat, dbeta = sum gy
(over rows)."""
