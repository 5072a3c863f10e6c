"""Convolution and pooling, channels_last, each one graph node.

Convolution is im2col + one GEMM: the input is padded, its sliding windows are
taken as a strided view (no copy) and laid out as a (N * out_positions,
kernel_positions * C_in) matrix, which is multiplied by the kernel reshaped to
(kernel_positions * C_in, C_out). In backward, dW = cols^T @ gy and dx is the
column gradient gy @ W^T scattered back over the windows (col2im), one strided
add per kernel position. 1-D ops run as 2-D ops with a height of 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, blas, parallel
from ..autograd.function import Function
from ..kernels.convolution import CONV_FORWARD, CONV_INPUT_GRAD, CONV_WEIGHT_GRAD, tile_rows
from ..kernels.pooling import MAX_POOL_BACKWARD
from ._fused import (
    FUSED_ACTIVATIONS,
    activation_op,
    check_fused_activation,
    through_activation,
)
from ._util import as_tensor, column_sums, split_batch, transposed_product
from .creation import zeros_like
from .dtypes import float_tensor, promote
from .shape import pad, reshape, stack, transpose


def _tuple(v, n, name):
    t = (v,) * n if isinstance(v, (int, np.integer)) else tuple(v)
    if len(t) != n or any(int(a) < 1 for a in t):
        raise ValueError(f"Expected `{name}` as {n} positive integers. Received: {name}={v}")
    return tuple(int(a) for a in t)


def _same_padding(size, k, s, d):
    """TensorFlow's 'same': output ceil(size / s), extra padding at the end."""
    dk = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + dk - size, 0)
    return total // 2, total - total // 2


def _pads(spatial, kernel, strides, dilation, padding):
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "same":
        return [
            _same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation)
        ]
    raise ValueError(f"Expected `padding` 'valid' or 'same'. Received: padding={padding!r}")


def _windows(xp_, x, kernel, strides, dilation):
    """Strided view (N, OH, OW, KH, KW, C) of the sliding windows of x (N, H, W, C)."""
    n, h, w, c = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w - (kw - 1) * dw - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"conv: the input's spatial size {(h, w)} is smaller than the (dilated) window "
            f"{((kh - 1) * dh + 1, (kw - 1) * dw + 1)}"
        )
    s0, s1, s2, s3 = x.strides
    return xp_.lib.stride_tricks.as_strided(
        x,
        shape=(n, oh, ow, kh, kw, c),
        strides=(s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3),
        writeable=False,
    )


def _im2col(xp_, win, ones_column=False):
    """The windows (N, OH, OW, KH, KW, C) copied into a contiguous array, split over threads.

    With one channel the copy goes kernel position by kernel position (each a strided
    image slice), faster than the element-wise window copy there (docs/benchmarks.md,
    "im2col with one channel").
    ``ones_column``: the result is (N, OH, OW, KH*KW*C + 1) with ones in the last column, so
    that a product with the kernel stacked on the bias adds the bias (see Conv2D).
    """
    n, oh, ow, kh, kw, c = win.shape
    if ones_column:
        k = kh * kw * c
        wide = xp_.empty((n, oh, ow, k + 1), dtype=win.dtype)
        s0, s1, s2, s3 = wide.strides
        cols = xp_.lib.stride_tricks.as_strided(
            wide, shape=win.shape, strides=(s0, s1, s2, kw * c * s3, c * s3, s3)
        )
    else:
        wide = cols = xp_.empty(win.shape, dtype=win.dtype)

    def chunk(a, b):
        if c == 1:
            for i in range(kh):
                for j in range(kw):
                    cols[a:b, :, :, i, j] = win[a:b, :, :, i, j]
        else:
            xp_.copyto(cols[a:b], win[a:b])
        if ones_column:
            wide[a:b, :, :, k] = 1

    split_batch(xp_, chunk, n, wide.size)
    return wide


def _col2im(xp_, gcols, x_shape, kernel, strides, dilation):
    """Scatter-add window gradients (N, OH, OW, KH, KW, C) back to an input of x_shape."""
    n, oh, ow, kh, kw, c = gcols.shape
    (sh, sw), (dh, dw) = strides, dilation
    gx = xp_.zeros(x_shape, dtype=gcols.dtype)
    for i in range(kh):
        for j in range(kw):
            gx[:, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw, :] += gcols[
                :, :, :, i, j, :
            ]
    return gx


def _through_activation_by_chunks(xp_, activation, gy, y):
    """gy * act'(y) for a fused activation, split over threads by the batch axis."""
    g = xp_.empty(gy.shape, dtype=gy.dtype)

    def chunk(a, b):
        through_activation(activation, gy[a:b], y[a:b], out=g[a:b])

    split_batch(xp_, chunk, g.shape[0], g.size)
    return g


def _pad_input(xp_, x, pads, value=0.0):
    if all(p == (0, 0) for p in pads):
        return x
    return xp_.pad(x, [(0, 0)] + list(pads) + [(0, 0)], constant_values=value)


# the widest im2col (KH*KW*Cin columns) whose product also adds the bias (Conv2D): up to
# here the bias in the product was faster, beyond it no different (docs/benchmarks.md,
# "bias in the convolution's product").
BIAS_IN_PRODUCT_MAX_COLUMNS = 32


# Inputs with fewer channels keep the whole im2col (with the bias in the product): there
# a tile's short runs cost more to gather than the whole copy (measured: the 1-channel first
# layer of mnist_convnet, 3.2 against 0.9 ms forward).
TILED_MIN_CHANNELS = 8


def _over_samples(fn, n, size, k):
    """``fn(a, e, tile)`` over blocks of the batch's samples, each with its own tile of
    ``k`` columns (``kernels.convolution``): side by side on ``shendu.parallel``'s threads,
    each block's products on one BLAS thread, when the work is large enough to split."""
    rows = tile_rows(k)
    if parallel.splits(n, size):
        with blas.process_threads(1):
            parallel.for_chunks(
                lambda a, e: fn(a, e, np.empty((rows, k), dtype=np.float32)), n, size
            )
    else:
        fn(0, n, np.empty((rows, k), dtype=np.float32))


class Conv2D(Function):
    """y = act(conv(x, W) + b) (+ groups), channels_last, via im2col and one GEMM per group.

    With g = gy * act'(y) (act: none, relu, tanh or sigmoid, applied in place):
    dW = cols^T @ g, db = the sum of g over all but the channel axis, and dx: for each
    kernel position (i, j), g @ W[i, j]^T is one contiguous GEMM whose result is added to the
    strided window of dx it came from.

    With few columns (KH*KW*Cin <= BIAS_IN_PRODUCT_MAX_COLUMNS: a first layer on 1- or
    3-channel images) the bias rides in the products: cols gets a column of ones and the
    kernel a row holding b, so y = [cols, 1] @ [W; b] and [dW; db] = [cols, 1]^T @ g. There
    the passes of a separate bias add and column sum over the large output cost more than
    the product's extra column.
    """

    def __init__(self, strides, padding, dilation, groups, activation=None):
        self.strides, self.padding = strides, padding
        self.dilation, self.groups = dilation, groups
        self.activation = activation

    def forward(self, x, w, b=None):
        xp_ = backend.array_module(x, w)
        kh, kw, cin_g, cout = w.shape
        if x.shape[-1] != cin_g * self.groups:
            raise ValueError(
                f"conv: the input has {x.shape[-1]} channels but the kernel of shape {w.shape} "
                f"expects {cin_g * self.groups} (groups={self.groups})"
            )
        self.pads = _pads(x.shape[1:3], (kh, kw), self.strides, self.dilation, self.padding)
        self.tiled = self._runs_tiled(xp_, x, w, b)
        if self.tiled:
            return self._forward_tiled(x, w, b)
        xpad = _pad_input(xp_, x, self.pads)
        win = _windows(xp_, xpad, (kh, kw), self.strides, self.dilation)
        n, oh, ow = win.shape[:3]
        g = self.groups
        k = kh * kw * cin_g
        self.bias_in_product = (
            g == 1 and b is not None and xp_ is np and k <= BIAS_IN_PRODUCT_MAX_COLUMNS
        )
        if self.bias_in_product:
            cols = _im2col(xp_, win, ones_column=True).reshape(n * oh * ow, k + 1)
            bias_row = b.reshape(1, cout).astype(w.dtype, copy=False)  # as y += b would cast
            w_and_b = xp_.concatenate([w.reshape(k, cout), bias_row])
            y = (cols @ w_and_b).reshape(n, oh, ow, cout)
        elif g == 1:
            cols = _im2col(xp_, win).reshape(n * oh * ow, k)
            y = (cols @ w.reshape(-1, cout)).reshape(n, oh, ow, cout)
        else:
            wg = w.reshape(kh, kw, cin_g, g, cout // g)
            cols = win.reshape(n, oh, ow, kh, kw, g, cin_g)
            y = xp_.einsum("nhwijgc,ijcgo->nhwgo", cols, wg, optimize=True)
            y = y.reshape(n, oh, ow, cout)
        add_bias = b is not None and not self.bias_in_product
        if add_bias or self.activation is not None:
            act = FUSED_ACTIVATIONS[self.activation][0] if self.activation else None

            def bias_activate(a, c):  # in place on the fresh output, by batch chunks
                if add_bias:
                    y[a:c] += b  # the bias, fused: its gradient is one column sum
                if act is not None:
                    act(xp_, y[a:c])

            split_batch(xp_, bias_activate, y.shape[0], y.size)
        if self.recording:
            self.cols, self.w, self.xpad_shape, self.x_shape = cols, w, xpad.shape, x.shape
            self.y = y if self.activation is not None else None
        return y

    def _runs_tiled(self, xp_, x, w, b):
        """Whether this convolution runs by tiles (``kernels.convolution``): float32 NumPy
        arrays, one group, the compiled loops selected."""
        f32 = np.float32
        return (
            self.groups == 1
            and w.shape[2] >= TILED_MIN_CHANNELS
            and xp_ is np
            and x.dtype == f32
            and w.dtype == f32
            and (b is None or b.dtype == f32)
            and CONV_FORWARD.runs_compiled(x, w)
        )

    def _geometry(self, x, w):
        kh, kw = w.shape[:2]
        (sh, sw), (dh, dw) = self.strides, self.dilation
        (pt, pb), (pl, pr) = self.pads
        oh = (x.shape[1] + pt + pb - (kh - 1) * dh - 1) // sh + 1
        ow = (x.shape[2] + pl + pr - (kw - 1) * dw - 1) // sw + 1
        if oh <= 0 or ow <= 0:
            _windows(np, x, (kh, kw), self.strides, self.dilation)  # raises its error
        return (kh, kw, sh, sw, dh, dw, pt, pl), (oh, ow)

    def _forward_tiled(self, x, w, b):
        """y = act(cols @ W + b) a tile of cols at a time (bias and ReLU inside the loop)."""
        x = np.ascontiguousarray(x)
        cout = w.shape[-1]
        geometry, (oh, ow) = self._geometry(x, w)
        w2 = np.ascontiguousarray(w.reshape(-1, cout))
        bias = np.empty(0, np.float32) if b is None else np.ascontiguousarray(b.reshape(cout))
        relu = self.activation == "relu"
        y = np.empty((x.shape[0], oh, ow, cout), dtype=np.float32)
        _over_samples(
            lambda a, e, tile: CONV_FORWARD(x, w2, bias, relu, geometry, y, tile, a, e),
            x.shape[0],
            y.size + x.size,
            w2.shape[0],
        )
        if self.activation is not None and not relu:
            act = FUSED_ACTIVATIONS[self.activation][0]
            split_batch(np, lambda a, e: act(np, y[a:e]), y.shape[0], y.size)
        if self.recording:
            self.x, self.w, self.geometry, self.out_hw = x, w, geometry, (oh, ow)
            self.y = y if self.activation is not None else None
        return y

    def _backward_tiled(self, gy):
        """dW = cols^T g and dx = col2im(g W^T), tiles of cols recomputed from the input;
        db = the column sums of g."""
        g = gy
        if self.activation is not None:
            g = _through_activation_by_chunks(np, self.activation, gy, self.y)
        x, w = self.x, self.w
        cout = w.shape[-1]
        g2 = np.ascontiguousarray(g, dtype=np.float32).reshape(-1, cout)
        needs = self.needs_input_grad
        nx, nw = needs[:2]
        has_b = len(needs) > 2
        gx = gw = gb = None
        if has_b and needs[2]:
            gb = column_sums(np, g2)
        k = int(np.prod(w.shape[:3]))
        work = g2.size + x.size
        if nw:
            parts: list = []

            def weight_grad(a, e, tile):
                dw = np.zeros((k, cout), dtype=np.float32)
                CONV_WEIGHT_GRAD(x, g2, self.geometry, self.out_hw, dw, tile, a, e)
                parts.append(dw)

            _over_samples(weight_grad, x.shape[0], work, k)
            gw = parts[0]
            for part in parts[1:]:
                gw += part
            gw = gw.reshape(w.shape)
        if nx:
            w2t = np.ascontiguousarray(w.reshape(k, cout).T)
            gx = np.empty(x.shape, dtype=np.float32)
            _over_samples(
                lambda a, e, tile: CONV_INPUT_GRAD(
                    g2, w2t, self.geometry, gx, tile, a, e, self.out_hw
                ),
                x.shape[0],
                work,
                k,
            )
        return (gx, gw, gb) if has_b else (gx, gw)

    def _input_grad_by_position(self, xp_, g2, w, out_hw):
        n, oh, ow = out_hw
        kh, kw, cin, cout = w.shape
        (sh, sw), (dh, dw) = self.strides, self.dilation
        gxp = xp_.zeros(self.xpad_shape, dtype=g2.dtype)
        for i in range(kh):
            for j in range(kw):
                part = (g2 @ w[i, j].T).reshape(n, oh, ow, cin)
                window = gxp[:, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw, :]

                def add(a, b, window=window, part=part):
                    window[a:b] += part[a:b]

                split_batch(xp_, add, part.shape[0], part.size)
        return _crop_pads(gxp, self.pads)

    def backward(self, gy):
        if self.tiled:
            return self._backward_tiled(gy)
        xp_ = backend.array_module(gy)
        if self.activation is not None:
            gy = _through_activation_by_chunks(xp_, self.activation, gy, self.y)
        w = self.w
        kh, kw, cin_g, cout = w.shape
        n, oh, ow, _ = gy.shape
        nx, nw = self.needs_input_grad[:2]
        has_b = len(self.needs_input_grad) > 2
        nb = has_b and self.needs_input_grad[2]
        gb = None
        if nb and not self.bias_in_product:
            gb = column_sums(xp_, gy.reshape(-1, cout))
        g = self.groups
        gx = gw = None
        if g == 1:
            g2 = gy.reshape(-1, cout)
            if self.bias_in_product and (nw or nb):  # [dW; db] = [cols, 1]^T @ g
                gwb = transposed_product(xp_, self.cols, g2)
                gw = gwb[:-1].reshape(w.shape) if nw else None
                gb = gwb[-1] if nb else None
            elif nw:
                gw = transposed_product(xp_, self.cols, g2).reshape(w.shape)
            if nx:
                gx = self._input_grad_by_position(xp_, g2, w, (n, oh, ow))
            return (gx, gw, gb) if has_b else (gx, gw)
        else:
            wg = w.reshape(kh, kw, cin_g, g, cout // g)
            gyg = gy.reshape(n, oh, ow, g, cout // g)
            if nw:
                gw = xp_.einsum("nhwijgc,nhwgo->ijcgo", self.cols, gyg, optimize=True)
                gw = gw.reshape(w.shape)
            if nx:
                gcols = xp_.einsum("nhwgo,ijcgo->nhwijgc", gyg, wg, optimize=True)
                gcols = gcols.reshape(n, oh, ow, kh, kw, g * cin_g)
        if nx:
            gxp = _col2im(xp_, gcols, self.xpad_shape, (kh, kw), self.strides, self.dilation)
            gx = _crop_pads(gxp, self.pads)
        return (gx, gw, gb) if has_b else (gx, gw)


def _crop_pads(gxp, pads):
    (t, b), (l, r) = pads
    return gxp[:, t : gxp.shape[1] - b, l : gxp.shape[2] - r, :]


def _conv_args(x, kernel, strides, padding, dilation_rate, data_format, rank):
    x, kernel = promote(as_tensor(x), as_tensor(kernel))
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(
            "Expected `data_format` 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    if x.ndim != rank + 2:
        raise ValueError(
            f"conv: expected an input of rank {rank + 2} (batch, {rank} spatial axes, channels). "
            f"Received: input shape={x.shape}"
        )
    if kernel.ndim != rank + 2:
        raise ValueError(
            f"conv: expected a kernel of rank {rank + 2}. Received: kernel shape={kernel.shape}"
        )
    if data_format == "channels_first":
        x = transpose(x, (0,) + tuple(range(2, rank + 2)) + (1,))
    return (
        x,
        kernel,
        _tuple(strides, rank, "strides"),
        padding.lower() if isinstance(padding, str) else padding,
        _tuple(dilation_rate, rank, "dilation_rate"),
    )


def _to_2d(x, kernel, strides, dilation):
    x2 = reshape(x, (x.shape[0], 1) + x.shape[1:])
    k2 = reshape(kernel, (1,) + kernel.shape)
    return x2, k2, (1,) + strides, (1,) + dilation


def _from_channels_last(y, data_format, rank):
    if data_format == "channels_first":
        return transpose(y, (0, rank + 1) + tuple(range(1, rank + 1)))
    return y


def conv(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
    bias=None,
    activation=None,
):
    """N-D convolution (1-D, 2-D and 3-D), kernel shape (*window, C_in / groups, C_out).

    ``groups`` is inferred from C_in / kernel.shape[-2], as in Keras. ``bias`` (C_out,) and
    ``activation`` (None, "relu", "tanh" or "sigmoid") are shendu additions: both are applied
    inside the same node, the activation in place on the output.
    """
    check_fused_activation(activation, "conv")
    rank = as_tensor(inputs).ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            "conv: supports 1-D, 2-D and 3-D convolution (inputs of rank 3, 4 or 5). "
            f"Received: input shape={as_tensor(inputs).shape}"
        )
    x, k, s, pad, d = _conv_args(
        inputs, kernel, strides, padding, dilation_rate, data_format, rank
    )
    if x.shape[-1] % k.shape[-2]:
        raise ValueError(
            f"conv: input channels {x.shape[-1]} are not a multiple of the kernel's "
            f"input channels {k.shape[-2]}. Received: kernel shape={k.shape}"
        )
    groups = x.shape[-1] // k.shape[-2]
    if k.shape[-1] % groups:
        raise ValueError(
            f"conv: output channels {k.shape[-1]} must be divisible by groups={groups}"
        )
    if rank == 1:
        x2, k2, s2, d2 = _to_2d(x, k, s, d)
        if pad == "causal":
            x2 = _causal_pad(x2, k.shape[0], d[0])
            pad = "valid"
    if rank == 3:
        y = _from_channels_last(_conv3d(x, k, s, pad, d, groups), data_format, rank)
        if bias is not None:
            b = as_tensor(bias)
            y = y + (reshape(b, (-1, 1, 1, 1)) if data_format == "channels_first" else b)
        return y if activation is None else activation_op(activation)(y)
    # channels_first adds the bias after the transpose back, so the activation follows it
    inside = activation if data_format != "channels_first" else None
    if rank == 1:
        y = Conv2D(s2, pad, d2, groups, inside).apply(*_with_bias(x2, k2, bias, data_format))
        y = reshape(y, (y.shape[0],) + y.shape[2:])
    else:
        y = Conv2D(s, pad, d, groups, inside).apply(*_with_bias(x, k, bias, data_format))
    y = _from_channels_last(y, data_format, rank)
    if bias is not None and data_format == "channels_first":
        y = y + reshape(as_tensor(bias), (-1,) + (1,) * rank)
    if activation is not None and inside is None:
        y = activation_op(activation)(y)
    return y


def _depth_pads(depth, k, s, d, padding, op):
    """The (before, after) zeros along the depth axis of a 3-D window."""
    if padding not in ("valid", "same"):
        raise ValueError(
            f"{op}: 3-D windows take padding 'valid' or 'same'. Received: padding={padding!r}"
        )
    return (0, 0) if padding == "valid" else _same_padding(depth, k, s, d)


def _conv3d(x, k, s, padding, d, groups):
    """3-D convolution, channels_last: x (N, D, H, W, C), kernel (KD, KH, KW, C/g, F).

    As KD 2-D convolutions over (H, W), one per kernel plane, of the depth slices that plane
    meets, summed: y[:, o] = sum_i conv2d(x[:, o s_d + i d_d], k[i]) (each a batch of N * OD
    images: large products; gradients through the slices and the sum).
    """
    n, _, h, w, c = x.shape
    kd = k.shape[0]
    before, after = _depth_pads(x.shape[1], kd, s[0], d[0], padding, "conv")
    if before or after:
        x = pad(x, ((0, 0), (before, after), (0, 0), (0, 0), (0, 0)))
    depth = x.shape[1]
    od = (depth - (kd - 1) * d[0] - 1) // s[0] + 1
    if od <= 0:
        raise ValueError(
            f"conv: the input's depth {depth} is smaller than the (dilated) window "
            f"{(kd - 1) * d[0] + 1}"
        )
    y: Any = None
    for i in range(kd):
        start = i * d[0]
        planes = reshape(x[:, start : start + (od - 1) * s[0] + 1 : s[0]], (n * od, h, w, c))
        yi = Conv2D(s[1:], padding, d[1:], groups, None).apply(planes, k[i])
        y = yi if y is None else y + yi
    return reshape(y, (n, od) + tuple(y.shape[1:]))


def _pool3d(mode, x, pool, strides, padding):
    """3-D pooling, channels_last, separable: over (H, W) per depth slice, then over depth
    (a (pool_d, 1) window over (D, OH * OW)). The max (first maximum in row-major window
    order takes the gradient) and the average of real entries ('same' padding) both split
    this way."""
    n, depth, h, w, c = x.shape
    y = Pool2D(mode, pool[1:], strides[1:], padding).apply(reshape(x, (n * depth, h, w, c)))
    oh, ow = y.shape[1:3]
    y = Pool2D(mode, (pool[0], 1), (strides[0], 1), padding).apply(
        reshape(y, (n, depth, oh * ow, c))
    )
    return reshape(y, (n, y.shape[1], oh, ow, c))


def _with_bias(x, k, bias, data_format):
    if bias is None or data_format == "channels_first":
        return (x, k)
    return (x, k, bias)


def _causal_pad(x2, k, d):
    from .shape import pad as _pad

    return _pad(x2, ((0, 0), (0, 0), ((k - 1) * d, 0), (0, 0)))


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; kernel shape (*window, C_in, multiplier)."""
    k = as_tensor(kernel)
    shape = k.shape[:-2] + (1, k.shape[-2] * k.shape[-1])
    return conv(inputs, reshape(k, shape), strides, padding, data_format, dilation_rate)


class ConvTranspose2D(Function):
    """y = the transpose (adjoint) of a strided conv applied to x; kernel (KH, KW, C_out, C_in).

    Forward is conv's input-gradient: cols = x @ W^T, then col2im.  Backward:
    dx = im2col(gy) @ W, dW = (im2col(gy))^T @ x.
    """

    def __init__(self, strides, dilation, out_hw, crop):
        self.strides, self.dilation, self.out_hw, self.crop = strides, dilation, out_hw, crop

    def forward(self, x, w):
        xp_ = backend.array_module(x, w)
        kh, kw, cout, cin = w.shape
        if x.shape[-1] != cin:
            raise ValueError(
                f"conv_transpose: the input has {x.shape[-1]} channels but the kernel of shape "
                f"{w.shape} expects {cin}"
            )
        n, h, wd, _ = x.shape
        (sh, sw), (dh, dw) = self.strides, self.dilation
        full = (
            (h - 1) * sh + (kh - 1) * dh + 1 + self.crop[0][1],
            (wd - 1) * sw + (kw - 1) * dw + 1 + self.crop[1][1],
        )
        wm = w.reshape(kh * kw * cout, cin)
        cols = (x.reshape(-1, cin) @ wm.T).reshape(n, h, wd, kh, kw, cout)
        y = _col2im(xp_, cols, (n,) + full + (cout,), (kh, kw), self.strides, self.dilation)
        (t, _), (l, _) = self.crop
        oh, ow = self.out_hw
        self.x, self.w, self.full = x, w, full
        return y[:, t : t + oh, l : l + ow, :]

    def backward(self, gy):
        xp_ = backend.array_module(gy)
        kh, kw, cout, cin = self.w.shape
        n = gy.shape[0]
        (t, _), (l, _) = self.crop
        gfull = xp_.zeros((n,) + self.full + (cout,), dtype=gy.dtype)
        gfull[:, t : t + gy.shape[1], l : l + gy.shape[2], :] = gy
        win = _windows(xp_, gfull, (kh, kw), self.strides, self.dilation)
        h, wd = self.x.shape[1:3]
        win = win[:, :h, :wd]
        cols = win.reshape(n * h * wd, kh * kw * cout)
        nx, nw = self.needs_input_grad
        wm = self.w.reshape(kh * kw * cout, cin)
        gx = (cols @ wm).reshape(self.x.shape) if nx else None
        gw = (cols.T @ self.x.reshape(-1, cin)).reshape(self.w.shape) if nw else None
        return gx, gw


def _transpose_geometry(size, k, s, d, padding, output_padding):
    """Keras's output length of a transposed convolution and the crop at its start.

    valid: (size - 1) s + max(dk, s) (or + dk + output_padding), no crop;
    same: size * s (or (size - 1) s + dk % 2 + output_padding), cropping dk - 1 - left,
    left = min(ceil(pad / 2), dk - 1), as in Keras's JAX backend.
    """
    dk = (k - 1) * d + 1
    if padding == "valid":
        op = max(dk, s) - dk if output_padding is None else output_padding
        return (size - 1) * s + dk + op, 0
    pad_len = s + dk - 2 if output_padding is None else dk + dk % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, dk - 1)
    return (size - 1) * s + pad_len - dk + 2, dk - 1 - left


def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """Transposed convolution (1-D, 2-D and 3-D); kernel shape (*window, C_out, C_in)."""
    rank = as_tensor(inputs).ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            "conv_transpose: supports inputs of rank 3, 4 or 5. "
            f"Received: input shape={as_tensor(inputs).shape}"
        )
    x, k, s, pad, d = _conv_args(
        inputs, kernel, strides, padding, dilation_rate, data_format, rank
    )
    if pad not in ("valid", "same"):
        raise ValueError(f"Expected `padding` 'valid' or 'same'. Received: padding={padding!r}")
    if rank == 3:
        op = None
        if output_padding is not None:
            op = (output_padding,) * 3 if isinstance(output_padding, int) else output_padding
            op = tuple(int(v) for v in op)
        y = _conv_transpose3d(x, k, s, pad, d, op)
        return _from_channels_last(y, data_format, rank)
    if rank == 1:
        x, k, s, d = _to_2d(x, k, s, d)
        op = None if output_padding is None else (0, _tuple(output_padding, 1, "op")[0])
    else:
        op = (
            None
            if output_padding is None
            else tuple(
                (output_padding,) * 2 if isinstance(output_padding, int) else output_padding
            )
        )
    outs, crops = [], []
    for i in range(2):
        o, p = _transpose_geometry(
            x.shape[1 + i], k.shape[i], s[i], d[i], pad, None if op is None else op[i]
        )
        if rank == 1 and i == 0:
            o, p = 1, 0
        full = (x.shape[1 + i] - 1) * s[i] + (k.shape[i] - 1) * d[i] + 1
        extra = max(p + o - full, 0)
        outs.append(o)
        crops.append((p, extra))
    y = ConvTranspose2D(s, d, tuple(outs), tuple(crops)).apply(x, k)
    if rank == 1:
        y = reshape(y, (y.shape[0],) + y.shape[2:])
    return _from_channels_last(y, data_format, rank)


def _conv_transpose3d(x, k, s, padding, d, output_padding):
    """Transposed 3-D convolution, channels_last: x (N, D, H, W, C_in), kernel (KD, KH, KW,
    C_out, C_in); the adjoint of ``_conv3d``. Each kernel plane i transposes the 2-D
    convolution over (H, W) of every depth slice (one batch of N * D images); slice j's
    result lands at depth j s_d + i d_d of the full output, (D - 1) s_d + (KD - 1) d_d + 1
    deep, which Keras's rule then crops (or extends) to its length."""
    n, depth, h, w, _ = x.shape
    kd = k.shape[0]
    op = (None,) * 3 if output_padding is None else output_padding
    outs, crops = [], []
    for axis in range(1, 3):  # height and width, as the 2-D transposed convolution does
        o, p = _transpose_geometry(x.shape[1 + axis], k.shape[axis], s[axis], d[axis],
                                   padding, op[axis])  # fmt: skip
        full = (x.shape[1 + axis] - 1) * s[axis] + (k.shape[axis] - 1) * d[axis] + 1
        outs.append(o)
        crops.append((p, max(p + o - full, 0)))
    out_d, crop_d = _transpose_geometry(depth, kd, s[0], d[0], padding, op[0])
    full_d = (depth - 1) * s[0] + (kd - 1) * d[0] + 1
    span = (depth - 1) * s[0] + 1  # the slices' results, s_d apart
    planes = reshape(x, (n * depth,) + tuple(x.shape[2:]))
    total: Any = None
    for i in range(kd):
        yi = ConvTranspose2D(s[1:], d[1:], tuple(outs), tuple(crops)).apply(planes, k[i])
        yi = reshape(yi, (n, depth) + tuple(yi.shape[1:]))
        if s[0] > 1:  # s_d - 1 zero slices after each slice
            gap = zeros_like(yi)
            yi = stack([yi] + [gap] * (s[0] - 1), axis=2)
            yi = reshape(yi, (n, depth * s[0]) + tuple(yi.shape[3:]))[:, :span]
        before = i * d[0]
        yi = pad(yi, ((0, 0), (before, full_d - before - span), (0, 0), (0, 0), (0, 0)))
        total = yi if total is None else total + yi
    end = crop_d + out_d
    if end > full_d:  # Keras's length runs past the full output: zeros there
        total = pad(total, ((0, 0), (0, end - full_d), (0, 0), (0, 0), (0, 0)))
    return total[:, crop_d:end]


class Pool2D(Function):
    """Max or average pooling over windows, channels_last.

    max: the gradient goes to the first maximal entry of each window; average: gy / count
    spread over each window ('same' counts only real entries). Non-overlapping windows
    (stride == pool, valid padding) take a fast path of strided views, no copies.
    """

    def __init__(self, mode, pool, strides, padding):
        self.mode, self.pool, self.strides, self.padding = mode, pool, strides, padding

    def _offsets(self, x):
        """For non-overlapping windows (stride == pool, valid padding): one strided view
        per position in the window, each of the output's shape (no copies)."""
        (ph, pw), (h, w) = self.pool, x.shape[1:3]
        oh, ow = h // ph, w // pw
        return [x[:, i : oh * ph : ph, j : ow * pw : pw] for i in range(ph) for j in range(pw)]

    def forward(self, x):
        xp_ = backend.array_module(x)
        self.fast = self.strides == self.pool and self.padding == "valid"
        if self.fast:
            views = self._offsets(x)
            self.x_shape = x.shape
            y = xp_.empty(views[0].shape, dtype=x.dtype)
            combine = xp_.maximum if self.mode == "max" else xp_.add

            def chunk(a, b):
                out = y[a:b]
                if len(views) == 1:
                    xp_.copyto(out, views[0][a:b])
                else:
                    combine(views[0][a:b], views[1][a:b], out=out)
                for v in views[2:]:
                    combine(out, v[a:b], out=out)
                if self.mode != "max":
                    out /= len(views)

            split_batch(xp_, chunk, x.shape[0], x.size)
            if self.mode == "max" and self.recording:
                self.x, self.y = x, y
            return y
        self.pads = _pads(x.shape[1:3], self.pool, self.strides, (1, 1), self.padding)
        fill = -np.inf if self.mode == "max" else 0.0
        xpad = _pad_input(xp_, x, self.pads, fill)
        win = _windows(xp_, xpad, self.pool, self.strides, (1, 1))
        n, oh, ow, kh, kw, c = win.shape
        self.xpad_shape, self.win_shape = xpad.shape, win.shape
        if self.mode == "max":
            flat = win.transpose(0, 1, 2, 5, 3, 4).reshape(n, oh, ow, c, kh * kw)
            idx = flat.argmax(axis=-1)
            y = xp_.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
            self.idx = idx
            return y
        y = win.sum(axis=(3, 4))
        if self.padding == "same" and any(p != (0, 0) for p in self.pads):
            ones = _pad_input(xp_, xp_.ones((1,) + x.shape[1:3] + (1,), x.dtype), self.pads)
            counts = _windows(xp_, ones, self.pool, self.strides, (1, 1)).sum(axis=(3, 4))
        else:
            counts = kh * kw
        self.counts = counts
        return (y / counts).astype(x.dtype, copy=False)

    def _fast_backward(self, xp_, gy):
        """max: each window's gradient goes to its first maximal entry; average: spread."""
        (ph, pw), (h, w) = self.pool, self.x_shape[1:3]
        # rows and columns the windows do not cover (odd sizes) get no gradient
        gx = (xp_.empty if h % ph == 0 and w % pw == 0 else xp_.zeros)(
            self.x_shape, dtype=gy.dtype
        )
        if self.mode == "max":
            x, y = self.x, self.y
            split_batch(
                xp_, lambda a, b: MAX_POOL_BACKWARD(x, y, gy, gx, ph, pw, a, b), gx.shape[0],
                gx.size,
            )  # fmt: skip
            return gx
        grads = self._offsets(gx)

        def chunk(a, b):
            share = gy[a:b] / len(grads)
            for g in grads:
                g[a:b] = share

        split_batch(xp_, chunk, gx.shape[0], gx.size)
        return gx

    def backward(self, gy):
        xp_ = backend.array_module(gy)
        if self.fast:
            return self._fast_backward(xp_, gy)
        n, oh, ow, kh, kw, c = self.win_shape
        if self.mode == "max":
            gflat = xp_.zeros((n, oh, ow, c, kh * kw), dtype=gy.dtype)
            xp_.put_along_axis(gflat, self.idx[..., None], gy[..., None], axis=-1)
            gcols = gflat.reshape(n, oh, ow, c, kh, kw).transpose(0, 1, 2, 4, 5, 3)
        else:
            g = (gy / self.counts).astype(gy.dtype, copy=False)
            gcols = xp_.broadcast_to(g[:, :, :, None, None, :], self.win_shape)
        gxp = _col2im(xp_, gcols, self.xpad_shape, self.pool, self.strides, (1, 1))
        return _crop_pads(gxp, self.pads)


def _pool(mode, inputs, pool_size, strides, padding, data_format):
    x = as_tensor(inputs)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            f"{mode}_pool: expected an input of rank 3, 4 or 5. Received: input shape={x.shape}"
        )
    pool = _tuple(pool_size, rank, "pool_size")
    strides = pool if strides is None else _tuple(strides, rank, "strides")
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"Expected `padding` 'valid' or 'same'. Received: padding={padding!r}")
    if data_format == "channels_first":
        x = transpose(x, (0,) + tuple(range(2, rank + 2)) + (1,))
    if rank == 1:
        x2 = reshape(x, (x.shape[0], 1) + x.shape[1:])
        y = Pool2D(mode, (1,) + pool, (1,) + strides, padding).apply(x2)
        y = reshape(y, (y.shape[0],) + y.shape[2:])
    elif rank == 3:
        y = _pool3d(mode, x, pool, strides, padding)
    else:
        y = Pool2D(mode, pool, strides, padding).apply(x)
    return _from_channels_last(y, data_format, rank)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling (1-D or 2-D), channels_last by default."""
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling (1-D or 2-D), channels_last by default (integers average in floatx)."""
    return _pool("average", float_tensor(inputs), pool_size, strides, padding, data_format)


from ._util import export_ops  # noqa: E402

export_ops(globals())
