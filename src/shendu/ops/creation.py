"""Tensor creation in the default float dtype (not differentiable)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor


def _dtype(dtype):
    return np.dtype(dtype or backend.floatx())


def zeros(shape, dtype=None):
    return Tensor._wrap(np.zeros(shape, dtype=_dtype(dtype)))


def ones(shape, dtype=None):
    return Tensor._wrap(np.ones(shape, dtype=_dtype(dtype)))


def full(shape, fill_value, dtype=None):
    return Tensor._wrap(np.full(shape, fill_value, dtype=_dtype(dtype)))


def zeros_like(x, dtype=None):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._wrap(backend.array_module(a).zeros_like(a, dtype=dtype))


def ones_like(x, dtype=None):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._wrap(backend.array_module(a).ones_like(a, dtype=dtype))


def arange(start, stop=None, step=1, dtype=None):
    return Tensor._wrap(np.arange(start, stop, step, dtype=dtype))


def convert_to_tensor(x, dtype=None):
    """``x`` as a Tensor (Python floats take the default float dtype)."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.astype(dtype)
    return Tensor(x, dtype=dtype)
