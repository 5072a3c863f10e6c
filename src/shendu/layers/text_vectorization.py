"""``TextVectorization``: strings to token ids or to bag-of-words vectors, as Keras's
layer does it (the same standardisation, split, n-grams, vocabulary order and output
modes), in NumPy and Python strings: no TensorFlow.

The text is standardised (lower case, punctuation removed), split on whitespace, and
n-grams are joined with a space. ``adapt`` counts the tokens: the vocabulary is sorted by
count, ties in descending token order (TensorFlow's order, so ids agree with Keras). In
``int`` mode id 0 is padding and 1 the out-of-vocabulary token "[UNK]"; in the other modes
column 0 counts out-of-vocabulary tokens. ``tf_idf`` weighs counts by
idf = log(1 + documents / (1 + documents holding the token)); the unknown token gets the
mean idf. The vocabulary (and idf weights) live in the config, so a saved model carries
them.
"""

from __future__ import annotations

import collections
import math
import re
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .base import Layer

#: the characters Keras's "strip_punctuation" removes
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')
OOV_TOKEN = "[UNK]"
MODES = ("int", "multi_hot", "count", "tf_idf")


def _texts(inputs) -> list[str]:
    a = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs, dtype=object)
    if a.ndim == 2 and a.shape[-1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(
            "TextVectorization expects a batch of strings, shape (batch,) or (batch, 1). "
            f"Received: shape {a.shape}"
        )
    return [v.decode() if isinstance(v, bytes) else str(v) for v in a]


class TextVectorization(Layer):
    """Strings -> token ids (``int``, padded to ``output_sequence_length`` or to the
    batch's longest text) or -> vectors over the vocabulary (``multi_hot``, ``count``,
    ``tf_idf``)."""

    accepts_text = True  # fit takes string arrays for a model holding this layer

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        kwargs.pop("vocabulary_size", None)  # in Keras's config; derived here
        super().__init__(name=name, **kwargs)
        if output_mode == "tf-idf":  # Keras accepts this spelling too
            output_mode = "tf_idf"
        if output_mode not in MODES:
            raise ValueError(
                f"Unknown `output_mode`. Expected one of {MODES}. Received: {output_mode!r}"
            )
        if sparse or ragged:
            raise ValueError("TextVectorization: shendu has no sparse or ragged tensors")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError(
                "`output_sequence_length` must be None unless output_mode='int'. Received: "
                f"output_sequence_length={output_sequence_length}, output_mode={output_mode!r}"
            )
        if max_tokens is not None and max_tokens < (2 if output_mode == "int" else 1):
            raise ValueError(f"`max_tokens` is too small. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("`pad_to_max_tokens=True` needs `max_tokens`")
        for arg, value, allowed in (
            ("standardize", standardize, (None, "lower_and_strip_punctuation", "lower",
                                           "strip_punctuation")),
            ("split", split, (None, "whitespace", "character")),
        ):  # fmt: skip
            if not callable(value) and value not in allowed:
                raise ValueError(f"Unknown `{arg}`. Expected one of {allowed} or a callable")
        if isinstance(ngrams, int):
            ngrams = tuple(range(1, ngrams + 1))
        self.ngrams = None if ngrams is None else tuple(int(n) for n in ngrams)
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.output_mode, self.output_sequence_length = output_mode, output_sequence_length
        self.pad_to_max_tokens, self.encoding = bool(pad_to_max_tokens), encoding
        self.vocabulary: list[str] | None = None
        self.idf_weights: Any = None  # an array of weights with tf_idf
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # --- text to tokens ---
    def _tokens(self, text: str) -> list[str]:
        if callable(self.standardize):
            text = self.standardize(text)
        elif self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.lower()
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = PUNCTUATION.sub("", text)
        if callable(self.split):
            words = list(self.split(text))
        elif self.split == "whitespace":
            words = text.split()
        elif self.split == "character":
            words = list(text)
        else:
            words = [text]
        if not self.ngrams:
            return words
        out: list = []
        for n in self.ngrams:
            out.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return out

    # --- vocabulary ---
    def _special(self) -> list[str]:
        return ["", OOV_TOKEN] if self.output_mode == "int" else [OOV_TOKEN]

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and idf weights) from strings or batches of them."""
        counts: collections.Counter = collections.Counter()
        documents: collections.Counter = collections.Counter()
        n_docs = 0
        items = data if not isinstance(data, (np.ndarray, list, tuple, Tensor)) else [data]
        for batch in items:
            batch = batch[0] if isinstance(batch, tuple) else batch
            for text in _texts(batch):
                tokens = self._tokens(text)
                counts.update(tokens)
                documents.update(set(tokens))
                n_docs += 1
        special = self._special()
        ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        vocab = [token for token, _ in ranked if token not in special]
        if self.max_tokens is not None:
            vocab = vocab[: self.max_tokens - len(special)]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [math.log(1 + n_docs / (1 + documents[token])) for token in vocab]
        self.set_vocabulary(vocab, idf)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (without the special tokens; given with them, they are
        recognised and dropped) and, for ``tf_idf``, one idf weight per entry."""
        vocab = [v.decode() if isinstance(v, bytes) else str(v) for v in vocabulary]
        special = self._special()
        if vocab[: len(special)] == special:
            vocab = vocab[len(special) :]
            if idf_weights is not None and len(idf_weights) == len(vocab) + len(special):
                idf_weights = list(idf_weights)[len(special) :]
        if len(set(vocab)) != len(vocab):
            raise ValueError(f"Layer {self.name!r}: the vocabulary has repeated entries")
        if self.output_mode == "tf_idf":
            if idf_weights is None or len(idf_weights) != len(vocab):
                raise ValueError(
                    f"Layer {self.name!r}: output_mode='tf_idf' needs one idf weight per "
                    f"vocabulary entry ({len(vocab)}). Received: "
                    f"{None if idf_weights is None else len(idf_weights)}"
                )
            self.idf_weights = np.asarray(idf_weights, dtype=np.float64)
        self.vocabulary = vocab
        self._index = {v: i + len(special) for i, v in enumerate(vocab)}

    def get_vocabulary(self, include_special_tokens=True):
        vocab = list(self.vocabulary or [])
        return self._special() + vocab if include_special_tokens else vocab

    def vocabulary_size(self):
        return len(self.get_vocabulary())

    # --- calling ---
    def _width(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def call(self, inputs):
        if self.vocabulary is None:
            raise ValueError(f"Layer {self.name!r}: set a vocabulary or call adapt(data) first")
        oov = 1 if self.output_mode == "int" else 0
        ids = [[self._index.get(t, oov) for t in self._tokens(text)] for text in _texts(inputs)]
        if self.output_mode == "int":
            length = self.output_sequence_length
            if length is None:
                length = max((len(row) for row in ids), default=0)
            out = np.zeros((len(ids), length), dtype=np.int64)
            for i, row in enumerate(ids):
                row = row[:length]
                out[i, : len(row)] = row
            return Tensor.wrap(out)
        out = np.zeros((len(ids), self._width()), dtype=self.dtype)
        for i, row in enumerate(ids):
            for j in row:
                if self.output_mode == "multi_hot":
                    out[i, j] = 1
                else:
                    out[i, j] += 1
        if self.output_mode == "tf_idf":
            idf = np.zeros(self._width())
            idf[1 : 1 + len(self.idf_weights)] = self.idf_weights
            idf[0] = self.idf_weights.mean() if len(self.idf_weights) else 0.0
            out = (out * idf).astype(self.dtype)
        return Tensor.wrap(out)

    def compute_output_shape(self, input_shape):
        batch = tuple(input_shape)[0] if len(tuple(input_shape)) else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        return (batch, self._width() if self.vocabulary is not None else self.max_tokens)

    def compute_output_dtype(self, input_dtype):
        return "int64" if self.output_mode == "int" else self.dtype

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": None if callable(self.standardize) else self.standardize,
            "split": None if callable(self.split) else self.split,
            "ngrams": None if self.ngrams is None else list(self.ngrams),
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": None if self.vocabulary is None else list(self.vocabulary),
            "idf_weights": None if self.idf_weights is None else self.idf_weights.tolist(),
            "encoding": self.encoding,
        }
