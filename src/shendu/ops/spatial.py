"""Spatial rearrangements and pooling under ``keras.ops.nn`` names: adaptive pooling,
space_to_depth / depth_to_space, unfold / fold (PyTorch's im2col and its adjoint) and
separable convolution. Each is a composition of differentiable ops or an IndexMap node.

Adaptive pooling splits each spatial axis of length n into m windows, window i covering
[floor(i n / m), ceil((i + 1) n / m)) (PyTorch's and Keras's rule): the average is a
product with an averaging matrix per axis; the maximum gathers every window (padded with
-inf) and reduces.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ._util import as_tensor
from .dtypes import float_tensor
from .selection import IndexMap, IndexMapAdjoint, index_map
from .shape import moveaxis, reshape, transpose


def _spatial_first(x, rank, data_format):
    """x with channels last (N, *spatial, C)."""
    if backend.standardize_data_format(data_format) == "channels_first":
        return moveaxis(x, 1, -1)
    return x


def _restore(y, data_format):
    if backend.standardize_data_format(data_format) == "channels_first":
        return moveaxis(y, -1, 1)
    return y


def _windows(n, m):
    starts = (np.arange(m) * n) // m
    ends = -((-(np.arange(1, m + 1) * n)) // m)
    return starts, ends


def _sizes(output_size, rank):
    return (output_size,) * rank if isinstance(output_size, int) else tuple(output_size)


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average over adaptive windows so that the spatial shape becomes ``output_size``."""
    from .linalg import tensordot

    x = float_tensor(inputs)  # Keras: integers average in floatx
    rank = x.ndim - 2
    x = _spatial_first(x, rank, data_format)
    for axis, m in enumerate(_sizes(output_size, rank), start=1):
        n = x.shape[axis]
        starts, ends = _windows(n, m)
        weights = np.zeros((n, m), x.dtype)
        for j, (a, b) in enumerate(zip(starts, ends)):
            weights[a:b, j] = 1.0 / (b - a)
        x = moveaxis(tensordot(x, weights, axes=[[axis], [0]]), -1, axis)
    return _restore(x, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Maximum over adaptive windows so that the spatial shape becomes ``output_size``."""
    from .reduction import max as max_
    from .shape import getitem

    x = as_tensor(inputs)
    rank = x.ndim - 2
    x = _spatial_first(x, rank, data_format)
    for axis, m in enumerate(_sizes(output_size, rank), start=1):
        n = x.shape[axis]
        starts, ends = _windows(n, m)
        width = int(np.max(ends - starts))
        idx = starts[:, None] + np.arange(width)[None, :]
        valid = idx < ends[:, None]
        idx = np.where(valid, idx, 0)
        moved = moveaxis(x, axis, -1)
        gathered = getitem(moved, (Ellipsis, idx))  # (..., m, width)
        gathered = gathered + np.where(valid, 0.0, -np.inf).astype(x.dtype)
        x = moveaxis(max_(gathered, axis=-1), -1, axis)
    return _restore(x, data_format)


def space_to_depth(x, block_size, data_format="channels_last"):
    """(N, H, W, C) -> (N, H / b, W / b, b * b * C): each b x b block into the channels."""
    x = as_tensor(x)
    b = int(block_size)
    x = _spatial_first(x, 2, data_format)
    n, h, w, c = x.shape
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height {h} and width {w} must be multiples of {b}")
    y = reshape(x, (n, h // b, b, w // b, b, c))
    y = reshape(transpose(y, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))
    return _restore(y, data_format)


def depth_to_space(x, block_size, data_format="channels_last"):
    """The inverse of ``space_to_depth``."""
    x = as_tensor(x)
    b = int(block_size)
    x = _spatial_first(x, 2, data_format)
    n, h, w, c = x.shape
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels {c} must be a multiple of {b * b}")
    y = reshape(x, (n, h, w, b, b, c // (b * b)))
    y = reshape(transpose(y, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))
    return _restore(y, data_format)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _unfold_index(shape, kernel_size, dilation, padding, stride):
    """For (N, C, H, W): the positions gathered into (N, C * kh * kw, L) (0 for padding)."""
    n, c, h, w = shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel_size, dilation, padding, stride))
    positions = np.arange(1, n * c * h * w + 1).reshape(shape)
    padded = np.pad(positions, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    rows = (np.arange(oh) * sh)[:, None] + (np.arange(kh) * dh)[None, :]  # (oh, kh)
    cols = (np.arange(ow) * sw)[:, None] + (np.arange(kw) * dw)[None, :]  # (ow, kw)
    block = padded[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # n c oh kh ow kw
    block = block.transpose(0, 1, 3, 5, 2, 4).reshape(n, c * kh * kw, oh * ow)
    return block - 1


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's unfold (im2col) of a channels-first (N, C, H, W) input:
    (N, C * kh * kw, L), L the number of sliding windows."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"unfold: expected an input of rank 4. Received: shape={x.shape}")
    index = _unfold_index(x.shape, kernel_size, dilation, padding, stride)
    return IndexMap(index, x.shape).apply(x)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of ``unfold``: sums (N, C * kh * kw, L) blocks into (N, C, H, W)."""
    x = as_tensor(x)
    kh, kw = _pair(kernel_size)
    n, ckk, _ = x.shape
    h, w = _pair(output_size)
    shape = (n, ckk // (kh * kw), h, w)
    index = _unfold_index(shape, kernel_size, dilation, padding, stride)
    if index.shape != x.shape:
        raise ValueError(
            f"fold: an input of shape {x.shape} does not match {index.shape} for "
            f"output_size={output_size}"
        )
    return IndexMapAdjoint(index, shape).apply(x)


def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """A depthwise convolution followed by a 1 x 1 convolution."""
    from .conv import conv, depthwise_conv

    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format)


__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "depth_to_space",
    "fold",
    "index_map",
    "separable_conv",
    "space_to_depth",
    "unfold",
]


from ._util import export_ops  # noqa: E402

export_ops(globals())
