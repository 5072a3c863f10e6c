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
# dgamma = S2, dbeta = S1. Three passes forward (the sums, the squared deviations, the
# normalisation) and two backward (the sums, dx); NumPy's make about nine and twelve.
#
# The passes run on ranges, so that ``ops.nn`` can split them over threads: the sums by
# blocks of ``block_rows`` rows, each block's float64 partial sums in a row of ``sums`` (the
# caller adds the blocks in order, so the result does not depend on how many threads took
# them), the elementwise passes by rows a..e-1.


def _column_sums_reference(x, shift, square, sums, block_rows, a, e):
    xp = backend.array_module(x)
    for b in range(a, e):
        d = x[b * block_rows : (b + 1) * block_rows] - shift
        if square:
            d = d * d
        sums[b] = d.sum(axis=0, dtype=xp.float64)


def _column_sums_loop(x, shift, square, sums, block_rows, a, e):
    rows, n = x.shape
    for b in range(a, e):
        acc = sums[b]
        for j in range(n):
            acc[j] = 0.0
        for r in range(b * block_rows, min((b + 1) * block_rows, rows)):
            xr = x[r]
            for j in range(n):
                d = xr[j] - shift[j]
                if square:
                    d = d * d
                acc[j] += d


BATCH_COLUMN_SUMS = Kernel("batch_column_sums", _column_sums_reference, _column_sums_loop)
"""sums[b] = the float64 column sums of (x - shift) (squared when ``square``) over block b's
rows, for blocks a..e-1 of ``block_rows`` rows."""


def _normalize_reference(x, mean, inv, gamma, beta, y, xhat, a, e):
    xp = backend.array_module(x)
    xp.subtract(x[a:e], mean, out=xhat[a:e])
    xhat[a:e] *= inv
    y[a:e] = xhat[a:e]
    if gamma.size:
        y[a:e] *= gamma
    if beta.size:
        y[a:e] += beta


def _normalize_loop(x, mean, inv, gamma, beta, y, xhat, a, e):
    n = x.shape[1]
    for r in range(a, e):
        xr, xh, yr = x[r], xhat[r], y[r]
        for j in range(n):
            v = (xr[j] - mean[j]) * inv[j]
            xh[j] = v
            if gamma.size:
                v = v * gamma[j]
            if beta.size:
                v = v + beta[j]
            yr[j] = v


BATCH_NORMALIZE = Kernel("batch_normalize", _normalize_reference, _normalize_loop)
"""Rows a..e-1: xhat = (x - mean) s, y = gamma xhat + beta (s = ``inv``)."""


def _gradient_sums_reference(gy, xhat, sums1, sums2, block_rows, a, e):
    xp = backend.array_module(gy)
    for b in range(a, e):
        rows = slice(b * block_rows, (b + 1) * block_rows)
        sums1[b] = gy[rows].sum(axis=0, dtype=xp.float64)
        sums2[b] = (gy[rows] * xhat[rows]).sum(axis=0, dtype=xp.float64)


def _gradient_sums_loop(gy, xhat, sums1, sums2, block_rows, a, e):
    rows, n = gy.shape
    for b in range(a, e):
        s1, s2 = sums1[b], sums2[b]
        for j in range(n):
            s1[j] = 0.0
            s2[j] = 0.0
        for r in range(b * block_rows, min((b + 1) * block_rows, rows)):
            gr, xh = gy[r], xhat[r]
            for j in range(n):
                s1[j] += gr[j]
                s2[j] += gr[j] * xh[j]


BATCH_GRADIENT_SUMS = Kernel("batch_gradient_sums", _gradient_sums_reference, _gradient_sums_loop)
"""sums1[b], sums2[b] = the float64 column sums of gy and of gy xhat over block b's rows."""


def _input_grad_reference(gy, xhat, scale, m1, m2, gx, a, e):
    xp = backend.array_module(gy)
    xp.multiply(xhat[a:e], m2, out=gx[a:e])
    xp.subtract(gy[a:e], gx[a:e], out=gx[a:e])
    gx[a:e] -= m1
    gx[a:e] *= scale


def _input_grad_loop(gy, xhat, scale, m1, m2, gx, a, e):
    n = gy.shape[1]
    for r in range(a, e):
        gr, xh, out = gy[r], xhat[r], gx[r]
        for j in range(n):
            out[j] = scale[j] * (gr[j] - m1[j] - xh[j] * m2[j])


BATCH_NORM_INPUT_GRAD = Kernel("batch_norm_input_grad", _input_grad_reference, _input_grad_loop)
"""Rows a..e-1: dx = scale (gy - m1 - xhat m2), with scale = gamma s, m1 = S1 / rows and
m2 = S2 / rows."""
