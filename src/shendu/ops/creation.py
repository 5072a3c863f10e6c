"""Tensor creation in the default float dtype (not differentiable)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ._util import data_of, shape_tuple
from .dtypes import numeric_dtype, operand_dtype


def _dtype(dtype):
    return numeric_dtype(dtype or backend.floatx(), "a tensor creation op")


def zeros(shape, dtype=None):
    return Tensor.wrap(np.zeros(shape_tuple(shape), dtype=_dtype(dtype)))


def ones(shape, dtype=None):
    return Tensor.wrap(np.ones(shape_tuple(shape), dtype=_dtype(dtype)))


def full(shape, fill_value, dtype=None):
    return Tensor.wrap(np.full(shape_tuple(shape), data_of(fill_value), dtype=_dtype(dtype)))


def zeros_like(x, dtype=None):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor.wrap(backend.array_module(a).zeros_like(a, dtype=dtype))


def ones_like(x, dtype=None):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor.wrap(backend.array_module(a).ones_like(a, dtype=dtype))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values; without ``dtype``, int32 for integer bounds and floatx for
    float ones (Keras's dtypes, where NumPy gives int64 and float64)."""
    if dtype is None:
        bounds = [v for v in (start, stop, step) if v is not None]
        dtype = backend.result_type(*[operand_dtype(data_of(v), narrow=True) for v in bounds])
    return Tensor.wrap(np.arange(start, stop, 1 if step is None else step, dtype=dtype))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a Tensor (Python floats take the default float dtype). shendu has no sparse
    or ragged tensors: ``sparse=True`` and ``ragged=True`` are refused."""
    if sparse or ragged:
        raise ValueError("shendu has no sparse or ragged tensors (sparse=True, ragged=True)")
    if isinstance(x, Tensor):
        return x if dtype is None else x.astype(dtype)
    return Tensor(x, dtype=dtype)


def full_like(x, fill_value, dtype=None):
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor.wrap(backend.array_module(a).full_like(a, fill_value, dtype=dtype))


def empty(shape, dtype=None):
    """An array of ``shape``; shendu fills it with zeros (deterministic)."""
    return zeros(shape, dtype)


def empty_like(x, dtype=None):
    return zeros_like(x, dtype)


def array(x, dtype=None):
    """``x`` as a Tensor (``convert_to_tensor``)."""
    return convert_to_tensor(x, dtype)


def copy(x):
    """A copy of ``x``; differentiable (the gradient passes through)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x + 0 if x.dtype.kind in "fc" else Tensor.wrap(x.data.copy())


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (float by default)."""
    out = np.linspace(
        np.asarray(start, np.float64),
        np.asarray(stop, np.float64),
        num,
        endpoint=endpoint,
        retstep=retstep,
        axis=axis,
    )
    values, step = out if retstep else (out, None)
    values = Tensor.wrap(values.astype(_dtype(dtype)))
    return (values, step) if retstep else values


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return Tensor.wrap(
        np.logspace(start, stop, num, endpoint=endpoint, base=base, axis=axis).astype(
            _dtype(dtype)
        )
    )


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return Tensor.wrap(
        np.geomspace(start, stop, num, endpoint=endpoint, axis=axis).astype(_dtype(dtype))
    )


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - NumPy's names
    return Tensor.wrap(np.eye(N, M, k, dtype=_dtype(dtype)))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    """Ones at and below diagonal ``k``."""
    return Tensor.wrap(np.tri(N, M, k, dtype=_dtype(dtype)))


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D coordinates (``indexing`` 'xy' or 'ij'); not differentiable."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij'. Received: {indexing!r}")
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in x]
    return [Tensor.wrap(g) for g in np.meshgrid(*arrays, indexing=indexing)]


def vander(x, N=None, increasing=False):  # noqa: N803
    """The Vandermonde matrix: columns x**(N-1), ..., x, 1 (or increasing); differentiable."""
    from .arithmetic import power
    from .shape import expand_dims

    x = x if isinstance(x, Tensor) else Tensor(x)
    n = x.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return power(expand_dims(x, 1), powers.astype(x.dtype if x.dtype.kind == "f" else float))


def _window(np_fn):
    def fn(x, *args):
        return Tensor.wrap(np_fn(int(x), *args).astype(backend.floatx()))

    fn.__name__ = fn.__qualname__ = np_fn.__name__
    fn.__doc__ = f"The {np_fn.__name__} window of length ``x`` (float)."
    return fn


bartlett = _window(np.bartlett)
blackman = _window(np.blackman)
hamming = _window(np.hamming)
hanning = _window(np.hanning)


def kaiser(x, beta):
    return Tensor.wrap(np.kaiser(int(x), float(beta)).astype(backend.floatx()))


from ._util import export_ops  # noqa: E402

export_ops(globals())
