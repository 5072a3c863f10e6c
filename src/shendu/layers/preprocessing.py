"""Preprocessing layers: feature normalisation, lookups and encodings, and image
augmentation. Augmentations act only when ``training=True`` and draw from the
library's seeded generator (or their own ``seed``); they are not differentiable
(they transform data, not parameters)."""

from __future__ import annotations

import hashlib

import numpy as np

from .. import backend, ops
from ..autograd.tensor import Tensor
from .base import Layer, same_shape


def _np(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _batches(data):
    if isinstance(data, (np.ndarray, Tensor, list, tuple)):
        yield _np(data)
        return
    for item in data:
        yield _np(item[0] if isinstance(item, tuple) else item)


class Normalization(Layer):
    """(x - mean) / sqrt(var), statistics given or learned by ``adapt`` (NaN-aware:
    missing values are ignored by adapt; with ``impute_nan=True`` a NaN becomes 0 after
    normalisation, i.e. the mean - a shendu addition)."""

    replay_safe = True

    def __init__(
        self, axis=-1, mean=None, variance=None, invert=False, impute_nan=False, **kwargs
    ):
        super().__init__(**kwargs)
        self.axis, self.invert, self.impute_nan = axis, invert, impute_nan
        self.accepts_nan = impute_nan  # fit then lets NaN through to this layer
        self.mean = None if mean is None else np.asarray(mean, dtype=self.dtype)
        self.variance = None if variance is None else np.asarray(variance, dtype=self.dtype)

    def adapt(self, data):
        arrays = [a.astype(np.float64) for a in _batches(data)]
        x = np.concatenate(
            [a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(-1, 1) for a in arrays]
        )
        if np.isnan(x).all(axis=0).any():
            raise ValueError(f"Layer {self.name!r}: a feature has no non-NaN value to adapt on")
        self.mean = np.nanmean(x, axis=0).astype(self.dtype)
        self.variance = np.nanvar(x, axis=0).astype(self.dtype)

    compute_output_shape = same_shape

    def call(self, inputs):
        if self.mean is None:
            raise ValueError(
                f"Layer {self.name!r}: call adapt(data) or pass mean and variance first"
            )
        # one node that reads the statistics when it runs (so a recorded step does too)
        return ops.standardize(inputs, self, invert=self.invert, impute_nan=self.impute_nan)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "mean": None if self.mean is None else self.mean.tolist(),
            "variance": None if self.variance is None else self.variance.tolist(),
            "invert": self.invert,
            "impute_nan": self.impute_nan,
        }


class Rescaling(Layer):
    """x * scale + offset (e.g. 1/255 for images)."""

    replay_safe = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    compute_output_shape = same_shape

    def call(self, inputs):
        return inputs * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Discretization(Layer):
    """Bucket index of each value: bins from ``bin_boundaries`` or adapted quantiles."""

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, **kwargs):
        super().__init__(**kwargs)
        if bin_boundaries is None and num_bins is None:
            raise ValueError("Discretization: pass `bin_boundaries` or `num_bins` (then adapt)")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins, self.epsilon = num_bins, epsilon

    def adapt(self, data):
        x = np.concatenate([a.reshape(-1) for a in _batches(data)])
        qs = np.linspace(0, 1, self.num_bins + 1)[1:-1]
        self.bin_boundaries = np.quantile(x[~np.isnan(x)], qs).tolist()

    compute_output_shape = same_shape

    def compute_output_dtype(self, input_dtype):
        return "int64"

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Layer {self.name!r}: call adapt(data) first")
        return Tensor.wrap(np.digitize(_np(inputs), self.bin_boundaries).astype(np.int64))

    def get_config(self):
        return {
            **super().get_config(),
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
        }


def _encoded_shape(input_shape, output_mode, num_tokens):
    """one_hot: a token axis of size 1 is replaced by num_tokens, else one is appended;
    multi_hot and count: (batch, num_tokens)."""
    shape = tuple(input_shape)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (num_tokens,)
    return (shape[0], num_tokens)


class CategoryEncoding(Layer):
    """Integer tokens -> one_hot, multi_hot or count vectors of length ``num_tokens``."""

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        output_mode = "multi_hot" if output_mode == "binary" else output_mode  # Keras's alias
        if output_mode not in ("one_hot", "multi_hot", "count"):
            raise ValueError(
                "Unknown arg for output_mode. Expected one of ('one_hot', 'multi_hot', "
                f"'count'). Received: output_mode={output_mode}"
            )
        self.num_tokens, self.output_mode = num_tokens, output_mode

    def compute_output_shape(self, input_shape):
        return _encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def compute_output_dtype(self, input_dtype):
        return self.dtype

    def call(self, inputs):
        x = _np(inputs).astype(np.int64)
        if x.size and (x.min() < 0 or x.max() >= self.num_tokens):
            raise ValueError(
                f"Layer {self.name!r}: tokens must be in [0, {self.num_tokens}). "
                f"Received: [{x.min()}, {x.max()}]"
            )
        if self.output_mode == "one_hot":
            if x.ndim > 1 and x.shape[-1] == 1:
                x = x[..., 0]
            return Tensor.wrap((x[..., None] == np.arange(self.num_tokens)).astype(self.dtype))
        x2 = x.reshape(x.shape[0], -1) if x.ndim > 1 else x[:, None]
        out = np.zeros((x2.shape[0], self.num_tokens), self.dtype)
        for i, row in enumerate(x2):
            np.add.at(out[i], row, 1.0)
        if self.output_mode == "multi_hot":
            out = np.minimum(out, 1.0)
        return Tensor.wrap(out)

    def get_config(self):
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        }


class _Lookup(Layer):
    """Vocabulary lookup: index 0.. num_oov_indices-1 for unknown tokens, then the
    vocabulary (from a list or ``adapt``; never read from a path or URL)."""

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        invert=False,
        output_mode="int",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(vocabulary, str):
            raise ValueError(
                f"Layer {self.name!r}: `vocabulary` must be a list; shendu never reads a "
                f"vocabulary from a file path or URL. Received: {vocabulary!r}"
            )
        output_mode = "multi_hot" if output_mode == "binary" else output_mode  # Keras's alias
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Unknown `output_mode`. Received: output_mode={output_mode!r}")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token, self.invert = mask_token, oov_token, invert
        self.output_mode = output_mode
        self.vocabulary = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    def set_vocabulary(self, vocabulary):
        vocab = [self._key(v) for v in vocabulary]
        if len(set(vocab)) != len(vocab):
            raise ValueError(f"Layer {self.name!r}: the vocabulary has repeated entries")
        self.vocabulary = vocab
        offset = self.num_oov_indices + (1 if self.mask_token is not None else 0)
        self._index = {v: i + offset for i, v in enumerate(vocab)}

    def get_vocabulary(self):
        head = ([self.mask_token] if self.mask_token is not None else []) + [
            self.oov_token
        ] * self.num_oov_indices
        return head + list(self.vocabulary or [])

    def vocabulary_size(self):
        return len(self.get_vocabulary())

    def adapt(self, data):
        values, counts = np.unique(
            np.concatenate([np.asarray(a).reshape(-1) for a in _batches(data)]), return_counts=True
        )
        # most frequent first; ties in descending token order, as Keras (TensorFlow) sorts
        order = sorted(range(len(values)), key=lambda i: (counts[i], values[i]), reverse=True)
        vocab = [values[i] for i in order if values[i] != self.mask_token]
        limit = (
            None
            if self.max_tokens is None
            else self.max_tokens - self.num_oov_indices - (1 if self.mask_token is not None else 0)
        )
        self.set_vocabulary(vocab[:limit])

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int" or self.invert:
            return tuple(input_shape)
        return CategoryEncoding(self.vocabulary_size(), self.output_mode).compute_output_shape(
            input_shape
        )

    def compute_output_dtype(self, input_dtype):
        if self.invert:
            return "object"
        return "int64" if self.output_mode == "int" else self.dtype

    def call(self, inputs):
        if self.vocabulary is None:
            raise ValueError(f"Layer {self.name!r}: set a vocabulary or call adapt(data) first")
        x = np.asarray(_np(inputs))
        if self.invert:
            table = self.get_vocabulary()
            return np.vectorize(lambda i: table[i], otypes=[object])(x)
        mask_offset = 1 if self.mask_token is not None else 0
        flat = []
        for v in x.reshape(-1):
            k = self._key(v)
            if self.mask_token is not None and k == self._key(self.mask_token):
                flat.append(0)
            elif k in self._index:
                flat.append(self._index[k])
            else:
                flat.append(
                    mask_offset
                    + (hash_token(k, 0) % self.num_oov_indices if self.num_oov_indices else 0)
                )
        ids = np.array(flat, dtype=np.int64).reshape(x.shape)
        if self.output_mode == "int":
            return Tensor.wrap(ids)
        enc = CategoryEncoding(self.vocabulary_size(), self.output_mode)
        return enc(ids)

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "mask_token": self.mask_token,
            "oov_token": self.oov_token,
            "invert": self.invert,
            "output_mode": self.output_mode,
            "vocabulary": None if self.vocabulary is None else list(self.vocabulary),
        }


class StringLookup(_Lookup):
    """Strings -> integer ids (OOV id 1 by default, "[UNK]")."""

    accepts_text = True

    def __init__(self, oov_token="[UNK]", **kwargs):
        super().__init__(oov_token=oov_token, **kwargs)

    @staticmethod
    def _key(v):
        return v.decode() if isinstance(v, bytes) else str(v)


class IntegerLookup(_Lookup):
    """Integers -> contiguous ids (OOV id 0 by default, token -1)."""

    def __init__(self, oov_token=-1, **kwargs):
        super().__init__(oov_token=oov_token, **kwargs)

    @staticmethod
    def _key(v):
        return int(v)


def hash_token(token, salt):
    """A stable hash (BLAKE2b of the token and salt); Keras uses FarmHash, so bins differ."""
    digest = hashlib.blake2b(f"{salt}\x00{token}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Hashing(Layer):
    """Token -> bin in [0, num_bins) by a stable hash (bins differ from Keras's FarmHash)."""

    accepts_text = True

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(f"`num_bins` must be a positive integer. Received: {num_bins}")
        self.num_bins, self.mask_value, self.salt = num_bins, mask_value, salt
        self.output_mode = output_mode

    compute_output_shape = same_shape

    def compute_output_dtype(self, input_dtype):
        return "int64"

    def call(self, inputs):
        x = np.asarray(_np(inputs))
        out = np.empty(x.shape, np.int64)
        span = self.num_bins - (1 if self.mask_value is not None else 0)
        for i, v in np.ndenumerate(x):
            v = v.decode() if isinstance(v, bytes) else v
            if self.mask_value is not None and v == self.mask_value:
                out[i] = 0
            else:
                out[i] = hash_token(v, self.salt or 0) % span + (
                    1 if self.mask_value is not None else 0
                )
        return Tensor.wrap(out)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "mask_value": self.mask_value,
            "salt": self.salt,
            "output_mode": self.output_mode,
        }


# ----------------------------------------------------------------------------- images


def _sample(images, src_y, src_x, fill_mode, fill_value, interpolation):
    """Sample images (N, H, W, C) at per-image source coordinates (N, H, W)."""
    n, h, w, c = images.shape

    def fix(coord, size):
        if fill_mode == "reflect":
            period = 2 * size
            coord = np.mod(coord + 0.5, period) - 0.5
            coord = np.where(coord > size - 0.5, period - 1 - coord, coord)
            return coord, None
        if fill_mode == "wrap":
            return np.mod(coord + 0.5, size) - 0.5, None
        if fill_mode == "nearest":
            return np.clip(coord, 0, size - 1), None
        outside = (coord < -0.5) | (coord > size - 0.5)
        return np.clip(coord, 0, size - 1), outside

    y, out_y = fix(src_y, h)
    x, out_x = fix(src_x, w)
    batch = np.arange(n)[:, None, None]
    if interpolation == "nearest":
        yi = np.clip(np.rint(y).astype(int), 0, h - 1)
        xi = np.clip(np.rint(x).astype(int), 0, w - 1)
        out = images[batch, yi, xi]
    else:
        y0 = np.clip(np.floor(y).astype(int), 0, h - 1)
        x0 = np.clip(np.floor(x).astype(int), 0, w - 1)
        y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
        wy, wx = (y - y0)[..., None], (x - x0)[..., None]
        out = (
            images[batch, y0, x0] * (1 - wy) * (1 - wx)
            + images[batch, y0, x1] * (1 - wy) * wx
            + images[batch, y1, x0] * wy * (1 - wx)
            + images[batch, y1, x1] * wy * wx
        )
    if out_y is not None:
        outside = (out_y | out_x)[..., None]
        out = np.where(outside, fill_value, out)
    return out.astype(images.dtype)


class _Augment(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = backend.make_generator(seed) if seed is not None else None

    def _rng(self):
        return self.generator if self.generator is not None else backend.generator()

    def expected_ndim(self):
        return (3, 4)

    compute_output_shape = same_shape

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = _np(inputs)
        single = x.ndim == 3
        if single:
            x = x[None]
        y = self.augment(x)
        return Tensor.wrap(y[0] if single else y)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def _factor_range(factor, name):
    lo, hi = (-factor, factor) if np.isscalar(factor) else tuple(factor)
    if lo > hi:
        raise ValueError(f"`{name}` lower bound exceeds the upper bound. Received: {factor}")
    return float(lo), float(hi)


class RandomFlip(_Augment):
    """Flip images left-right and/or up-down with probability 1/2 each."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip: unknown `mode`. Received: mode={mode!r}")
        self.mode = mode

    def augment(self, x):
        rng = self._rng()
        out = x.copy()
        if "horizontal" in self.mode:
            flip = rng.random(len(x)) < 0.5
            out[flip] = out[flip][:, :, ::-1]
        if "vertical" in self.mode:
            flip = rng.random(len(x)) < 0.5
            out[flip] = out[flip][:, ::-1]
        return out

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _Affine(_Augment):
    def __init__(
        self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs
    ):
        super().__init__(seed, **kwargs)
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise ValueError(f"Unknown `fill_mode`. Received: fill_mode={fill_mode!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Unknown `interpolation`. Received: {interpolation!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def augment(self, x):
        n, h, w, _ = x.shape
        yy, xx = np.meshgrid(
            np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij"
        )
        cy, cx = (h - 1) / 2, (w - 1) / 2
        a, b, ty, tx = self.params(n, h, w)  # source = A (dst - centre) + centre + t
        dy, dx = yy[None] - cy, xx[None] - cx
        src_y = a[:, 0, 0, None, None] * dy + a[:, 0, 1, None, None] * dx + cy + ty[:, None, None]
        src_x = a[:, 1, 0, None, None] * dy + a[:, 1, 1, None, None] * dx + cx + tx[:, None, None]
        return _sample(x, src_y, src_x, self.fill_mode, self.fill_value, self.interpolation)

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


def _eye(n):
    return np.repeat(np.eye(2)[None], n, axis=0)


class RandomRotation(_Affine):
    """Rotate by a random angle in factor * 2 pi (factor a float or a (lo, hi) pair)."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.range = _factor_range(factor, "factor")

    def params(self, n, h, w):
        theta = self._rng().uniform(*self.range, size=n) * 2 * np.pi
        c, s = np.cos(theta), np.sin(theta)
        a = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], 1)
        return a, None, np.zeros(n), np.zeros(n)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_Affine):
    """Zoom by a random factor: height_factor 0.2 means between 80% and 120% (Keras's sign:
    a positive value zooms out)."""

    def __init__(self, height_factor, width_factor=None, **kwargs):
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.h_range = _factor_range(height_factor, "height_factor")
        self.w_range = (
            None if width_factor is None else _factor_range(width_factor, "width_factor")
        )

    def params(self, n, h, w):
        rng = self._rng()
        zy = 1 + rng.uniform(*self.h_range, size=n)
        zx = zy if self.w_range is None else 1 + rng.uniform(*self.w_range, size=n)
        a = np.zeros((n, 2, 2))
        a[:, 0, 0], a[:, 1, 1] = zy, zx
        return a, None, np.zeros(n), np.zeros(n)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


class RandomTranslation(_Affine):
    """Shift by random fractions of the height and width."""

    def __init__(self, height_factor, width_factor, **kwargs):
        super().__init__(**kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.h_range = _factor_range(height_factor, "height_factor")
        self.w_range = _factor_range(width_factor, "width_factor")

    def params(self, n, h, w):
        rng = self._rng()
        return (
            _eye(n),
            None,
            -rng.uniform(*self.h_range, size=n) * h,
            -rng.uniform(*self.w_range, size=n) * w,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


class RandomContrast(_Augment):
    """(x - mean) * f + mean per image and channel, f in [1 - factor, 1 + factor]."""

    def __init__(self, factor, seed=None, value_range=(0, 255), **kwargs):
        super().__init__(seed, **kwargs)
        self.factor = factor
        self.range = _factor_range(factor, "factor")
        self.value_range = tuple(value_range)

    def augment(self, x):
        f = 1 + self._rng().uniform(*self.range, size=(len(x), 1, 1, 1))
        mean = x.mean(axis=(1, 2), keepdims=True)
        return np.clip((x - mean) * f + mean, *self.value_range).astype(x.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": list(self.value_range),
        }


class RandomBrightness(_Augment):
    """Add a random delta of factor * (value range) to each image."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.factor = factor
        self.range = _factor_range(factor, "factor")
        self.value_range = tuple(value_range)

    def augment(self, x):
        span = self.value_range[1] - self.value_range[0]
        delta = self._rng().uniform(*self.range, size=(len(x), 1, 1, 1)) * span
        return np.clip(x + delta, *self.value_range).astype(x.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": list(self.value_range),
        }


def _resize(x, height, width, interpolation):
    n, h, w, _ = x.shape
    ys = (np.arange(height) + 0.5) * h / height - 0.5
    xs = (np.arange(width) + 0.5) * w / width - 0.5
    src_y = np.broadcast_to(ys[None, :, None], (n, height, width))
    src_x = np.broadcast_to(xs[None, None, :], (n, height, width))
    return _sample(x, src_y, src_x, "nearest", 0.0, interpolation)


class RandomCrop(_Augment):
    """A random height x width crop when training; a resize to it at inference (Keras)."""

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.height, self.width = int(height), int(width)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width) + shape[-1:]

    def call(self, inputs, training=None):
        x = _np(inputs)
        single = x.ndim == 3
        x = x[None] if single else x
        if training:
            n, h, w, _ = x.shape
            if h < self.height or w < self.width:
                raise ValueError(
                    f"Layer {self.name!r}: crop {(self.height, self.width)} is larger than "
                    f"the images {(h, w)}"
                )
            rng = self._rng()
            out = np.empty((n, self.height, self.width, x.shape[-1]), x.dtype)
            for i in range(n):
                top = rng.integers(0, h - self.height + 1)
                left = rng.integers(0, w - self.width + 1)
                out[i] = x[i, top : top + self.height, left : left + self.width]
        else:
            out = _resize(x, self.height, self.width, "bilinear")
        return Tensor.wrap(out[0] if single else out)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class Resizing(Layer):
    """Resize images to height x width (bilinear or nearest), always (not only training)."""

    def __init__(
        self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, **kwargs
    ):
        super().__init__(**kwargs)
        self.height, self.width, self.interpolation = int(height), int(width), interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width) + shape[-1:]

    def call(self, inputs):
        x = _np(inputs)
        single = x.ndim == 3
        out = _resize(x[None] if single else x, self.height, self.width, self.interpolation)
        return Tensor.wrap(out[0] if single else out)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
        }


class CenterCrop(Layer):
    """The central height x width crop (resized up when the image is smaller)."""

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-3] + (self.height, self.width) + shape[-1:]

    def call(self, inputs):
        x = _np(inputs)
        single = x.ndim == 3
        x = x[None] if single else x
        h, w = x.shape[1:3]
        if h < self.height or w < self.width:
            out = _resize(x, self.height, self.width, "bilinear")
        else:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            out = x[:, top : top + self.height, left : left + self.width]
        return Tensor.wrap(out[0] if single else out)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
