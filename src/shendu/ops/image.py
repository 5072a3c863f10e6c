"""Image ops (``keras.ops.image``): resizing, geometric transforms, colour spaces, patches,
blur, edges and SSIM. Images are (batch, height, width, channels) or one image without the
batch axis; ``data_format`` defaults to ``shendu.config.image_data_format()``.

Every op is built from differentiable pieces, so each is differentiable in the images:

- ``resize`` and ``scale_and_translate`` apply, along each spatial axis, a matrix of kernel
  weights (triangle for bilinear, Keys cubic, Lanczos 3/5) sampled at half-pixel centres,
  widened by 1/scale when downsampling with ``antialias``, each output's weights normalised
  to sum 1 (Keras's and JAX's rule); ``nearest`` gathers floor((i + 0.5) in / out).
- ``map_coordinates`` (and the affine, perspective and elastic transforms built on it)
  gathers the 2^d corners around each coordinate with their linear weights; indices outside
  the image follow ``fill_mode`` (constant: ``fill_value``; nearest: the edge; wrap; mirror:
  d c b | a b c d | c b a; reflect: d c b a | a b c d | d c b a).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ._util import as_tensor, data_of
from .selection import IndexMap, index_map
from .shape import expand_dims, moveaxis, reshape, squeeze, stack


def _data_format(data_format):
    fmt = data_format or backend.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={fmt!r}"
        )
    return fmt


def _float(x):
    x = as_tensor(x)
    if x.dtype.kind != "f":
        from .arithmetic import cast

        x = cast(x, backend.floatx())
    return x


def _batched_last(images, data_format, name):
    """(images as (N, H, W, C), whether a batch axis was added, the data format)."""
    x = as_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{name}: expected images of rank 3 (single image) or 4 (batch). "
            f"Received input with shape: images.shape={x.shape}"
        )
    fmt = _data_format(data_format)
    single = x.ndim == 3
    if single:
        x = expand_dims(x, 0)
    if fmt == "channels_first":
        x = moveaxis(x, 1, -1)
    return x, single, fmt


def _unbatch(y, single, fmt):
    if fmt == "channels_first":
        y = moveaxis(y, -1, 1)
    return squeeze(y, 0) if single else y


# -------------------------------------------------------------------------- resizing

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x):
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        out = np.where(x > 1e-3, y / np.where(x != 0, np.pi**2 * x**2, 1), 1.0)
        return np.where(x > radius, 0.0, out)

    return kernel


_KERNELS = {
    "linear": _triangle,
    "bilinear": _triangle,
    "trilinear": _triangle,
    "triangle": _triangle,
    "cubic": _keys_cubic,
    "bicubic": _keys_cubic,
    "tricubic": _keys_cubic,
    "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0),
}


def _weight_matrix(n_in, n_out, scale, translation, kernel, antialias):
    """(n_in, n_out) weights: output j samples the input at (j + 0.5 - t) / s - 0.5."""
    inv = 1.0 / scale
    kernel_scale = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(n_out) + 0.5) * inv - translation * inv - 0.5
    w = kernel(np.abs(sample[None, :] - np.arange(n_in)[:, None]) / kernel_scale)
    total = w.sum(axis=0, keepdims=True)
    w = np.where(
        np.abs(total) > 1000.0 * np.finfo(np.float32).eps,
        w / np.where(total != 0, total, 1),
        0.0,
    )
    inside = (sample >= -0.5) & (sample <= n_in - 0.5)
    return np.where(inside[None, :], w, 0.0)


def _scale_translate(x, output_shape, spatial_dims, scale, translation, kernel, antialias):
    from .linalg import tensordot

    for i, d in enumerate(spatial_dims):
        d = d % x.ndim
        w = _weight_matrix(
            x.shape[d], output_shape[d], scale[i], translation[i], kernel, antialias
        ).astype(x.dtype)
        x = moveaxis(tensordot(x, w, axes=[[d], [0]]), -1, d)
    return x


def _resize_nearest(x, out_h, out_w):
    from .shape import getitem

    rows = np.floor((np.arange(out_h) + 0.5) * x.shape[1] / out_h).astype(np.int64)
    cols = np.floor((np.arange(out_w) + 0.5) * x.shape[2] / out_w).astype(np.int64)
    return getitem(getitem(x, (slice(None), rows)), (slice(None), slice(None), cols))


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Resize to ``size`` = (height, width)."""
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
            f"Received: fill_mode={fill_mode}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."
        )
    if len(size) != 2:
        raise ValueError(
            "Argument `size` must be a tuple of two elements (height, width). "
            f"Received: size={size}"
        )
    x, single, fmt = _batched_last(images, data_format, "resize")
    integer = x.dtype.kind in "iu"
    original = x.dtype
    x = _float(x)
    th, tw = (int(s) for s in size)
    h, w = x.shape[1], x.shape[2]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        x = x[:, top : top + ch, left : left + cw, :]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
        from .shape import pad

        if top > 0:
            x = pad(x, [(0, 0), (top, top), (0, 0), (0, 0)], constant_values=fill_value)
        elif left > 0:
            x = pad(x, [(0, 0), (0, 0), (left, left), (0, 0)], constant_values=fill_value)
    if interpolation == "nearest":
        y = _resize_nearest(x, th, tw)
    else:
        dims = [d for d, (a, b) in zip((1, 2), ((x.shape[1], th), (x.shape[2], tw))) if a != b]
        out_shape = (x.shape[0], th, tw, x.shape[3])
        scales = [out_shape[d] / x.shape[d] for d in dims]
        y = _scale_translate(
            x, out_shape, dims, scales, [0.0] * len(dims), _KERNELS[interpolation], antialias
        )
    if integer:
        from .arithmetic import cast, clip
        from .elementwise import round as round_

        info = np.iinfo(original)
        y = cast(clip(round_(y), float(info.min), float(info.max)), original)
    return _unbatch(y, single, fmt)


def scale_and_translate(
    images, output_shape, scale, translation, spatial_dims, method, antialias=True
):
    """JAX's ``scale_and_translate``: resample ``spatial_dims`` to ``output_shape`` with
    output = input sampled at (x + 0.5 - translation) / scale - 0.5."""
    if method not in _KERNELS:
        raise ValueError(
            f"Invalid value for argument `method`. Expected one of {sorted(_KERNELS)}. "
            f"Received: method={method}"
        )
    x = _float(images)
    scale = np.asarray(data_of(scale), np.float64).reshape(-1)
    translation = np.asarray(data_of(translation), np.float64).reshape(-1)
    return _scale_translate(
        x, tuple(output_shape), list(spatial_dims), scale, translation, _KERNELS[method], antialias
    )


# ----------------------------------------------------------------- coordinate sampling

MAP_COORDINATES_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _mode_index(i, n, mode):
    """Integer indices mapped into [0, n) by ``mode``, and which are valid (constant)."""
    valid = (i >= 0) & (i < n)
    if mode == "constant":
        return np.clip(i, 0, max(n - 1, 0)), valid
    if mode == "nearest":
        return np.clip(i, 0, n - 1), np.ones_like(valid)
    if mode == "wrap":
        return np.mod(i, n), np.ones_like(valid)
    if mode == "mirror":
        if n == 1:
            return np.zeros_like(i), np.ones_like(valid)
        period = 2 * n - 2
        j = np.mod(i, period)
        return np.where(j >= n, period - j, j), np.ones_like(valid)
    period = 2 * n  # reflect
    j = np.mod(i, period)
    return np.where(j >= n, period - 1 - j, j), np.ones_like(valid)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """``inputs`` sampled at ``coordinates`` (one array per axis of ``inputs``) by nearest
    (order 0) or linear (order 1) interpolation; differentiable in ``inputs``."""
    x = as_tensor(inputs)
    coords = [np.asarray(data_of(c), np.float64) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. "
            f"Received inputs with shape: {x.shape} and coordinate leading dim of {len(coords)}"
        )
    if fill_mode not in MAP_COORDINATES_FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected one of "
            f"{set(MAP_COORDINATES_FILL_MODES)}. Received: fill_mode={fill_mode}"
        )
    if order not in (0, 1):
        raise ValueError(
            f"Invalid value for argument `order`. Expected one of [0, 1]. Received: order={order}"
        )
    strides = np.cumprod((1,) + x.shape[:0:-1])[::-1]
    if order == 0:
        corners = [[(np.sign(c) * np.floor(np.abs(c) + 0.5)).astype(np.int64)] for c in coords]
        weights = [[np.ones_like(c)] for c in coords]
    else:
        corners, weights = [], []
        for c in coords:
            lo = np.floor(c)
            corners.append([lo.astype(np.int64), lo.astype(np.int64) + 1])
            weights.append([1.0 - (c - lo), c - lo])
    out, fill = None, 0.0
    for choice in np.ndindex(*([len(corners[0])] * x.ndim)):
        flat = np.zeros(coords[0].shape, np.int64)
        valid = np.ones(coords[0].shape, bool)
        weight = np.ones(coords[0].shape)
        for axis, k in enumerate(choice):
            idx, ok = _mode_index(corners[axis][k], x.shape[axis], fill_mode)
            flat += idx * strides[axis]
            valid &= ok
            weight = weight * weights[axis][k]
        index = np.where(valid, flat, -1)
        term = IndexMap(index, x.shape).apply(x) * weight.astype(x.dtype)
        out = term if out is None else out + term
        if fill_mode == "constant":
            fill = fill + np.where(valid, 0.0, weight) * fill_value
    if fill_mode == "constant" and fill_value != 0:
        out = out + np.asarray(fill, x.dtype)
    return out


AFFINE_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}


def _sample_batch(x, y_in, x_in, interpolation, fill_mode, fill_value):
    """Sample (N, H, W, C) images at per-image (y_in, x_in) grids of shape (N, h, w)."""
    n, _, _, c = x.shape
    h, w = y_in.shape[1:]
    b = np.broadcast_to(np.arange(n)[:, None, None, None], (n, h, w, c))
    ch = np.broadcast_to(np.arange(c)[None, None, None, :], (n, h, w, c))
    yy = np.broadcast_to(y_in[..., None], (n, h, w, c))
    xx = np.broadcast_to(x_in[..., None], (n, h, w, c))
    return map_coordinates(
        x, [b, yy, xx, ch], AFFINE_INTERPOLATIONS[interpolation], fill_mode, fill_value
    )


def _check_interpolation(interpolation, fill_mode="constant"):
    if interpolation not in AFFINE_INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{set(AFFINE_INTERPOLATIONS)}. Received: interpolation={interpolation}"
        )
    if fill_mode not in MAP_COORDINATES_FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one "
            f"{set(MAP_COORDINATES_FILL_MODES)}. Received: fill_mode={fill_mode}"
        )


def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0,
    data_format=None,
):
    """Sample each output pixel (x, y) at the input point (a0 x + a1 y + a2, b0 x + b1 y +
    b2), ``transform`` = [a0, a1, a2, b0, b1, b2, c0, c1] per image (c0, c1 unused, as in
    Keras's NumPy and JAX backends)."""
    _check_interpolation(interpolation, fill_mode)
    x, single, fmt = _batched_last(images, data_format, "affine_transform")
    x = _float(x)
    t = np.asarray(data_of(transform), np.float64)
    if t.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
            f"transforms). Received input with shape: transform.shape={t.shape}"
        )
    t = np.broadcast_to(t.reshape(-1, 8), (x.shape[0], 8))
    n, h, w, _ = x.shape
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    x_in = t[:, 0, None, None] * xx + t[:, 1, None, None] * yy + t[:, 2, None, None]
    y_in = t[:, 3, None, None] * xx + t[:, 4, None, None] * yy + t[:, 5, None, None]
    y = _sample_batch(x, y_in, x_in, interpolation, fill_mode, fill_value)
    return _unbatch(y, single, fmt)


def compute_homography_matrix(start_points, end_points):
    """The 8 coefficients of the projective map sending each end point to its start point."""
    s = np.asarray(data_of(start_points), np.float64).reshape(-1, 4, 2)
    e = np.asarray(data_of(end_points), np.float64).reshape(-1, 4, 2)
    rows, rhs = [], []
    for k in range(4):
        ex, ey, sx, sy = e[:, k, 0], e[:, k, 1], s[:, k, 0], s[:, k, 1]
        one, zero = np.ones_like(ex), np.zeros_like(ex)
        rows.append(np.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1))
        rows.append(np.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1))
        rhs += [sx, sy]
    a = np.stack(rows, axis=1)
    b = np.stack(rhs, axis=-1)[..., None]
    return np.linalg.solve(a, b)[..., 0]


def perspective_transform(
    images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None
):
    """Warp so that ``start_points`` (4 corners, (x, y)) land on ``end_points``."""
    _check_interpolation(interpolation)
    x, single, fmt = _batched_last(images, data_format, "perspective_transform")
    x = _float(x)
    t = compute_homography_matrix(start_points, end_points)
    t = np.broadcast_to(t, (x.shape[0], 8))
    n, h, w, _ = x.shape
    yy, xx = np.meshgrid(
        np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij"
    )
    a = [t[:, i, None, None] for i in range(8)]
    denom = a[6] * xx + a[7] * yy + 1.0
    x_in = (a[0] * xx + a[1] * yy + a[2]) / denom
    y_in = (a[3] * xx + a[4] * yy + a[5]) / denom
    y = _sample_batch(x, y_in, x_in, interpolation, "constant", fill_value)
    return _unbatch(y, single, fmt)


def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """Displace each pixel by alpha times a Gaussian-smoothed (sigma) normal random field."""
    from ..random import _generator_for

    _check_interpolation(interpolation, fill_mode)
    x, single, fmt = _batched_last(images, data_format, "elastic_transform")
    x = _float(x)
    n, h, w, _ = x.shape
    rng = _generator_for(seed)
    size = int(6 * sigma) | 1
    fields = []
    for _ in range(2):
        noise = rng.normal(size=(n, h, w, 1)) * sigma
        smooth = gaussian_blur(
            noise.astype(x.dtype), (size, size), (sigma, sigma), "channels_last"
        )
        fields.append(np.asarray(smooth.data)[..., 0])
    dx, dy = fields
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    y = _sample_batch(x, yy + alpha * dy, xx + alpha * dx, interpolation, fill_mode, fill_value)
    return _unbatch(y, single, fmt)


# ---------------------------------------------------------------------------- colours


def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.5870 G + 0.1140 B, keeping a channel axis of 1."""
    x = as_tensor(images)
    fmt = _data_format(data_format)
    axis = -1 if fmt == "channels_last" else -3
    if x.ndim not in (3, 4):
        raise ValueError(f"rgb_to_grayscale: expected rank 3 or 4. Received: shape={x.shape}")
    if x.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
            f"Received input with shape: images.shape={x.shape}"
        )
    if x.shape[axis] == 1:
        return x + 0 if x.dtype.kind == "f" else x
    from .linalg import tensordot

    original = x.dtype
    weights = np.array([0.2989, 0.5870, 0.1140], np.float64)
    y = expand_dims(
        tensordot(_float(x), weights.astype(_float(x).dtype), axes=[[x.ndim + axis], [0]]), axis
    )
    if original.kind != "f":
        from .arithmetic import cast

        y = cast(y, original)
    return y


def _split3(x, axis):
    from .shape import split

    return [squeeze(p, axis) for p in split(x, 3, axis=axis)]


def rgb_to_hsv(images, data_format=None):
    """Hue, saturation and value in [0, 1] (the formula of DeepMind's PIX, as Keras)."""
    from .arithmetic import maximum, minimum, where

    x = as_tensor(images)
    if x.dtype.kind != "f":
        raise ValueError(
            f"Invalid images dtype: expected float dtype. Received: images.dtype={x.dtype}"
        )
    axis = -1 if _data_format(data_format) == "channels_last" else -3
    eps = np.finfo(x.dtype).eps
    x = where(np.abs(x.data) < eps, 0.0, x)
    r, g, b = _split3(x, axis)
    value = maximum(maximum(r, g), b)
    low = minimum(minimum(r, g), b)
    span = value - low
    safe_value = where(value.data > 0, value, 1.0)
    safe_span = where(span.data > 0, span, 1.0)
    saturation = where(value.data > 0, span / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_span)
    hue = where(value.data == g.data, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = where(value.data == r.data, norm * (g - b), hue)
    hue = where(span.data > 0, hue, 0.0) + (hue.data < 0.0).astype(hue.dtype)
    return stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images, data_format=None):
    """The inverse of ``rgb_to_hsv``."""
    from .arithmetic import abs as abs_
    from .arithmetic import clip
    from .elementwise import mod

    x = as_tensor(images)
    if x.dtype.kind != "f":
        raise ValueError(
            f"Invalid images dtype: expected float dtype. Received: images.dtype={x.dtype}"
        )
    axis = -1 if _data_format(data_format) == "channels_last" else -3
    hue, saturation, value = _split3(x, axis)
    dh = mod(hue, 1.0) * 6.0
    dr = clip(abs_(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = clip(2.0 - abs_(dh - 2.0), 0.0, 1.0)
    db = clip(2.0 - abs_(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    rgb = [value * (one_minus_s + saturation * d) for d in (dr, dg, db)]
    return stack(rgb, axis=axis)


# ------------------------------------------------------------------ crops, pads, patches


def _crop_pad_args(h, w, top, left, bottom, right, target_h, target_w, name, verb):
    if top is None and bottom is None and target_h is None:
        top = bottom = 0
    if left is None and right is None and target_w is None:
        left = right = 0
    if top is None:
        top = h - bottom - target_h if verb == "crop" else target_h - h - bottom
    if bottom is None:
        bottom = h - top - target_h if verb == "crop" else target_h - h - top
    if left is None:
        left = w - right - target_w if verb == "crop" else target_w - w - right
    if right is None:
        right = w - left - target_w if verb == "crop" else target_w - w - left
    values = (top, bottom, left, right)
    if any(v is None or v < 0 for v in values):
        raise ValueError(
            f"{name}: the {verb} amounts must be non-negative and determined. Received: "
            f"top={top}, bottom={bottom}, left={left}, right={right}"
        )
    return top, bottom, left, right


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Crop each image by the given amounts (or to the target size)."""
    x, single, fmt = _batched_last(images, data_format, "crop_images")
    h, w = x.shape[1], x.shape[2]
    top, bottom, left, right = _crop_pad_args(
        h,
        w,
        top_cropping,
        left_cropping,
        bottom_cropping,
        right_cropping,
        target_height,
        target_width,
        "crop_images",
        "crop",
    )
    y = x[:, top : h - bottom, left : w - right, :]
    return _unbatch(y, single, fmt)


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """Pad each image with zeros by the given amounts (or to the target size)."""
    from .shape import pad

    x, single, fmt = _batched_last(images, data_format, "pad_images")
    h, w = x.shape[1], x.shape[2]
    top, bottom, left, right = _crop_pad_args(
        h,
        w,
        top_padding,
        left_padding,
        bottom_padding,
        right_padding,
        target_height,
        target_width,
        "pad_images",
        "pad",
    )
    y = pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)])
    return _unbatch(y, single, fmt)


def _patch_index(shape, size, strides, dilation, padding):
    """Positions of the patches of (N, *spatial, C) as (N, *out, prod(size) * C) (-1: pad)."""
    n = shape[0]
    spatial = shape[1:-1]
    positions = np.arange(1, int(np.prod(shape)) + 1).reshape(shape)
    pads = []
    outs = []
    for dim, k, s, d in zip(spatial, size, strides, dilation):
        dk = (k - 1) * d + 1
        if padding == "same":
            out = -(-dim // s)
            total = max((out - 1) * s + dk - dim, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = (dim - dk) // s + 1
            pads.append((0, 0))
        outs.append(out)
    padded = np.pad(positions, [(0, 0)] + pads + [(0, 0)])
    grids = []
    for out, k, s, d in zip(outs, size, strides, dilation):
        grids.append((np.arange(out) * s)[:, None] + (np.arange(k) * d)[None, :])
    rank = len(spatial)
    # one broadcasting index array per spatial axis: output axes first, then kernel axes
    idx_arrays = []
    for axis, g in enumerate(grids):
        shape = [g.shape[0] if i == axis else 1 for i in range(rank)]
        shape += [g.shape[1] if i == axis else 1 for i in range(rank)]
        idx_arrays.append(g.reshape(shape))
    block = padded[(slice(None),) + tuple(idx_arrays)]  # (N, *out, *k, C)
    block = block.reshape((n,) + tuple(outs) + (-1,))
    return block - 1


def _patches(images, size, strides, dilation_rate, padding, data_format, rank, name):
    x = as_tensor(images)
    fmt = _data_format(data_format)
    single = x.ndim == rank + 1
    if single:
        x = expand_dims(x, 0)
    if fmt == "channels_first":
        x = moveaxis(x, 1, -1)
    size = (size,) * rank if isinstance(size, int) else tuple(size)
    strides = (
        size
        if not strides
        else ((strides,) * rank if isinstance(strides, int) else tuple(strides))
    )
    dilation = (dilation_rate,) * rank if isinstance(dilation_rate, int) else tuple(dilation_rate)
    if padding not in ("valid", "same"):
        raise ValueError(f"{name}: `padding` must be 'valid' or 'same'. Received: {padding!r}")
    index = _patch_index(x.shape, size, strides, dilation, padding)
    y = IndexMap(index, x.shape).apply(x)
    if fmt == "channels_first":
        y = moveaxis(y, -1, 1)
    return squeeze(y, 0) if single else y


def extract_patches(
    images, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    """Patches of ``size`` as vectors of (patch rows, patch columns, channels), one per
    stride step: (N, out_h, out_w, size_h * size_w * C). A 3-tuple ``size`` extracts
    volumes (``extract_patches_3d``)."""
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    return _patches(
        images, size, strides, dilation_rate, padding, data_format, 2, "extract_patches"
    )


def extract_patches_3d(
    volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    return _patches(
        volumes, size, strides, dilation_rate, padding, data_format, 3, "extract_patches_3d"
    )


# ------------------------------------------------------------------------ filtering


def _gaussian_1d(size, sigma):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """A Gaussian blur with zero padding ('same' size); the kernel is the outer product of
    1-D Gaussians of ``kernel_size`` and ``sigma`` (Keras's order: the second entries
    give the rows)."""
    from .conv import depthwise_conv
    from .shape import pad

    x, single, fmt = _batched_last(images, data_format, "gaussian_blur")
    x = _float(x)
    ks = np.asarray(data_of(kernel_size)).reshape(-1)
    sg = np.asarray(data_of(sigma), np.float64).reshape(-1)
    kernel = np.outer(_gaussian_1d(int(ks[1]), sg[1]), _gaussian_1d(int(ks[0]), sg[0]))
    kh, kw = kernel.shape
    c = x.shape[-1]
    k = np.tile(kernel[:, :, None, None], (1, 1, c, 1)).astype(x.dtype)
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    padded = pad(x, [(0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)])
    y = depthwise_conv(padded, k[::-1, ::-1], 1, "valid", "channels_last")
    return _unbatch(y, single, fmt)


def sobel_edges(images, data_format=None):
    """Sobel derivatives (SciPy's ``ndimage.sobel``, 'reflect' borders): (..., C, 2) holding
    d/dy and d/dx."""
    x, single, fmt = _batched_last(images, data_format, "sobel_edges")
    x = _float(x)
    padded = index_map(x, lambda p: np.pad(p, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="symmetric"))
    h, w = x.shape[1], x.shape[2]

    def at(dy, dx):
        return padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w, :]

    smooth = (1.0, 2.0, 1.0)
    d_y = sum(s * (at(1, j) - at(-1, j)) for s, j in zip(smooth, (-1, 0, 1)))
    d_x = sum(s * (at(i, 1) - at(i, -1)) for s, i in zip(smooth, (-1, 0, 1)))
    y = stack([d_y, d_x], axis=-1)
    if fmt == "channels_first":
        y = moveaxis(y, 3, 1)
    return squeeze(y, 0) if single else y


def ssim(
    image1,
    image2,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """Structural similarity (Wang et al. 2004) with a Gaussian window, 'valid' filtering,
    averaged over positions and channels: one value per image pair."""
    from .conv import conv
    from .reduction import mean

    a, single, _ = _batched_last(image1, data_format, "ssim")
    b, _, _ = _batched_last(image2, data_format, "ssim")
    a, b = _float(a), _float(b)
    n, h, w, c = a.shape
    g = _gaussian_1d(filter_size, filter_sigma)
    kernel = np.outer(g, g)[:, :, None, None].astype(a.dtype)

    def per_channel(t):
        return reshape(moveaxis(t, 3, 1), (-1, h, w, 1))

    a1, b1 = per_channel(a), per_channel(b)

    def blur(t):
        return conv(t, kernel, 1, "valid", "channels_last")

    mu1, mu2 = blur(a1), blur(b1)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    s11 = blur(a1 * a1) - mu1 * mu1
    s22 = blur(b1 * b1) - mu2 * mu2
    s12 = blur(a1 * b1) - mu1 * mu2
    ssim_map = ((2.0 * mu1 * mu2 + c1) * (2.0 * s12 + c2)) / (
        (mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2)
    )
    values = mean(reshape(mean(ssim_map, axis=(1, 2, 3)), (n, c)), axis=-1)
    return squeeze(values, 0) if single else values


__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]


from ._util import export_ops  # noqa: E402

export_ops(globals())
