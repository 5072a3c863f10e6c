"""Preprocessing layers: feature normalisation, lookups and encodings (the image layers
are in ``image_preprocessing`` and the modules it names)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from ..utils.string_hashing import fingerprint64, fingerprint_cat64, siphash64, token_bytes
from . import quantile_summary
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
    """(x - mean) / sqrt(var) over the feature axis, statistics given or learned by
    ``adapt`` (NaN-aware: missing values are ignored by adapt; with ``impute_nan=True`` a
    NaN becomes 0 after normalisation, i.e. the mean - a shendu addition).

    As Keras: statistics given to the constructor are constants (in the config); otherwise
    the layer holds three non-trainable weights, ``mean`` (zeros), ``variance`` (ones) and
    ``count``, that ``adapt`` sets (so a saved model keeps them as weights).

    Args:
        axis: the feature axis (or axes) with their own mean and variance (None: one for all).
        mean: the mean (with ``variance``), else learnt by ``adapt``.
        variance: the variance (with ``mean``).
        invert: undo the normalisation instead (x * sqrt(var) + mean).
        impute_nan: a shendu addition: a NaN input becomes 0 after normalisation (the mean).
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    replay_safe = True

    def __init__(
        self, axis=-1, mean=None, variance=None, invert=False, impute_nan=False, **kwargs
    ):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError(
                "When setting values for mean and variance, both must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        self.axis, self.invert, self.impute_nan = axis, invert, impute_nan
        self.accepts_nan = impute_nan  # fit then lets NaN through to this layer
        self.input_mean = None if mean is None else np.asarray(mean, dtype=self.dtype)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=self.dtype)
        # the adapted statistics (variables once built)
        self.adapt_mean: Any = None
        self.adapt_variance: Any = None
        self.count: Any = None

    def _feature_axis(self, ndim):
        axis = self.axis[0] if isinstance(self.axis, (tuple, list)) else self.axis
        return None if axis is None else axis % ndim

    def build(self, input_shape):
        if self.input_mean is not None:
            return
        axis = self._feature_axis(len(input_shape))
        shape = () if axis is None else (input_shape[axis],)
        self.adapt_mean = self.add_weight(
            shape=shape, initializer="zeros", trainable=False, name="mean"
        )
        self.adapt_variance = self.add_weight(
            shape=shape, initializer="ones", trainable=False, name="variance"
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="count"
        )

    def _broadcast_shape(self, ndim):
        """How the statistics reshape to broadcast over inputs of rank ``ndim`` (None: the
        feature axis is the last, or they are scalars)."""
        axis = self._feature_axis(ndim)
        if axis is None or axis == ndim - 1 or np.ndim(self.mean) == 0:
            return None
        shape = [1] * ndim
        shape[axis] = -1
        return tuple(shape)

    @property
    def mean(self):
        if self.input_mean is not None:
            return self.input_mean
        return None if self.adapt_mean is None else self.adapt_mean.data

    @property
    def variance(self):
        if self.input_variance is not None:
            return self.input_variance
        return None if self.adapt_variance is None else self.adapt_variance.data

    def adapt(self, data):
        arrays = [a.astype(np.float64) for a in _batches(data)]
        axis = self._feature_axis(arrays[0].ndim) if arrays[0].ndim > 1 else None
        moved = [np.moveaxis(a, axis, -1) if axis is not None else a for a in arrays]
        x = np.concatenate(
            [a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(-1, 1) for a in moved]
        )
        if np.isnan(x).all(axis=0).any():
            raise ValueError(f"Layer {self.name!r}: a feature has no non-NaN value to adapt on")
        if self.input_mean is not None:
            raise ValueError(
                f"Layer {self.name!r}: the statistics were given to the constructor; adapt "
                "needs a Normalization made without mean and variance"
            )
        if not self.built:
            self._maybe_build(Tensor.wrap(arrays[0].astype(self.dtype)))
        mean, variance = np.nanmean(x, axis=0), np.nanvar(x, axis=0)
        if self.adapt_mean.shape == ():
            mean, variance = np.nanmean(x), np.nanvar(x)
        self.adapt_mean.assign(np.reshape(mean, self.adapt_mean.shape).astype(self.dtype))
        self.adapt_variance.assign(
            np.reshape(variance, self.adapt_variance.shape).astype(self.dtype)
        )

    compute_output_shape = same_shape

    def call(self, inputs):
        # one node that reads the statistics when it runs (so a recorded step does too);
        # the input in the layer's float dtype first, as Keras (uint8 images must not wrap)
        return ops.standardize(
            ops.cast(inputs, self.dtype),
            self,
            invert=self.invert,
            impute_nan=self.impute_nan,
            shape=self._broadcast_shape(inputs.ndim),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "mean": None if self.input_mean is None else self.input_mean.tolist(),
            "variance": None if self.input_variance is None else self.input_variance.tolist(),
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
        # in the layer's dtype first, as Keras (uint8 * 2 must not wrap around)
        return ops.cast(inputs, self.dtype) * self.scale + self.offset

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
        """Bin boundaries at approximate quantiles of ``data`` (batch by batch, Keras's
        summaries: ``layers.quantile_summary``); missing values (NaN) are left out."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        summary = quantile_summary.empty()
        for batch in _batches(data):
            x = np.asarray(batch, dtype="float32").reshape(-1)
            summary = quantile_summary.merge(
                quantile_summary.summarize(x[~np.isnan(x)], self.epsilon), summary, self.epsilon
            )
        self.bin_boundaries = quantile_summary.boundaries(summary, self.num_bins)

    compute_output_shape = same_shape

    def compute_output_dtype(self, input_dtype):
        return "int32"  # Keras's bin indices

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Layer {self.name!r}: call adapt(data) first")
        return Tensor.wrap(np.digitize(_np(inputs), self.bin_boundaries).astype(np.int32))

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

    def call(self, inputs, count_weights=None):
        """The encoding of integer ``inputs``; with ``output_mode="count"``,
        ``count_weights`` (the shape of ``inputs``) weighs each token's count."""
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                "`count_weights` is not used when `output_mode` is not `'count'`. "
                f"Received `count_weights={count_weights}`."
            )
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
        if count_weights is None:
            weights = np.ones(x2.shape, self.dtype)
        else:
            weights = np.broadcast_to(_np(count_weights).astype(self.dtype), x.shape)
            weights = weights.reshape(x2.shape)
        for i, row in enumerate(x2):
            np.add.at(out[i], row, weights[i])
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
    vocabulary (from a list or ``adapt``; never read from a path or URL).

    Unknown tokens spread over the OOV indices: strings by FarmHash64 of their bytes
    (SipHash-2-4 with ``salt``), integers by ``token % num_oov_indices``
    (``oov_method="floormod"``) or by the hash of their decimal text ("farmhash").
    ``output_mode`` "one_hot", "multi_hot", "count" and "tf_idf" encode the ids (count
    times the token's idf weight for tf_idf: from ``idf_weights``, or learnt by
    ``adapt`` as log(1 + documents / (1 + documents holding the token)), the OOV index
    taking their mean), ``max_tokens`` wide with ``pad_to_max_tokens``."""

    def _key(self, v):
        """A vocabulary entry as the lookup keeps it (each lookup defines it)."""
        raise NotImplementedError

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(vocabulary, str):
            raise ValueError(
                f"Layer {self.name!r}: `vocabulary` must be a list; shendu never reads a "
                f"vocabulary from a file path or URL. Received: {vocabulary!r}"
            )
        output_mode = "multi_hot" if output_mode == "binary" else output_mode  # Keras's alias
        output_mode = "tf_idf" if output_mode == "tf-idf" else output_mode
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            raise ValueError(f"Unknown `output_mode`. Received: output_mode={output_mode!r}")
        if sparse:
            raise ValueError(
                f"Layer {self.name!r}: sparse=True needs TensorFlow's SparseTensor (Keras "
                "allows it on the TensorFlow backend only); shendu's outputs are dense"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                "Invalid value for argument `oov_method`. Expected one of ('floormod', "
                f"'farmhash'). Received: oov_method={oov_method}"
            )
        if salt is not None:
            if isinstance(self, IntegerLookup) and oov_method != "farmhash":
                raise ValueError(
                    "`salt` can only be used when `oov_method='farmhash'`. "
                    f"Received: oov_method={oov_method}"
                )
            if isinstance(salt, int):
                salt = [salt, salt]
            elif not (isinstance(salt, (tuple, list)) and len(salt) == 2):
                raise ValueError(
                    "The `salt` argument for `IndexLookup` can only be a tuple of size 2 "
                    f"integers, or a single integer. Received: salt={salt}."
                )
            salt = list(salt)
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`.")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token, self.invert = mask_token, oov_token, invert
        self.output_mode, self.sparse = output_mode, False
        self.pad_to_max_tokens, self.oov_method, self.salt = pad_to_max_tokens, oov_method, salt
        self.vocabulary = None
        self.idf_weights: Any = None  # an array of weights with tf_idf
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError("`idf_weights` can only be given with a `vocabulary`.")

    def set_vocabulary(self, vocabulary, idf_weights=None):
        vocab = [self._key(v) for v in vocabulary]
        if len(set(vocab)) != len(vocab):
            raise ValueError(f"Layer {self.name!r}: the vocabulary has repeated entries")
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(
                    "`idf_weights` must be set if output_mode is 'tf_idf'. Received: "
                    f"idf_weights={idf_weights}"
                )
            if len(idf_weights) != len(vocab):
                raise ValueError(
                    "`idf_weights` must be the same length as vocabulary. "
                    f"len(idf_weights) is {len(idf_weights)}; len(vocabulary) is {len(vocab)}"
                )
            self.idf_weights = np.asarray(idf_weights, dtype=np.float64)
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is 'tf_idf'. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
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
        rows = [np.asarray(a) for a in _batches(data)]
        values, counts = np.unique(
            np.concatenate([row.reshape(-1) for row in rows]), return_counts=True
        )
        # most frequent first; ties in descending token order, as Keras (TensorFlow) sorts
        order = sorted(range(len(values)), key=lambda i: (counts[i], values[i]), reverse=True)
        vocab = [values[i] for i in order if values[i] != self.mask_token]
        limit = (
            None
            if self.max_tokens is None
            else self.max_tokens - self.num_oov_indices - (1 if self.mask_token is not None else 0)
        )
        vocab = vocab[:limit]
        idf = None
        if self.output_mode == "tf_idf":
            documents = [
                set(np.atleast_1d(document).reshape(-1).tolist())
                for row in rows
                for document in (row if row.ndim > 1 else row[None])
            ]
            holding = {token: sum(token in d for d in documents) for token in vocab}
            idf = [math.log(1 + len(documents) / (1 + holding[token])) for token in vocab]
        self.set_vocabulary(vocab, idf)

    def _width(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int" or self.invert:
            return tuple(input_shape)
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        return CategoryEncoding(self._width(), mode).compute_output_shape(input_shape)

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
                flat.append(mask_offset + self._oov_index(k))
        ids = np.array(flat, dtype=np.int64).reshape(x.shape)
        if self.output_mode == "int":
            return Tensor.wrap(ids)
        if self.output_mode != "tf_idf":
            return CategoryEncoding(self._width(), self.output_mode)(ids)
        counts = _np(CategoryEncoding(self._width(), "count")(ids)).astype(np.float64)
        weights = np.zeros(self._width())
        first = mask_offset + self.num_oov_indices
        weights[first : first + len(self.vocabulary)] = self.idf_weights
        weights[mask_offset:first] = np.mean(self.idf_weights) if len(self.idf_weights) else 0
        return Tensor.wrap((counts * weights).astype(self.dtype))

    def _oov_index(self, key):
        """Which OOV index a token takes (see the class's docstring)."""
        if self.num_oov_indices <= 1:
            return 0
        if isinstance(key, str) or self.oov_method == "farmhash":
            data = key.encode("utf-8") if isinstance(key, str) else token_bytes(key)
            digest = fingerprint64(data) if self.salt is None else siphash64(data, self.salt)
            return digest % self.num_oov_indices
        return key % self.num_oov_indices

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "mask_token": self.mask_token,
            "oov_token": self.oov_token,
            "invert": self.invert,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "salt": self.salt,
            "vocabulary": None if self.vocabulary is None else list(self.vocabulary),
            "idf_weights": None if self.idf_weights is None else self.idf_weights.tolist(),
        }


class StringLookup(_Lookup):
    """Strings -> integer ids (OOV id 1 by default, "[UNK]"); bytes are decoded with
    ``encoding``."""

    accepts_text = True

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            salt=salt,
            name=name,
            **kwargs,
        )

    def _key(self, v):
        return v.decode(self.encoding) if isinstance(v, bytes) else str(v)

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(_Lookup):
    """Integers -> contiguous ids (OOV id 0 by default, token -1)."""

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if np.dtype(vocabulary_dtype).kind not in "iu":
            raise ValueError(
                "`vocabulary_dtype` must be an integer dtype ('int64' or 'int32'). "
                f"Received: vocabulary_dtype={vocabulary_dtype}"
            )
        self.vocabulary_dtype = np.dtype(vocabulary_dtype).name
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    @staticmethod
    def _key(v):
        return int(v)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_dtype": self.vocabulary_dtype,
            "oov_method": self.oov_method,
        }


def hash_bucket(token, num_bins, salt=None):
    """The bin of a token, as Keras (TensorFlow's string hashes): FarmHash Fingerprint64 of
    its bytes modulo ``num_bins``, or SipHash-2-4 keyed by ``salt`` (two 64-bit words).
    Integers hash as their decimal text; floats are cast to integers first (as Keras casts
    the input to the layer's int64)."""
    if isinstance(token, (float, np.floating)):
        token = int(token)
    data = token_bytes(token)
    digest = fingerprint64(data) if salt is None else siphash64(data, salt)
    return digest % num_bins


class Hashing(Layer):
    """Token -> bin in [0, num_bins), the same bin as Keras: FarmHash Fingerprint64, or with
    a ``salt`` (an int s, meaning (s, s), or a pair) SipHash-2-4 keyed by it. With a
    ``mask_value``, that token takes bin 0 and the others hash into [1, num_bins)."""

    accepts_text = True

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(f"`num_bins` must be a positive integer. Received: {num_bins}")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(
                "`output_mode` must be one of 'int', 'one_hot', 'multi_hot', 'count'. "
                f"Received: output_mode={output_mode!r}"
            )
        if salt is None:
            self._key = None
        elif isinstance(salt, (tuple, list)) and len(salt) == 2:
            self._key = (int(salt[0]), int(salt[1]))
        elif isinstance(salt, int) and not isinstance(salt, bool):
            self._key = (salt, salt)
        else:
            raise ValueError(
                "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, "
                f"or a single integer. Received: salt={salt}."
            )
        self.num_bins, self.mask_value = num_bins, mask_value
        self.salt = None if self._key is None else list(self._key)
        self.output_mode = output_mode

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return _encoded_shape(input_shape, self.output_mode, self.num_bins)

    def compute_output_dtype(self, input_dtype):
        return "int64" if self.output_mode == "int" else self.dtype

    def call(self, inputs):
        x = np.asarray(_np(inputs))
        out = np.empty(x.shape, np.int64)
        masked = self.mask_value is not None and self.num_bins > 1
        span = self.num_bins - 1 if masked else self.num_bins
        for i, v in np.ndenumerate(x):
            v = v.decode() if isinstance(v, bytes) else v
            if masked and v == self.mask_value:
                out[i] = 0
            else:
                out[i] = hash_bucket(v, span, self._key) + (1 if masked else 0)
        if self.output_mode == "int":
            return Tensor.wrap(out)
        return CategoryEncoding(self.num_bins, self.output_mode)(out)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "mask_value": self.mask_value,
            "salt": self.salt,
            "output_mode": self.output_mode,
        }


_CROSS_HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default key


def _feature_fingerprint(value):
    """A feature's 64-bit hash in a cross, as TensorFlow: text by FarmHash, integers as
    their own two's-complement value."""
    if isinstance(value, (bytes, str)):
        return fingerprint64(token_bytes(value))
    return int(value) & ((1 << 64) - 1)


class HashedCrossing(Layer):
    """Cross categorical features by hashing: each sample's tuple of feature values
    (f_1, ..., f_k) goes to ``h % num_bins``, with ``h`` folded from the features'
    fingerprints by ``fingerprint_cat64`` from TensorFlow's key (the same bins as Keras's
    ``tf.sparse.cross_hashed``). Called on a list or tuple of at least two inputs of shape
    (), (batch,) or (batch, 1); ``output_mode`` "int" or "one_hot". Needs no TensorFlow."""

    accepts_text = True

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError(
                f"`output_mode` must be 'int' or 'one_hot'. Received: output_mode={output_mode!r}"
            )
        if sparse:
            raise ValueError("`sparse=True` needs TensorFlow's sparse tensors; shendu is dense")
        if not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(f"`num_bins` must be a positive integer. Received: {num_bins}")
        self.num_bins, self.output_mode, self.sparse = num_bins, output_mode, sparse

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2:
            raise ValueError(
                f"Expected as input a list/tuple of 2 tensors. Received input_shape={input_shape}"
            )
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        return (first[:-1] if first and first[-1] == 1 else first) + (self.num_bins,)

    def compute_output_dtype(self, input_dtype):
        return "int64" if self.output_mode == "int" else self.dtype

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "`HashedCrossing` should be called on a list or tuple of inputs. "
                f"Received: inputs={inputs}"
            )
        if len(inputs) < 2:
            raise ValueError(
                "`HashedCrossing` should be called on at least two inputs. "
                f"Received: inputs={inputs}"
            )
        arrays = [np.asarray(_np(x)) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received shapes: {[a.shape for a in arrays]}"
            )
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(
                "All `HashedCrossing` inputs should have equal shape. "
                f"Received shapes: {[a.shape for a in arrays]}"
            )
        return arrays, shape

    def call(self, inputs):
        arrays, shape = self._check(inputs)
        columns = [a.reshape(-1) for a in arrays]
        bins = np.empty(len(columns[0]), np.int64)
        for row in range(len(bins)):
            digest = _CROSS_HASH_KEY
            for column in columns:
                value = column[row]
                value = value.item() if isinstance(value, np.generic) else value
                digest = fingerprint_cat64(digest, _feature_fingerprint(value))
            bins[row] = digest % self.num_bins
        bins = bins.reshape(shape)
        if self.output_mode == "int":
            return Tensor.wrap(bins)
        return CategoryEncoding(self.num_bins, "one_hot", dtype=self.dtype)(bins)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }
