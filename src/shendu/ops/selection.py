"""Data movement under ``keras.ops`` names: flips, rotations, triangles, diagonals, splits,
stacks, products of vectors.

The ops that only move (or zero) elements are one node, ``IndexMap``: applying the NumPy
function to the positions 1..n of the input tells which input element lands where (0: an
element the function made, a zero). Forward is one gather, y = x.flat[index]; backward is
its adjoint, a scatter-add of gy into dx (``bincount``), so every such function has an exact
gradient of every order without a rule of its own.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import as_tensor, normalize_axis
from .dtypes import promote_products
from .shape import concatenate, expand_dims, getitem, moveaxis, reshape, split, stack


class IndexMap(Function):
    """y = x.flat[index] (0 where index is -1).  dx = the scatter-add of gy at index."""

    def __init__(self, index, x_shape):
        self.index, self.x_shape = index, tuple(x_shape)

    def forward(self, x):
        xp = backend.array_module(x)
        index = self.index if xp is np else xp.asarray(self.index)
        flat = x.reshape(-1)
        holes = index < 0
        y = flat[xp.where(holes, 0, index)] if flat.size else xp.zeros(index.shape, x.dtype)
        if holes.any():
            y = xp.where(holes, xp.zeros((), x.dtype), y)
        return y

    def backward(self, gy):
        return _scatter(gy, self.index, self.x_shape)

    def backward_graph(self, gy):
        return IndexMapAdjoint(self.index, self.x_shape).apply(gy)


class IndexMapAdjoint(Function):
    """The adjoint of IndexMap: dx = scatter-add of g at index.  Its gradient is the gather."""

    def __init__(self, index, x_shape):
        self.index, self.x_shape = index, tuple(x_shape)

    def forward(self, g):
        return _scatter(g, self.index, self.x_shape)

    def backward(self, gy):
        return IndexMap(self.index, self.x_shape).forward(gy)

    def backward_graph(self, gy):
        return IndexMap(self.index, self.x_shape).apply(gy)


def _scatter(g, index, shape):
    xp = backend.array_module(g)
    index = index if xp is np else xp.asarray(index)
    valid = index >= 0
    size = int(np.prod(shape, dtype=np.int64))
    if g.dtype.kind == "c":
        out = xp.zeros(size, g.dtype)
        xp.add.at(out, index[valid], g[valid])
        return out.reshape(shape)
    out = xp.bincount(index[valid].reshape(-1), weights=g[valid].reshape(-1), minlength=size)
    return out.astype(g.dtype).reshape(shape)


def index_map(x, fn):
    """The result of ``fn`` (a NumPy function that only moves or zeroes elements) applied
    to ``x``, as one differentiable IndexMap node."""
    x = as_tensor(x)
    positions = np.arange(1, x.size + 1, dtype=np.int64).reshape(x.shape)
    index = np.asarray(fn(positions), dtype=np.int64) - 1
    return IndexMap(index, x.shape).apply(x)


# ---------------------------------------------------------------------- moving elements


def fliplr(x):
    """Reverse the second axis (columns)."""
    return index_map(x, np.fliplr)


def flipud(x):
    """Reverse the first axis (rows)."""
    return index_map(x, np.flipud)


def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    return index_map(array, lambda p: np.rot90(p, k, axes))


def tril(x, k=0):
    """The lower triangle (of the last two axes) at and below diagonal ``k``; zeros above."""
    return index_map(x, lambda p: np.tril(p, k))


def triu(x, k=0):
    """The upper triangle (of the last two axes) at and above diagonal ``k``; zeros below."""
    return index_map(x, lambda p: np.triu(p, k))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal ``offset`` of the plane ``axis1``, ``axis2`` (moved to the last axis)."""
    return index_map(x, lambda p: np.diagonal(p, offset, axis1, axis2))


def diag(x, k=0):
    """A 1-D input: the square matrix with it on diagonal ``k``; a 2-D input: diagonal ``k``."""
    x = as_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag: expected a 1-D or 2-D input. Received: shape={x.shape}")
    return index_map(x, lambda p: np.diag(p, k))


def diagflat(x, k=0):
    """The flattened input on diagonal ``k`` of a square matrix."""
    return index_map(x, lambda p: np.diagflat(p, k))


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of diagonal ``offset`` of the plane ``axis1``, ``axis2``."""
    from .reduction import sum as sum_

    return sum_(diagonal(x, offset, axis1, axis2), axis=-1)


def ravel(x):
    return reshape(x, (-1,))


def view(x, dtype=None):
    """The same bytes seen as ``dtype`` (no gradient)."""
    a = as_tensor(x).data
    return Tensor.wrap(a if dtype is None else a.view(np.dtype(dtype)))


# ------------------------------------------------------------------- splitting, stacking


def array_split(x, indices_or_sections, axis=0):
    """Split into pieces; unlike ``split``, sections need not divide the axis evenly."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "array_split")[0]
    if isinstance(indices_or_sections, int):
        n, k = x.shape[axis], indices_or_sections
        if k <= 0:
            raise ValueError(f"array_split: the number of sections must be > 0. Received: {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        indices_or_sections = list(np.cumsum(sizes)[:-1])
    return split(x, list(indices_or_sections), axis)


def hsplit(x, indices_or_sections):
    x = as_tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=2)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "unstack")[0]
    n = x.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: `num` is {num} but axis {axis} has size {n}")
    index: list = [slice(None)] * x.ndim
    out = []
    for i in range(n):
        index[axis] = i
        out.append(getitem(x, tuple(index)))
    return out


def hstack(xs):
    xs = [as_tensor(x) for x in xs]
    return concatenate(xs, axis=0 if all(x.ndim == 1 for x in xs) else 1)


def vstack(xs):
    xs = [_atleast_2d(x) for x in xs]
    return concatenate(xs, axis=0)


def dstack(xs):
    return concatenate([_atleast_3d(x) for x in xs], axis=2)


def column_stack(xs):
    xs = [as_tensor(x) for x in xs]
    return concatenate([reshape(x, (-1, 1)) if x.ndim < 2 else x for x in xs], axis=1)


def _atleast_2d(x):
    x = as_tensor(x)
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def _atleast_3d(x):
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0], 1))
    if x.ndim == 2:
        return reshape(x, x.shape + (1,))
    return x


def append(x1, x2, axis=None):
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([as_tensor(x1), as_tensor(x2)], axis=axis)


# ------------------------------------------------------------------ products of vectors


def outer(x1, x2):
    """outer(a, b)[i, j] = a.flat[i] * b.flat[j]."""
    x1, x2 = promote_products(x1, x2)
    return expand_dims(ravel(x1), 1) * expand_dims(ravel(x2), 0)


def inner(x1, x2):
    """The sum over the last axes: inner(a, b) = sum_k a[..., k] b[..., k]."""
    from .linalg import tensordot

    a, b = (as_tensor(t) for t in promote_products(x1, x2))
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=[[a.ndim - 1], [b.ndim - 1]])


def vdot(x1, x2):
    """The dot product of the flattened inputs (conjugating the first)."""
    from .linalg import matmul

    return matmul(ravel(x1), ravel(x2))


def kron(x1, x2):
    """The Kronecker product: blocks a[i] * b, as a product of reshaped inputs."""
    a, b = (as_tensor(t) for t in promote_products(x1, x2))
    n = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (n - a.ndim) + a.shape)
    b = reshape(b, (1,) * (n - b.ndim) + b.shape)
    left, right = [], []
    for da, db in zip(a.shape, b.shape):
        left += [da, 1]
        right += [1, db]
    prod = reshape(a, left) * reshape(b, right)
    return reshape(prod, tuple(da * db for da, db in zip(a.shape, b.shape)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors, padded with a zero third component)
    along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(as_tensor(x1), axisa, -1), moveaxis(as_tensor(x2), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(
            "cross: the vectors must have 2 or 3 components. "
            f"Received: shapes {a.shape} and {b.shape}"
        )
    ax, ay = a[..., 0], a[..., 1]
    bx, by = b[..., 0], b[..., 1]
    az = a[..., 2] if a.shape[-1] == 3 else None
    bz = b[..., 2] if b.shape[-1] == 3 else None
    if az is None and bz is None:
        return ax * by - ay * bx
    az = az if az is not None else ax * 0
    bz = bz if bz is not None else bx * 0
    c = stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=-1)
    return moveaxis(c, -1, axisc)


__all__ = [
    "IndexMap",
    "append",
    "array_split",
    "column_stack",
    "cross",
    "diag",
    "diagflat",
    "diagonal",
    "dsplit",
    "dstack",
    "fliplr",
    "flipud",
    "hsplit",
    "hstack",
    "index_map",
    "inner",
    "kron",
    "outer",
    "ravel",
    "rot90",
    "trace",
    "tril",
    "triu",
    "unstack",
    "vdot",
    "view",
    "vsplit",
    "vstack",
]


from ._util import export_ops  # noqa: E402

export_ops(globals())
