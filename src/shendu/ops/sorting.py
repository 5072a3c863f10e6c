"""Sorting, ranking, searching and counting under ``keras.ops`` names.

``sort`` and the values of ``top_k`` are differentiable: they gather the input at the
sorting permutation (``take_along_axis``), so the gradient goes back to the elements that
were moved. Indices, counts, bins and membership carry no gradient.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ._util import as_tensor, data_of
from .dtypes import index_dtype
from .shape import take_along_axis


def _array(x):
    return data_of(x) if isinstance(x, Tensor) else np.asarray(x)


def _indices(array):
    """Indices an op returns, as a Tensor of Keras's index dtype (int32)."""
    return Tensor.wrap(array.astype(index_dtype(), copy=False))


def argsort(x, axis=-1):
    """The indices that sort ``x`` along ``axis`` (stable; ``axis=None`` flattens)."""
    a = _array(x)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return _indices(backend.array_module(a).argsort(a, axis=axis, kind="stable"))


def sort(x, axis=-1):
    """``x`` sorted along ``axis``; differentiable (a gather at the sorting permutation)."""
    x = as_tensor(x)
    if axis is None:
        from .shape import reshape

        x, axis = reshape(x, (-1,)), 0
    if x.ndim == 0:
        return x
    return take_along_axis(x, argsort(x, axis), axis=axis)


def argpartition(x, kth, axis=-1):
    a = _array(x)
    return _indices(backend.array_module(a).argpartition(a, kth, axis=axis))


def top_k(x, k, sorted=True):  # noqa: A002 - the Keras name
    """The ``k`` largest entries along the last axis and their indices (ties: lower index
    first). Values are differentiable."""
    x = as_tensor(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(
            f"top_k: `k` must be in [0, {x.shape[-1]}] for the last axis. Received: k={k}"
        )
    a = x.data
    order = backend.array_module(a).argsort(-a, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, order, axis=-1), Tensor.wrap(order)


def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` highest predictions of its row (ties
    counted in the target's favour, as in Keras); a target outside the row's classes is
    not (False, as Keras's on its docstring's data, where class 5 of 5 is asked for)."""
    t = _array(targets).astype(np.int64).reshape(-1)
    p = _array(predictions)
    valid = (t >= 0) & (t < p.shape[-1])
    target_score = p[np.arange(len(t)), np.where(valid, t, 0)]
    better = (p > target_score[:, None]).sum(axis=-1)
    return Tensor.wrap((better < k) & valid)


def searchsorted(sorted_sequence, values, side="left"):
    s, v = _array(sorted_sequence), _array(values)
    if s.ndim != 1:
        raise ValueError(f"searchsorted: `sorted_sequence` must be 1-D. Received: shape={s.shape}")
    return _indices(backend.array_module(s).searchsorted(s, v, side=side))


def digitize(x, bins):
    """The index of the bin of each value (NumPy's rule: bins[i-1] <= x < bins[i])."""
    return _indices(np.digitize(_array(x), _array(bins)))


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer (weighted sums with ``weights``); a 2-D input
    counts each row, as in Keras."""
    a = _array(x).astype(np.int64)
    if a.size and a.min() < 0:
        raise ValueError(f"bincount: values must be non-negative. Received: min={a.min()}")
    w = None if weights is None else _array(weights)
    if a.ndim == 1:
        return Tensor.wrap(np.bincount(a, weights=w, minlength=minlength))
    if a.ndim != 2:
        raise ValueError(f"bincount: expected a 1-D or 2-D input. Received: shape={a.shape}")
    length = max(minlength, int(a.max()) + 1 if a.size else 0)
    rows = [
        np.bincount(r, weights=None if w is None else w[i], minlength=length)
        for i, r in enumerate(a)
    ]
    return Tensor.wrap(np.stack(rows))


def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,  # noqa: A002
    fill_value=None,
):
    """The distinct values (NumPy's ``unique``); with ``size``, padded with ``fill_value``
    (default: the smallest value) or cut to that length, as in Keras."""
    a = _array(x)
    out = np.unique(
        a,
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
    )
    parts = list(out) if isinstance(out, tuple) else [out]
    if size is not None:
        values = parts[0]
        fill = (values.min() if values.size else 0) if fill_value is None else fill_value
        if len(values) < size:
            pad = np.full((size - len(values),) + values.shape[1:], fill, values.dtype)
            values = np.concatenate([values, pad])
        parts[0] = values[:size]
        if return_counts:
            counts = parts[-1]
            parts[-1] = np.concatenate(
                [counts, np.zeros(max(size - len(counts), 0), counts.dtype)]
            )[:size]
    parts = [Tensor.wrap(np.asarray(p)) for p in parts]
    return parts[0] if len(parts) == 1 else tuple(parts)


def histogram(x, bins=10, range=None):  # noqa: A002 - the Keras name
    """(counts, bin edges) of the values of ``x``; counts are floats, as in Keras."""
    counts, edges = np.histogram(_array(x), bins=bins, range=range)
    return Tensor.wrap(counts.astype(backend.floatx())), Tensor.wrap(
        edges.astype(backend.floatx())
    )


def nonzero(x):
    """The indices of the non-zero elements, one array per axis."""
    return tuple(_indices(i) for i in np.nonzero(_array(x)))


def count_nonzero(x, axis=None):
    return Tensor.wrap(np.asarray(np.count_nonzero(_array(x), axis=axis)))


def unravel_index(indices, shape):
    return tuple(Tensor.wrap(i) for i in np.unravel_index(_array(indices), shape))


__all__ = [
    "argpartition",
    "argsort",
    "bincount",
    "count_nonzero",
    "digitize",
    "histogram",
    "in_top_k",
    "nonzero",
    "searchsorted",
    "sort",
    "top_k",
    "unique",
    "unravel_index",
]


from ._util import export_ops  # noqa: E402

export_ops(globals())
