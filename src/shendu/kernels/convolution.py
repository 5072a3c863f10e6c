"""Convolution by tiles: im2col one cache-sized tile at a time, each tile's product at once.

``ops.conv`` multiplies the im2col matrix ``cols`` (one row per output pixel: its window's
KH*KW*C values) by the kernel ``W`` (KH*KW*C, C_out). Whole, ``cols`` is KH*KW times the
input (75 MB for a 3x3 convolution of 128 images of 32x32x16), written once, read by the
forward product and again by the weight gradient, and kept between them; with few channels
those products are bound by that memory traffic, not by arithmetic. These loops take the
output pixels of samples a..e-1 a tile of rows at a time (about ``TILE_BYTES`` of ``cols``),
gather the tile's windows from the input (zeros where a window overhangs the padding), and
call the BLAS product on it while it is in cache (``kernels.cblas``):

  forward         y[tile] = cols[tile] @ W (+ b, then ReLU when asked), in place
  weight grad     dW += cols[tile]^T @ g[tile]
  input grad      gcols = g[tile] @ W^T, each row added back over its window of dx

Nothing of ``cols`` outlives a tile: backward recomputes the tiles from the input. A call
covers whole samples, so blocks of samples run side by side on threads (``ops.conv``), each
writing only its samples' rows (the weight gradient into its own ``dw``).

Arguments shared by the three: ``geometry`` = (KH, KW, SH, SW, DH, DW, PT, PL), a tuple of
ints (kernel size, strides, dilation, padding before the rows and the columns); ``tile`` a
scratch (rows, KH*KW*C) float32 array owned by the calling thread. Only float32 runs here
(the BLAS product is ``sgemm``); ``reference`` computes the same with NumPy.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .cblas import NO_TRANS, ROW_MAJOR, TRANS, sgemm
from .dispatch import Kernel

F32 = np.float32
_ZERO, _ONE = F32(0.0), F32(1.0)
# A tile holds about TILE_BYTES of cols, and at least MIN_TILE_ROWS rows: with 64 rows the
# 3x3 convolutions of 16-64 channels ran 4-12% faster than with 128 KiB tiles (113-227
# rows) or 1,024 rows (ResNet-20's shapes, one thread); narrow cols (a first layer's 9 or 27
# columns) get more rows, so that each product is not dominated by its call.
TILE_BYTES = 32 * 1024
MIN_TILE_ROWS = 64


def tile_rows(k: int) -> int:
    """Rows of a tile of ``k`` columns: about TILE_BYTES of float32, at least 64."""
    return max(MIN_TILE_ROWS, TILE_BYTES // (4 * k))


def copy_run(dst, at, src, start, count):
    """dst[at:at + count] = src[start:start + count], as a loop over two views: numba
    vectorises it (a slice assignment cost 2x as much, an indexed loop over the whole
    arrays more)."""
    d = dst[at : at + count]
    v = src[start : start + count]
    for q in range(count):
        d[q] = v[q]


def add_run(dst, at, src, start, count):
    """dst[at:at + count] += src[start:start + count] (as ``copy_run``)."""
    d = dst[at : at + count]
    v = src[start : start + count]
    for q in range(count):
        d[q] += v[q]


def zero_run(dst, at, count):
    d = dst[at : at + count]
    for q in range(count):
        d[q] = _ZERO


def walk_tile(x, geometry, n, first, out_w, count, tile, scatter):
    """The windows of ``count`` output pixels of sample n from its pixel ``first`` (row-major
    over the output's out_w columns), against the tile's rows: KH*KW*C values each.
    Gather (``scatter`` False): tile[t] = the window, zeros where it lies on the padding.
    Scatter, its adjoint: each tile row added back over its window of x (padding positions
    dropped). A window's row inside the input is one contiguous run of KW*C values (without
    dilation of the columns), moved as such."""
    kh, kw, sh, sw, dh, dw, pt, pl = geometry
    oh, ow = first // out_w, first % out_w
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    x1 = x.reshape(x.size)
    t1 = tile.reshape(tile.size)
    k = tile.shape[1]
    run = kw * c
    for t in range(count):
        at = t * k
        left = ow * sw - pl
        inside = dw == 1 and left >= 0 and left + kw <= w
        for i in range(kh):
            hi = oh * sh + i * dh - pt
            if hi < 0 or hi >= h:
                if not scatter:
                    zero_run(t1, at, run)
            elif inside:
                start = ((n * h + hi) * w + left) * c
                if scatter:
                    add_run(x1, start, t1, at, run)
                else:
                    copy_run(t1, at, x1, start, run)
            else:
                for j in range(kw):
                    wi = left + j * dw
                    if 0 <= wi < w:
                        start = ((n * h + hi) * w + wi) * c
                        if scatter:
                            add_run(x1, start, t1, at + j * c, c)
                        else:
                            copy_run(t1, at + j * c, x1, start, c)
                    elif not scatter:
                        zero_run(t1, at + j * c, c)
            at += run
        ow += 1
        if ow == out_w:
            ow = 0
            oh += 1


HELPERS = (copy_run, add_run, zero_run, walk_tile)


def _linked():
    """The loops' link to the BLAS product (None without OpenBLAS: the references run)."""
    from . import cblas

    function = cblas.sgemm_function()
    if function is None:
        return None
    return {"sgemm": function}


def _far_pads(geometry, out_hw, hw):
    """The padding after the rows and after the columns that the windows of an (oh, ow)
    output reach beyond an (h, w) input."""
    kh, kw, sh, sw, dh, dw, pt, pl = (int(v) for v in geometry)
    (oh, ow), (h, w) = out_hw, hw
    return (
        max((oh - 1) * sh + (kh - 1) * dh + 1 - h - pt, 0),
        max((ow - 1) * sw + (kw - 1) * dw + 1 - w - pl, 0),
    )


def _reference_cols(x, geometry, out_hw, a, e):
    """cols of samples a..e-1 with NumPy: (pixels, KH*KW*C)."""
    xp = backend.array_module(x)
    kh, kw, sh, sw, dh, dw, pt, pl = (int(v) for v in geometry)
    oh, ow = out_hw
    pb, pr = _far_pads(geometry, out_hw, x.shape[1:3])
    xpad = xp.pad(x[a:e], [(0, 0), (pt, pb), (pl, pr), (0, 0)])
    parts = [
        xpad[:, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return xp.concatenate(parts, axis=-1).reshape((e - a) * oh * ow, kh * kw * x.shape[-1])


def _forward_reference(x, w2, b, relu, geometry, y, tile, a, e):
    oh, ow, cout = y.shape[1:]
    out = _reference_cols(x, geometry, (oh, ow), a, e) @ w2
    if b.size:
        out += b
    if relu:
        backend.array_module(out).maximum(out, 0, out=out)
    y[a:e] = out.reshape(e - a, oh, ow, cout)


def _forward_loop(x, w2, b, relu, geometry, y, tile, a, e):
    out_h, out_w, cout = y.shape[1], y.shape[2], y.shape[3]
    k = w2.shape[0]
    rows = tile.shape[0]
    y2 = y.reshape(y.shape[0] * out_h * out_w, cout)
    pixels = out_h * out_w
    for n in range(a, e):
        for start in range(0, pixels, rows):
            count = min(rows, pixels - start)
            walk_tile(x, geometry, n, start, out_w, count, tile, False)
            out = y2[n * pixels + start : n * pixels + start + count]
            sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, count, cout, k, _ONE, tile.ctypes, k,
                  w2.ctypes, cout, _ZERO, out.ctypes, cout)  # fmt: skip
            if b.size or relu:
                for t in range(count):
                    for o in range(cout):
                        v = out[t, o]
                        if b.size:
                            v += b[o]
                        if relu and v < 0:
                            v = _ZERO
                        out[t, o] = v


CONV_FORWARD = Kernel("conv_forward", _forward_reference, _forward_loop, (F32,), HELPERS, _linked)
"""y[a:e] = cols[a:e] @ W (+ b; ReLU when ``relu``), a tile of cols at a time."""


def _weight_grad_reference(x, g2, geometry, out_hw, dw, tile, a, e):
    pixels = out_hw[0] * out_hw[1]
    dw += _reference_cols(x, geometry, out_hw, a, e).T @ g2[a * pixels : e * pixels]


def _weight_grad_loop(x, g2, geometry, out_hw, dw, tile, a, e):
    out_h, out_w = out_hw[0], out_hw[1]
    k, cout = dw.shape[0], dw.shape[1]
    rows = tile.shape[0]
    pixels = out_h * out_w
    for n in range(a, e):
        for start in range(0, pixels, rows):
            count = min(rows, pixels - start)
            walk_tile(x, geometry, n, start, out_w, count, tile, False)
            g = g2[n * pixels + start : n * pixels + start + count]
            sgemm(ROW_MAJOR, TRANS, NO_TRANS, k, cout, count, _ONE, tile.ctypes, k,
                  g.ctypes, cout, _ONE, dw.ctypes, cout)  # fmt: skip


CONV_WEIGHT_GRAD = Kernel(
    "conv_weight_grad",
    _weight_grad_reference,
    _weight_grad_loop,
    (F32,),
    HELPERS,
    _linked,
)
"""dw += cols[a:e]^T @ g[a:e] (g: the gradient on the output, one row per output pixel)."""


def _input_grad_reference(g2, w2t, geometry, gx, tile, a, e, out_hw):
    xp = backend.array_module(g2)
    kh, kw, sh, sw, dh, dw, pt, pl = (int(v) for v in geometry)
    oh, ow = out_hw
    pixels = oh * ow
    h, w, c = gx.shape[1:]
    gcols = (g2[a * pixels : e * pixels] @ w2t).reshape(e - a, oh, ow, kh, kw, c)
    pb, pr = _far_pads(geometry, out_hw, (h, w))
    gpad = xp.zeros((e - a, h + pt + pb, w + pl + pr, c), dtype=gx.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            gpad[:, rows, cols] += gcols[:, :, :, i, j]
    gx[a:e] = gpad[:, pt : pt + h, pl : pl + w]


def _input_grad_loop(g2, w2t, geometry, gx, tile, a, e, out_hw):
    out_h, out_w = out_hw[0], out_hw[1]
    cout, k = w2t.shape[0], w2t.shape[1]
    rows = tile.shape[0]
    per_sample = gx.shape[1] * gx.shape[2] * gx.shape[3]
    g1 = gx.reshape(gx.size)
    pixels = out_h * out_w
    for n in range(a, e):
        zero_run(g1, n * per_sample, per_sample)
        for start in range(0, pixels, rows):
            count = min(rows, pixels - start)
            g = g2[n * pixels + start : n * pixels + start + count]
            sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, count, k, cout, _ONE, g.ctypes, cout,
                  w2t.ctypes, k, _ZERO, tile.ctypes, k)  # fmt: skip
            walk_tile(gx, geometry, n, start, out_w, count, tile, True)


CONV_INPUT_GRAD = Kernel(
    "conv_input_grad",
    _input_grad_reference,
    _input_grad_loop,
    (F32,),
    HELPERS,
    _linked,
)
"""gx[a:e] = the windows' gradients g[a:e] @ W^T added back over the input (col2im)."""
