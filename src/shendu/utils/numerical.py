"""Array helpers with Keras names: to_categorical, normalize, pad_sequences."""

from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels: shape (..., ) -> (..., num_classes)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(x == np.round(x)):
            raise ValueError("to_categorical: expected integer class labels. Received floats")
        x = x.astype(np.int64)
    if x.dtype.kind not in "iu":
        raise TypeError(f"to_categorical: expected integer labels. Received: dtype={x.dtype}")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}). "
            f"Received: labels in [{x.min()}, {x.max()}]"
        )
    return (x[..., None] == np.arange(num_classes)).astype(dtype)


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero), as in
    Keras: a NumPy array gives an array; anything else (a tensor, a symbolic tensor, a
    list) is ``ops.normalize``, differentiable, so gradients flow through it."""
    if not isinstance(x, np.ndarray):
        from ..ops import nn

        return nn.normalize(x, axis=axis, order=order)
    x = x.astype(np.float64) if x.dtype.kind != "f" else x
    n = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(n == 0, 1, n)


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pad (or truncate) a list of sequences to one length, as in Keras."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(
            "pad_sequences: `padding` and `truncating` must be 'pre' or 'post'. "
            f"Received: padding={padding!r}, truncating={truncating!r}"
        )
    seqs = [list(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), maxlen), value, dtype=dtype)
    for i, s in enumerate(seqs):
        if not s:
            continue
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, : len(s)] = s
        else:
            out[i, maxlen - len(s) :] = s
    return out
