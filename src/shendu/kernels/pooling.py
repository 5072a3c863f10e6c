"""Max pooling's backward over non-overlapping windows (stride = pool, valid padding).

Each window's gradient goes to its first maximal entry (row-major order in the window),
the others get zero. NumPy compares every window position with the maximum, one strided
pass per position (four passes and two boolean masks for a 2x2 pool); the loop reads each
window once. Arrays are channels_last: x and gx (N, H, W, C), y and gy (N, OH, OW, C);
rows a..b-1 of the batch (``shendu.parallel`` splits them). Rows and columns of x past
OH * ph and OW * pw (odd sizes) are left as they are in gx (the op zeroes them).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .dispatch import Kernel


def _windows(a, ph, pw, oh, ow):
    """One strided view of ``a`` per position in the window, each (N, OH, OW, C)."""
    return [a[:, i : oh * ph : ph, j : ow * pw : pw] for i in range(ph) for j in range(pw)]


def _reference(x, y, gy, gx, ph, pw, a, b):
    xp = backend.array_module(x)
    oh, ow = y.shape[1:3]
    views, grads = _windows(x, ph, pw, oh, ow), _windows(gx, ph, pw, oh, ow)
    g_out, y = gy[a:b], y[a:b]
    taken = xp.empty(g_out.shape, dtype=bool)  # windows whose maximum is placed
    hit = xp.empty(g_out.shape, dtype=bool)
    last = len(views) - 1
    for k, (v, g) in enumerate(zip(views, grads)):
        if k == 0:
            xp.equal(v[a:b], y, out=taken)
            xp.multiply(g_out, taken, out=g[a:b])
            continue
        xp.equal(v[a:b], y, out=hit)
        xp.greater(hit, taken, out=hit)  # for booleans: hit and not taken
        if k < last:
            taken |= hit
        xp.multiply(g_out, hit, out=g[a:b])


def _loop(x, y, gy, gx, ph, pw, a, b):
    oh, ow, channels = y.shape[1], y.shape[2], y.shape[3]
    taken = np.empty(channels, dtype=np.bool_)
    for n in range(a, b):
        for i in range(oh):
            for j in range(ow):
                yr, gr = y[n, i, j], gy[n, i, j]
                taken[:] = False
                for di in range(ph):
                    for dj in range(pw):
                        xr, out = x[n, i * ph + di, j * pw + dj], gx[n, i * ph + di, j * pw + dj]
                        for c in range(channels):  # each entry written once
                            hit = xr[c] == yr[c] and not taken[c]
                            out[c] = gr[c] if hit else 0
                            taken[c] = taken[c] or hit


MAX_POOL_BACKWARD = Kernel("max_pool_backward", _reference, _loop)
"""gx[window's first maximal entry] = gy, 0 elsewhere in the window (rows a..b-1)."""
