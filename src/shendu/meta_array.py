"""``MetaArray``: a shape and a dtype standing for an array, so that code written for NumPy
arrays runs without arithmetic and allocates nothing (the shape-and-dtype evaluation behind
the functional API's symbolic calls: what PyTorch's "meta" tensors and ``jax.eval_shape``
are to their libraries).

NumPy hands every ufunc and array function given a MetaArray to it (``__array_ufunc__``,
``__array_function__``). The common ones have a rule here, which finds the result's shape
from the operands' shapes (broadcasting, reductions, products, reshapes) and its dtype from
NumPy itself on one-element stand-ins, so the dtype is always NumPy's own. A function with
no rule runs on stand-ins of the full shape that hold one element (zero strides: no
allocation) and its result, if it is an array, becomes a MetaArray again: that costs the
result's allocation, and is counted in ``FALLBACKS`` so the rules can grow where it matters.

What has no shape-and-dtype answer raises ``MetaValueError``: a MetaArray's truth value, its
items, ``float()``; code that needs values (a branch on data) must run on real arrays.
``np.asarray(meta)`` gives zeros of the shape (a real array: what follows computes on it).
"""

from __future__ import annotations

import collections
import operator

import numpy as np

#: functions that ran on stand-ins because no rule knows them: {name: count}
FALLBACKS: collections.Counter = collections.Counter()


class MetaValueError(TypeError):
    """A MetaArray was asked for values (a truth value, an item, a number)."""


def is_meta(x) -> bool:
    return type(x) is MetaArray


def stand_in(x):
    """A MetaArray as an array of its shape and dtype holding one zero (zero strides:
    nothing allocated); anything else as it is."""
    if type(x) is MetaArray:
        return np.broadcast_to(np.zeros((), x.dtype), x.shape)
    return x


def _tiny(x):
    """A one-element array of ``x``'s dtype and rank (NumPy's dtype rules, applied to it,
    give the result's dtype for one element of arithmetic); anything else as it is."""
    if type(x) is MetaArray:
        return np.ones((1,) * len(x.shape), x.dtype)
    if isinstance(x, np.ndarray) and x.size > 1:
        return np.ones((1,) * x.ndim, x.dtype)
    return x


def _map(structure, fn):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(v, fn) for v in structure)
    if isinstance(structure, dict):
        return {k: _map(v, fn) for k, v in structure.items()}
    return fn(structure)


def _to_meta(x):
    if isinstance(x, np.ndarray):
        return MetaArray(x.shape, x.dtype)
    return x


def _fallback(name, fn, args, kwargs):
    """``fn`` on one-element stand-ins; array results as MetaArrays."""
    FALLBACKS[name] += 1
    out = fn(*_map(args, stand_in), **_map(kwargs, stand_in))
    return _map(out, _to_meta)


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim)
    return tuple(out)


def _reduced_shape(shape, axis, keepdims):
    axes = _normalize_axis(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _shape(x):
    return x.shape if hasattr(x, "shape") else np.shape(x)


def _matmul_shape(a, b):
    if len(a) == 0 or len(b) == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2 = a if len(a) > 1 else (1,) + a
    b2 = b if len(b) > 1 else b + (1,)
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0 "
            f"(size {b2[-2]} is different from {a2[-1]})"
        )
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _ufunc_call(ufunc, inputs, kwargs):
    if kwargs or (ufunc.signature is not None and ufunc is not np.matmul):
        return None
    shapes = [_shape(x) for x in inputs]
    if ufunc is np.matmul:
        shape = _matmul_shape(*shapes)
    else:
        shape = np.broadcast_shapes(*shapes)
    with np.errstate(all="ignore"):
        tiny = ufunc(*(_tiny(x) for x in inputs))
    if ufunc.nout == 1:
        return MetaArray(shape, tiny.dtype)
    return tuple(MetaArray(shape, t.dtype) for t in tiny)


def _ufunc_reduce(ufunc, inputs, kwargs):
    (x,) = inputs
    if set(kwargs) - {"axis", "dtype", "keepdims"} or type(x) is not MetaArray:
        return None
    axis, keepdims = kwargs.get("axis", 0), kwargs.get("keepdims", False)
    shape = _reduced_shape(x.shape, axis, keepdims)
    dtype = ufunc.reduce(_tiny(x), axis=axis, dtype=kwargs.get("dtype"), keepdims=keepdims).dtype
    return MetaArray(shape, dtype)


def _reduction(name):
    """A reduction method or function (``sum``, ``max``, ``argmax``, ...) by rule."""

    def reduce(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        if out is not None or kwargs:
            fn = getattr(np, name)
            extra = {"dtype": dtype} if dtype is not None else {}
            return _fallback(name, fn, (x,), dict(axis=axis, keepdims=keepdims, **extra, **kwargs))
        shape = _reduced_shape(x.shape, axis, keepdims)
        extra = {"dtype": dtype} if dtype is not None else {}
        tiny = getattr(np, name)(_tiny(x), axis=axis, keepdims=keepdims, **extra)
        return MetaArray(shape, np.asarray(tiny).dtype)

    return reduce


def _resolve_reshape(size, newshape):
    newshape = tuple(operator.index(s) for s in newshape)
    if newshape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in newshape:
        known = 1
        for s in newshape:
            if s != -1:
                known *= s
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
        newshape = tuple(size // known if s == -1 else s for s in newshape)
    total = 1
    for s in newshape:
        total *= s
    if total != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
    return newshape


def _reshape(x, *shape, order="C", **kwargs):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    if "newshape" in kwargs:
        shape = tuple(kwargs.pop("newshape"))
    if "shape" in kwargs:
        shape = kwargs.pop("shape")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return MetaArray(_resolve_reshape(x.size, shape), x.dtype)


def _transpose(x, *axes):
    given = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
    if not given:
        given = tuple(reversed(range(x.ndim)))
    axes = _normalize_axis(tuple(given), x.ndim)
    if len(axes) != x.ndim or len(set(axes)) != x.ndim:
        raise ValueError("axes don't match array")
    return MetaArray(tuple(x.shape[a] for a in axes), x.dtype)


def _astype(x, dtype, *args, **kwargs):
    return MetaArray(x.shape, np.dtype(dtype))


def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    if out is not None or not arrays:
        return None
    shapes = [_shape(a) for a in arrays]
    if axis is None:
        return MetaArray((sum(int(np.prod(s)) for s in shapes),), _concat_dtype(arrays, dtype))
    ndim = len(shapes[0])
    if ndim == 0 or any(len(s) != ndim for s in shapes):
        return None  # NumPy's own message
    (ax,) = _normalize_axis(axis, ndim)
    for s in shapes[1:]:
        if any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != ax):
            return None
    shape = list(shapes[0])
    shape[ax] = sum(s[ax] for s in shapes)
    return MetaArray(tuple(shape), _concat_dtype(arrays, dtype))


def _concat_dtype(arrays, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return np.concatenate([np.reshape(_tiny(a), (-1,))[:1] for a in arrays]).dtype


def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    if out is not None or not arrays:
        return None
    shapes = {tuple(_shape(a)) for a in arrays}
    if len(shapes) != 1:
        return None
    (shape,) = shapes
    (ax,) = _normalize_axis(axis, len(shape) + 1)
    out_shape = shape[:ax] + (len(arrays),) + shape[ax:]
    return MetaArray(out_shape, _concat_dtype(arrays, dtype))


def _where(condition, *xy):
    if len(xy) != 2:
        return None
    shape = np.broadcast_shapes(*(_shape(v) for v in (condition, *xy)))
    dtype = np.where(True, _tiny(xy[0]), _tiny(xy[1])).dtype
    return MetaArray(shape, dtype)


def _expand_dims(a, axis):
    axes = axis if isinstance(axis, tuple) else (axis,)
    ndim = a.ndim + len(axes)
    axes = _normalize_axis(tuple(axes), ndim)
    it = iter(a.shape)
    return MetaArray(tuple(1 if i in axes else next(it) for i in range(ndim)), a.dtype)


def _broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if np.broadcast_shapes(_shape(array), shape) != shape:
        raise ValueError(f"operands could not be broadcast to shape {shape}")
    return MetaArray(shape, array.dtype)


def _like(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
    out_shape = _shape(a) if shape is None else tuple(np.atleast_1d(shape))
    return MetaArray(out_shape, np.dtype(dtype) if dtype is not None else a.dtype)


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    return _like(a, dtype, shape=shape)


#: NumPy functions with a rule (the rest fall back); each returns None to fall back
_FUNCTIONS = {
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.expand_dims: _expand_dims,
    np.broadcast_to: _broadcast_to,
    np.zeros_like: _like,
    np.ones_like: _like,
    np.empty_like: _like,
    np.full_like: _full_like,
    np.sum: _reduction("sum"),
    np.mean: _reduction("mean"),
    np.max: _reduction("max"),
    np.min: _reduction("min"),
    np.amax: _reduction("max"),
    np.amin: _reduction("min"),
    np.prod: _reduction("prod"),
    np.any: _reduction("any"),
    np.all: _reduction("all"),
    np.var: _reduction("var"),
    np.std: _reduction("std"),
    np.argmax: _reduction("argmax"),
    np.argmin: _reduction("argmin"),
    np.matmul: lambda a, b, **kw: None if kw else _ufunc_call(np.matmul, (a, b), {}),
    np.result_type: lambda *xs: np.result_type(*(_tiny(x) for x in xs)),
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
}


class MetaArray:
    """An array's shape and dtype, without its values (see the module's docstring)."""

    __slots__ = ("shape", "dtype")
    __array_priority__ = 2000

    def __init__(self, shape, dtype):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    # --- what NumPy asks of an array ---
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def T(self):
        return _transpose(self)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self):
        return f"MetaArray(shape={self.shape}, dtype={self.dtype.name})"

    @property
    def strides(self):
        """A C-ordered array's strides (code that makes views from them gets zeros: see
        ``__array__``)."""
        out, step = [], self.dtype.itemsize
        for s in reversed(self.shape):
            out.append(step)
            step *= s
        return tuple(reversed(out))

    def __array__(self, dtype=None, copy=None):
        FALLBACKS["np.asarray (zeros)"] += 1
        return np.zeros(self.shape, dtype or self.dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = None
        if method == "__call__":
            out = _ufunc_call(ufunc, inputs, kwargs)
        elif method == "reduce":
            out = _ufunc_reduce(ufunc, inputs, kwargs)
        if out is not None:
            return out
        return _fallback(f"{ufunc.__name__}.{method}", getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        rule = _FUNCTIONS.get(func)
        if rule is not None:
            out = rule(*args, **kwargs)
            if out is not None:
                return out
        return _fallback(func.__name__, func, args, kwargs)

    # --- values: none to give ---
    def _no_values(self, *args, **kwargs):
        raise MetaValueError(
            f"A MetaArray (shape {self.shape}, dtype {self.dtype}) has no values: this code "
            "needs data, so it runs on real arrays"
        )

    __bool__ = __float__ = __int__ = __index__ = __complex__ = _no_values
    item = tolist = tobytes = __iter__ = _no_values

    # --- methods of ndarray ---
    reshape = _reshape
    transpose = _transpose
    astype = _astype
    sum = _reduction("sum")
    mean = _reduction("mean")
    max = _reduction("max")
    min = _reduction("min")
    prod = _reduction("prod")
    any = _reduction("any")
    all = _reduction("all")
    var = _reduction("var")
    std = _reduction("std")
    argmax = _reduction("argmax")
    argmin = _reduction("argmin")

    def copy(self, order="C"):
        return MetaArray(self.shape, self.dtype)

    def ravel(self, order="C"):
        return MetaArray((self.size,), self.dtype)

    flatten = ravel

    def squeeze(self, axis=None):
        return _fallback("squeeze", np.squeeze, (self,), {"axis": axis})

    def swapaxes(self, a, b):
        axes = list(range(self.ndim))
        a, b = _normalize_axis((a, b), self.ndim)
        axes[a], axes[b] = axes[b], axes[a]
        return _transpose(self, tuple(axes))

    def __getitem__(self, key):
        key = _map(key, stand_in) if isinstance(key, tuple) else stand_in(key)
        out = stand_in(self)[key]
        if isinstance(out, np.ndarray) and out.base is None:
            FALLBACKS["__getitem__ (advanced)"] += 1
        return MetaArray(np.shape(out), out.dtype)

    def __setitem__(self, key, value):
        target = stand_in(self)[_map(key, stand_in) if isinstance(key, tuple) else key]
        np.broadcast_shapes(_shape(value), np.shape(target))  # NumPy's check, nothing stored

    # --- operators: the ufuncs ---
    def __add__(self, other):
        return np.add(self, other)

    def __radd__(self, other):
        return np.add(other, self)

    def __sub__(self, other):
        return np.subtract(self, other)

    def __rsub__(self, other):
        return np.subtract(other, self)

    def __mul__(self, other):
        return np.multiply(self, other)

    def __rmul__(self, other):
        return np.multiply(other, self)

    def __truediv__(self, other):
        return np.true_divide(self, other)

    def __rtruediv__(self, other):
        return np.true_divide(other, self)

    def __floordiv__(self, other):
        return np.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return np.floor_divide(other, self)

    def __mod__(self, other):
        return np.remainder(self, other)

    def __pow__(self, other):  # ndarray's ``**`` squares for 2 (bool ** 2 is int8)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return MetaArray(self.shape, (_tiny(self) ** other).dtype)
        return np.power(self, other)

    def __rpow__(self, other):
        return np.power(other, self)

    def __matmul__(self, other):
        return np.matmul(self, other)

    def __rmatmul__(self, other):
        return np.matmul(other, self)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return np.absolute(self)

    def __invert__(self):
        return np.invert(self)

    def __and__(self, other):
        return np.bitwise_and(self, other)

    def __or__(self, other):
        return np.bitwise_or(self, other)

    def __xor__(self, other):
        return np.bitwise_xor(self, other)

    def __lt__(self, other):
        return np.less(self, other)

    def __le__(self, other):
        return np.less_equal(self, other)

    def __gt__(self, other):
        return np.greater(self, other)

    def __ge__(self, other):
        return np.greater_equal(self, other)

    def __eq__(self, other):
        return np.equal(self, other)

    def __ne__(self, other):
        return np.not_equal(self, other)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as ndarray

    def __iadd__(self, other):
        np.broadcast_shapes(self.shape, _shape(other))
        return self

    __isub__ = __imul__ = __itruediv__ = __ipow__ = __iadd__
