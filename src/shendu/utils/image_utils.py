"""Image files to arrays and back (Keras's ``load_img``, ``img_to_array``, ``array_to_img``,
``save_img``), through Pillow: the ``[image]`` extra."""

from __future__ import annotations

import os

import numpy as np

from .. import backend


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Reading and writing images needs Pillow, which is not installed. Install the "
            "extra: pip install 'shendu[image]'"
        ) from None
    return Image


_RESAMPLE = {"nearest": 0, "bilinear": 2, "bicubic": 3, "lanczos": 1, "box": 4, "hamming": 5}


def load_img(
    path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False
):
    """An image file as a PIL image (``color_mode`` 'rgb', 'rgba' or 'grayscale'),
    resized to ``target_size`` = (height, width) when given."""
    image_mod = _pil()
    if interpolation not in _RESAMPLE:
        raise ValueError(
            f"Invalid interpolation method {interpolation!r}. Supported: {sorted(_RESAMPLE)}"
        )
    with open(os.fspath(path), "rb") as f:
        img = image_mod.open(f)
        img.load()
    mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}.get(color_mode)
    if mode is None:
        raise ValueError(
            f"color_mode must be 'grayscale', 'rgb' or 'rgba'. Received: color_mode={color_mode!r}"
        )
    if img.mode != mode:
        img = img.convert(mode)
    if target_size is not None:
        height, width = target_size
        if keep_aspect_ratio:
            w, h = img.size
            crop_w = min(w, int(h * width / height))
            crop_h = min(h, int(w * height / width))
            left, top = (w - crop_w) // 2, (h - crop_h) // 2
            img = img.crop((left, top, left + crop_w, top + crop_h))
        if img.size != (width, height):
            img = img.resize((width, height), _RESAMPLE[interpolation])
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as a float array (height, width, channels), channels first with
    ``data_format='channels_first'``."""
    data_format = backend.standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return np.moveaxis(x, -1, 0) if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A (height, width, channels) array as a PIL image; with ``scale`` the values are
    stretched to 0-255."""
    image_mod = _pil()
    data_format = backend.standardize_data_format(data_format)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(
            f"Expected an image array of rank 3 (single image). Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = np.moveaxis(x, 0, -1)
    if scale:
        x = x - x.min()
        peak = x.max()
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[-1]
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        raise ValueError(f"Unsupported channel number: {channels}")
    data = x.astype(np.uint8)
    return image_mod.fromarray(data[..., 0] if channels == 1 else data, mode)


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write an image array to ``path`` (format from the extension or ``file_format``),
    atomically."""
    from ..saving.files import atomic_write

    img = array_to_img(x, data_format=data_format, scale=scale)
    path = os.fspath(path)
    fmt = file_format or os.path.splitext(path)[1].lstrip(".").upper() or "PNG"
    fmt = "JPEG" if fmt == "JPG" else fmt
    if img.mode == "RGBA" and fmt == "JPEG":
        img = img.convert("RGB")
    atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **kwargs))
