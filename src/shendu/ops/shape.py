"""Shape ops: reshape, transpose, indexing, joining, splitting, padding, tiling.

Most of their gradients are the inverse rearrangement. Indexing-like ops
(getitem, take, stack, pad, concatenate...) scatter the gradient back with
``ScatterAdd``, whose own gradient is the gather, so every shape op is twice
differentiable.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..meta_array import is_meta
from ._util import as_tensor, data_of, normalize_axis, shape_tuple, sum_to_shape
from .arithmetic import sum_to
from .dtypes import cumulative_dtype, promote


def _xp(a):
    return backend.array_module(a)


def _scatter_array(g, index, shape):
    xp = _xp(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        out[index] = g
    elif xp is np or hasattr(xp.add, "at"):
        xp.add.at(out, index, g)
    else:  # older CuPy: ufunc.at is missing, cupyx.scatter_add does the same
        import cupyx

        cupyx.scatter_add(out, index, g)
    return out


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items
    )


class ScatterAdd(Function):
    """y = zeros(shape); y[index] += g.  dg = gy[index]."""

    def __init__(self, index, shape):
        self.index, self.shape = index, tuple(shape)

    def forward(self, g):
        return _scatter_array(g, self.index, self.shape)

    def backward(self, gy):
        return gy[self.index]

    def backward_graph(self, gy):
        return getitem(gy, self.index)


def scatter_add(g, index, shape):
    return ScatterAdd(index, shape).apply(g)


class GetItem(Function):
    """y = x[index].  dx = zeros with gy added at ``index`` (duplicates accumulate)."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.x_shape = x.shape
        return x[self.index]

    def backward(self, gy):
        return _scatter_array(gy, self.index, self.x_shape)

    def backward_graph(self, gy):
        return scatter_add(gy, self.index, self.x_shape)


def _check_index(x, index):
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, list):
            i = np.asarray(i)
        if hasattr(i, "dtype") and not isinstance(i, np.generic):
            if i.dtype.kind not in "iub":
                raise TypeError(
                    "getitem: index arrays must be integer or boolean. "
                    f"Received: index dtype={i.dtype}"
                )
        elif isinstance(i, float):
            raise TypeError(f"getitem: indices must be integers, not float. Received: {i}")
        out.append(i)
    return tuple(out) if isinstance(index, tuple) else out[0]


def getitem(x, index):
    """``x[index]`` with ints, slices, None, Ellipsis, integer and boolean arrays."""
    x = as_tensor(x)
    index = _check_index(x, index)
    try:
        return GetItem(index).apply(x)
    except IndexError as err:
        raise IndexError(f"getitem: {err}. Received: shape={x.shape}, index={index!r}") from None


class Reshape(Function):
    """y = x viewed with a new shape.  dx = gy reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape an input of shape {x.shape} ({x.size} values) "
                f"to {self.shape}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.x_shape)

    def backward_graph(self, gy):
        return reshape(gy, self.x_shape)


def reshape(x, newshape):
    x = as_tensor(x)
    newshape = tuple(-1 if s is None else s for s in shape_tuple(newshape))
    if newshape == x.shape:
        return x
    return Reshape(newshape).apply(x)


class Transpose(Function):
    """y = x with axes permuted.  dx = gy with the inverse permutation."""

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def _inverse(self):
        return tuple(np.argsort(self.axes)) if self.axes is not None else None

    def backward(self, gy):
        return gy.transpose(self._inverse())

    def backward_graph(self, gy):
        return transpose(gy, self._inverse())


def transpose(x, axes=None):
    x = as_tensor(x)
    if axes is not None:
        axes = tuple(int(a) % max(x.ndim, 1) for a in axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(
                f"transpose: `axes` must be a permutation of range({x.ndim}). "
                f"Received: axes={axes}"
            )
    return Transpose(axes).apply(x)


def moveaxis(x, source, destination):
    x = as_tensor(x)
    src = normalize_axis(source, x.ndim, "moveaxis")
    src_list = [source] if isinstance(source, int) else list(source)
    dst_list = [destination] if isinstance(destination, int) else list(destination)
    if len(src_list) != len(dst_list):
        raise ValueError(
            "moveaxis: `source` and `destination` must have the same number of axes. "
            f"Received: source={source}, destination={destination}"
        )
    src_list = [a % x.ndim for a in src_list]
    dst_list = [a % x.ndim for a in dst_list]
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst_list, src_list)):
        order.insert(d, s)
    return transpose(x, order)


def swapaxes(x, axis1, axis2):
    x = as_tensor(x)
    perm = list(range(x.ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


def expand_dims(x, axis):
    x = as_tensor(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    out_ndim = x.ndim + len(axes)
    axes = sorted(a % out_ndim for a in axes)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None):
    x = as_tensor(x)
    if axis is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        axes = normalize_axis(axis, x.ndim, "squeeze")
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(
                    f"squeeze: cannot squeeze axis {a} of size {x.shape[a]}. "
                    f"Received: shape={x.shape}, axis={axis}"
                )
        shape = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    return reshape(x, shape)


class BroadcastTo(Function):
    """y = x broadcast to ``shape``.  dx = gy summed back to x's shape."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return _xp(x).broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}"
            ) from None

    def backward(self, gy):
        return sum_to_shape(gy, self.x_shape)

    def backward_graph(self, gy):
        return sum_to(gy, self.x_shape)


def broadcast_to(x, shape):
    x = as_tensor(x)
    shape = shape_tuple(shape)
    if x.shape == tuple(shape):
        return x
    return BroadcastTo(shape).apply(x)


class Concatenate(Function):
    """y = concatenation along ``axis``.  Each dx_i is its slice of gy."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        self.ndim = xs[0].ndim
        return _xp(xs[0]).concatenate(xs, axis=self.axis)

    def _slices(self):
        start = 0
        for n in self.sizes:
            idx = [slice(None)] * self.ndim
            idx[self.axis] = slice(start, start + n)
            start += n
            yield tuple(idx)

    def backward(self, gy):
        return tuple(gy[s] for s in self._slices())

    def backward_graph(self, gy):
        return tuple(getitem(gy, s) for s in self._slices())


def concatenate(xs, axis=0):
    xs = [as_tensor(x) for x in xs]
    if len({x.data.dtype for x in xs}) > 1:  # Keras's result dtype, not NumPy's
        xs = promote(*xs)
    if not xs:
        raise ValueError("concatenate: expected a non-empty list of tensors. Received: []")
    ndim = xs[0].ndim
    axis = normalize_axis(axis, ndim, "concatenate")[0]
    for x in xs:
        if x.ndim != ndim or any(
            a != b for i, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if i != axis
        ):
            raise ValueError(
                "concatenate: all inputs must have the same shape except along axis "
                f"{axis}. Received: shapes {[t.shape for t in xs]}"
            )
    return Concatenate(axis).apply(*xs)


def stack(x, axis=0):
    xs = [as_tensor(v) for v in x]
    if not xs:
        raise ValueError("stack: expected a non-empty list of tensors. Received: []")
    shapes = {x.shape for x in xs}
    if len(shapes) != 1:
        raise ValueError(
            f"stack: all inputs must have the same shape. Received: shapes {[x.shape for x in xs]}"
        )
    axis = axis % (xs[0].ndim + 1)
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


class Split(Function):
    """ys = pieces of x along ``axis``.  dx = the concatenation of the gys."""

    def __init__(self, indices, axis):
        self.indices, self.axis = indices, axis

    def forward(self, x):
        return tuple(_xp(x).split(x, self.indices, axis=self.axis))

    def backward(self, *gys):
        return _xp(gys[0]).concatenate(gys, axis=self.axis)

    def backward_graph(self, *gys):
        return concatenate(gys, axis=self.axis)


def split(x, indices_or_sections, axis=0):
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "split")[0]
    if isinstance(indices_or_sections, int) and x.shape[axis] % indices_or_sections:
        raise ValueError(
            f"split: axis {axis} of size {x.shape[axis]} does not divide into "
            f"{indices_or_sections} equal sections"
        )
    return list(Split(indices_or_sections, axis).apply(x))


def _index_along(ndim, axis, indices):
    idx = [slice(None)] * ndim
    idx[axis] = indices
    return tuple(idx)


def take(x, indices, axis=None):
    """Gather ``x`` at integer ``indices`` along ``axis`` (flattened when None)."""
    x = as_tensor(x)
    ind = data_of(indices)
    ind = np.asarray(ind) if not hasattr(ind, "dtype") else ind
    if ind.dtype.kind not in "iu":
        raise TypeError(f"take: `indices` must be integers. Received: dtype={ind.dtype}")
    if axis is None:
        return getitem(reshape(x, (-1,)), ind)
    axis = normalize_axis(axis, x.ndim, "take")[0]
    n = x.shape[axis]
    if ind.size and not is_meta(ind) and (ind.max() >= n or ind.min() < -n):
        raise IndexError(
            f"take: index out of range for axis {axis} of size {n}. "
            f"Received: indices in [{ind.min()}, {ind.max()}]"
        )
    return getitem(x, _index_along(x.ndim, axis, ind))


class EmbeddingLookup(Function):
    """y[..., :] = table[indices[...], :]: the rows of ``table`` at integer ``indices``.

    d table = zeros with each row of gy added at its index (a row looked up k times gets the
    sum of its k gradients); the indices get none. Out-of-range indices raise in forward.
    """

    def __init__(self, what):
        self.what = what

    def forward(self, table, indices):
        n = table.shape[0]
        if indices.dtype.kind not in "iu":
            raise TypeError(
                f"{self.what}: indices must be integers. Received: dtype={indices.dtype}"
            )
        if indices.size and not is_meta(indices) and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(
                f"{self.what}: indices must be in [0, {n}). "
                f"Received: indices in [{indices.min()}, {indices.max()}]"
            )
        self.indices, self.table_shape = indices, table.shape
        return _xp(table).take(table, indices, axis=0)

    def backward(self, gy):
        return _scatter_array(gy, (self.indices,), self.table_shape), None

    def backward_graph(self, gy):
        return scatter_add(gy, (self.indices,), self.table_shape), None


def embedding(table, indices, what="embedding"):
    """Rows of ``table`` (vocabulary, features) at integer ``indices`` of any shape: the
    result has shape indices.shape + (features,). ``what`` names the caller in errors."""
    ind = data_of(indices)
    ind = np.asarray(ind) if not hasattr(ind, "dtype") else ind
    return EmbeddingLookup(what).apply(as_tensor(table), ind)


def take_along_axis(x, indices, axis=None):
    """Gather values by index arrays that broadcast against ``x`` (``np.take_along_axis``)."""
    x = as_tensor(x)
    ind = data_of(indices)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: `indices` must be integers. Received: {ind.dtype}")
    if axis is None:
        return getitem(reshape(x, (-1,)), ind)
    axis = axis % x.ndim
    if ind.ndim != x.ndim:
        raise ValueError(
            "take_along_axis: `indices` must have the rank of `x`. "
            f"Received: x shape={x.shape}, indices shape={ind.shape}"
        )
    xp = _xp(ind)
    shape = np.broadcast_shapes(
        tuple(1 if i == axis else s for i, s in enumerate(x.shape)),
        tuple(1 if i == axis else s for i, s in enumerate(ind.shape)),
    )
    full = list(shape)
    full[axis] = ind.shape[axis]
    grids = []
    for d in range(x.ndim):
        if d == axis:
            grids.append(xp.broadcast_to(ind, full))
        else:
            r = [1] * x.ndim
            r[d] = full[d]
            grids.append(xp.broadcast_to(xp.arange(full[d]).reshape(r), full))
    x = broadcast_to(x, tuple(s if i == axis else full[i] for i, s in enumerate(x.shape)))
    return getitem(x, tuple(grids))


class Pad(Function):
    """y = x padded with a constant.  dx = the centre slice of gy."""

    def __init__(self, pad_width, value):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(self.pad_width, x.shape))
        return _xp(x).pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return gy[self.slices]

    def backward_graph(self, gy):
        return getitem(gy, self.slices)


def pad(x, pad_width, mode="constant", constant_values=None):
    x = as_tensor(x)
    constant_values = 0 if constant_values is None else constant_values
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported. Received: mode={mode!r}")
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (pw < 0).any():
        raise ValueError(f"pad: `pad_width` must be non-negative. Received: {pad_width}")
    return Pad(tuple(map(tuple, pw.tolist())), constant_values).apply(x)


class Flip(Function):
    """y = x reversed along ``axis``.  dx = gy reversed the same way."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return _xp(x).flip(x, self.axis)

    def backward(self, gy):
        return _xp(gy).flip(gy, self.axis)

    def backward_graph(self, gy):
        return flip(gy, self.axis)


def flip(x, axis=None):
    x = as_tensor(x)
    return Flip(normalize_axis(axis, x.ndim, "flip")).apply(x)


class Tile(Function):
    """y = x tiled ``reps`` times.  dx = the sum of gy over the copies."""

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        self.x_shape = x.shape
        return _xp(x).tile(x, self.reps)

    def _split_shape(self, gy_shape):
        reps = (1,) * (len(gy_shape) - len(self.reps)) + tuple(self.reps)
        xs = (1,) * (len(gy_shape) - len(self.x_shape)) + tuple(self.x_shape)
        inter = []
        for r, s in zip(reps, xs):
            inter += [r, s]
        return inter, tuple(range(0, 2 * len(gy_shape), 2))

    def backward(self, gy):
        inter, axes = self._split_shape(gy.shape)
        return gy.reshape(inter).sum(axis=axes).reshape(self.x_shape)

    def backward_graph(self, gy):
        from .reduction import sum as _sum

        inter, axes = self._split_shape(gy.shape)
        return reshape(_sum(reshape(gy, inter), axis=axes), self.x_shape)


def tile(x, repeats):
    x = as_tensor(x)
    reps = shape_tuple(repeats)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: `repeats` must be non-negative. Received: {repeats}")
    return Tile(reps).apply(x)


def repeat(x, repeats, axis=None):
    """Repeat elements (``np.repeat``); the gradient sums the copies back."""
    x = as_tensor(x)
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    axis = normalize_axis(axis, x.ndim, "repeat")[0]
    reps = data_of(repeats)
    if np.any(np.asarray(reps) < 0):
        raise ValueError(f"repeat: `repeats` must be non-negative. Received: {repeats}")
    index = np.repeat(np.arange(x.shape[axis]), reps)
    return getitem(x, _index_along(x.ndim, axis, index))


def roll(x, shift, axis=None):
    """Roll elements along ``axis``; the gradient rolls back."""
    x = as_tensor(x)
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, 0), x.shape)
    shifts = [shift] if isinstance(shift, int) else list(shift)
    axes = [axis] if isinstance(axis, int) else list(axis)
    index: list = [slice(None)] * x.ndim
    for s, a in zip(shifts, axes):
        n = x.shape[a]
        index[a] = (np.arange(n) - s) % n if n else np.arange(0)
    out = x
    for a in axes:
        idx = [slice(None)] * x.ndim
        idx[a] = index[a]
        out = getitem(out, tuple(idx))
    return out


class Cumsum(Function):
    """y_i = sum_{j<=i} x_j along ``axis``.  dx = the reversed cumulative sum of gy."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return _xp(x).cumsum(x, axis=self.axis, dtype=x.dtype)

    def backward(self, gy):
        xp = _xp(gy)
        return xp.flip(xp.cumsum(xp.flip(gy, self.axis), axis=self.axis), self.axis)

    def backward_graph(self, gy):
        return flip(cumsum(flip(gy, self.axis), axis=self.axis), self.axis)


def cumsum(x, axis=None, dtype=None):
    x = as_tensor(x)
    if dtype is None and x.data.dtype.kind != "f":
        dtype = cumulative_dtype(x.data.dtype)  # Keras: bool counts in int32
    if dtype is not None:
        from .arithmetic import cast

        x = cast(x, dtype)
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    return Cumsum(normalize_axis(axis, x.ndim, "cumsum")[0]).apply(x)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encode labels: ``out[..., c] = (x == c)`` (not differentiable; shendu has no
    sparse tensors). Float labels holding integers work as Keras's do; a label that is no
    class (negative, too large, or not a whole number) gives a row of zeros, as in Keras."""
    if sparse:
        raise ValueError("one_hot: shendu has no sparse tensors (sparse=True)")
    a = data_of(x)
    xp = _xp(a) if hasattr(a, "shape") else np
    a = xp.asarray(a)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"one_hot: expected integer labels. Received: dtype={a.dtype}")
    if not isinstance(num_classes, (int, np.integer)) or num_classes <= 0:
        raise ValueError(
            f"one_hot: `num_classes` must be a positive integer. Received: {num_classes}"
        )
    out = (a[..., None] == xp.arange(num_classes)).astype(dtype or backend.floatx())
    if axis != -1:
        out = xp.moveaxis(out, -1, axis)
    return Tensor.wrap(out)


from ._util import export_ops  # noqa: E402

export_ops(globals())
