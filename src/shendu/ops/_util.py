"""Helpers shared by the ops: input coercion, undoing broadcasting, axis handling."""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from .. import backend, blas, parallel
from ..autograd.tensor import Tensor
from ..keras_tensor import symbolic_aware


def data_of(x):
    """The raw array (or Python scalar) behind ``x``."""
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x, dtype=None) -> Tensor:
    """``x`` as a Tensor (no copy when it already is one of the right dtype)."""
    if isinstance(x, Tensor):
        if dtype is not None and x.dtype != np.dtype(dtype):
            from .arithmetic import cast

            return cast(x, dtype)
        return x
    return Tensor(x, dtype=dtype)


def _constant_like(value, ref):
    """A non-Tensor operand next to a Tensor: scalars stay weak, arrays adopt a float dtype."""
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray):
        if isinstance(value, np.generic) and ref.dtype.kind == "f":
            return value.item()
        return value
    xp = backend.array_module(ref)
    arr = xp.asarray(value)
    if ref.dtype.kind == "f" and arr.dtype.kind in "fiub" and arr.dtype != ref.dtype:
        arr = arr.astype(ref.dtype)
    return arr


def coerce_pair(a, b):
    """Two operands of a binary op: at least one becomes a Tensor; constants keep float32."""
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta and tb:
        return a, b
    if ta:
        return a, _constant_like(b, a.data)
    if tb:
        return _constant_like(a, b.data), b
    a = Tensor(a)
    return a, _constant_like(b, a.data)


def sum_to_shape(g, shape):
    """Undo broadcasting: sum ``g`` over the axes that were broadcast to reach ``g.shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g


def column_sums(xp, g2, out=None):
    """The sums of the columns of a 2-D array, as ones @ g2: BLAS's matrix-vector product is
    faster than ``sum(axis=0)`` on tall arrays (bias gradients) and no less accurate
    (docs/benchmarks.md, "column sums"). Short arrays (under 1,024 rows) keep ``sum``: there
    the call overhead decides, and it is lower."""
    if g2.shape[0] < 1024:
        return g2.sum(axis=0) if out is None else g2.sum(axis=0, out=out)
    ones = xp.ones(g2.shape[0], dtype=g2.dtype)
    return xp.matmul(ones, g2) if out is None else xp.matmul(ones, g2, out=out)


# a.T @ b with few columns in a (a first layer's im2col columns: 3x3 kernel positions times
# one or three channels) and very many rows: OpenBLAS runs it slowly whole, and faster as a
# sum of products over row blocks of about this many bytes (docs/benchmarks.md, "transposed
# products"); with 48 or more columns, or one, the whole product was as fast or faster.
TRANSPOSED_PRODUCT_BLOCK_BYTES = 256 * 1024
TRANSPOSED_PRODUCT_MAX_COLUMNS = 32


def transposed_product(xp, a, b):
    """a^T @ b for 2-D a (K, M) and b (K, N), summed over row blocks when a is tall and
    narrow (2 <= M <= TRANSPOSED_PRODUCT_MAX_COLUMNS and at least 8 blocks): the sum of
    the blocks' products a_k^T @ b_k is the same product, in another summation order."""
    rows, m = a.shape
    block = TRANSPOSED_PRODUCT_BLOCK_BYTES // ((m + b.shape[1]) * a.itemsize)
    if xp is not np or not 2 <= m <= TRANSPOSED_PRODUCT_MAX_COLUMNS or rows < 8 * block:
        return a.T @ b
    out = a[:block].T @ b[:block]
    part = xp.empty_like(out)
    for start in range(block, rows, block):
        xp.matmul(a[start : start + block].T, b[start : start + block], out=part)
        out += part
    return out


def shape_tuple(value) -> tuple:
    """A shape argument as a tuple of ints (None kept): a tuple or list of ints or 0-d
    tensors, an int, or a 1-D integer tensor or array, as Keras's ops take it
    (``ops.tile(mask, ops.concatenate([batch, [1, 1]]))``)."""
    value = data_of(value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if value.dtype.kind not in "iu":
            raise TypeError(f"Expected a shape of integers. Received: dtype={value.dtype}")
        return tuple(int(v) for v in value.reshape(-1).tolist())
    if isinstance(value, (int, np.integer)):
        return (int(value),)
    return tuple(None if v is None else int(data_of(v)) for v in value)


def shape_of(x):
    return x.shape if hasattr(x, "shape") else ()


def normalize_axis(axis, ndim, op="op"):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, checked in one line
        return (axis % ndim,)
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{op}: `axis` must be an int or a tuple of ints. Received: axis={axis}"
            )
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"{op}: `axis` {a} is out of bounds for an input of rank {ndim}. "
                f"Received: axis={axis}"
            )
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis. Received: axis={axis}")
    return tuple(sorted(out))


def expand_reduced(g, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input of shape ``shape``."""
    if keepdims or not axes:
        return g
    kept = tuple(1 if i in axes else s for i, s in enumerate(shape))
    return g.reshape(kept)


def broadcast_error(op, a, b, err):
    return ValueError(
        f"{op}: the shapes of the inputs do not broadcast. "
        f"Received: shapes {shape_of(a)} and {shape_of(b)} ({err})"
    )


def split_elements(xp, fn, out, *inputs):
    """``fn(*inputs, out)`` for an elementwise ``fn`` (a ufunc, or a function of the same
    form), over slices of the flattened arrays side by side on ``shendu.parallel``'s threads
    when every array is a C-contiguous NumPy array of ``out``'s shape and there are at least
    ``parallel.MIN_PASS_ELEMENTS``; whole otherwise. Returns ``out``.
    """
    arrays = (out, *inputs)
    same = all(type(a) is np.ndarray and a.shape == out.shape for a in arrays)
    if xp is not np or not same or not all(a.flags.c_contiguous for a in arrays):
        fn(*inputs, out)
        return out
    flat = [a.reshape(-1) for a in inputs]
    flat_out = out.reshape(-1)
    split_batch(
        np,
        lambda a, e: fn(*(v[a:e] for v in flat), flat_out[a:e]),
        out.size,
        out.size,
        min_size=parallel.MIN_PASS_ELEMENTS,
    )
    return out


def split_batch(xp, fn, n, size, own_products=False, min_size=None):
    """Run ``fn(start, stop)`` over a batch of ``n`` samples, split over threads for NumPy
    work of ``size`` elements, at least ``min_size`` (``parallel.MIN_ELEMENTS`` by default;
    ``parallel.MIN_PASS_ELEMENTS`` for a single pass over memory); CuPy runs it whole (its
    kernels are already parallel).

    ``own_products``: each block does its own matrix products (attention's
    per-sample products), which then run on single-threaded BLAS so that the blocks, not the
    BLAS, use the cores.
    """
    least = parallel.MIN_ELEMENTS if min_size is None else min_size
    if xp is not np or n < 2 or size < least or parallel.active_threads() < 2:
        fn(0, n)  # whole, on this thread, with the BLAS's own threads
        return
    block = fn
    if own_products:

        def block(a, e):
            with blas.single_threaded():
                fn(a, e)

    parallel.for_chunks(block, n, size)


def export_ops(namespace: dict) -> None:
    """Make the public functions a module of ops defines record a functional-graph node
    when given KerasTensors (``keras_tensor.symbolic_aware``), as Keras's ops do; called
    at the end of each such module, so every name for a function (``ops.relu``,
    ``ops.nn.relu``, an import inside shendu) is the same object."""
    module = namespace["__name__"]
    for name, value in list(namespace.items()):
        if (
            not name.startswith("_")
            and inspect.isfunction(value)
            and value.__module__ == module
            and not hasattr(value, "__wrapped_op__")
        ):
            namespace[name] = symbolic_aware(value.__name__, value)
