"""Core ops under ``keras.ops`` names: control flow, scatter and slice updates, custom
gradients, conversions and introspection.

shendu runs define-by-run, so control flow is plain Python: ``cond`` calls one branch,
``while_loop`` loops, ``scan`` and ``map`` iterate over the leading axis and stack what they
produce. The graph records whatever ops ran, so gradients flow through the branch taken and
through every iteration, as they do through Keras's traced loops.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..lazy import lazy_attributes
from ._util import as_tensor, data_of


def _tree():
    from .. import tree

    return tree


# ---------------------------------------------------------------------------- control flow


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(np.asarray(data_of(pred))) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to the valid range."""
    i = int(np.clip(int(np.asarray(data_of(index))), 0, len(branches) - 1))
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (a single
    non-tuple loop variable is passed and returned as is)."""
    single = not isinstance(loop_vars, (list, tuple))
    state = (loop_vars,) if single else tuple(loop_vars)
    n = 0
    while bool(np.asarray(data_of(cond(*state)))):
        if maximum_iterations is not None and n >= maximum_iterations:
            break
        out = body(*state)
        state = (out,) if single else tuple(out)
        n += 1
    return state[0] if single else type(loop_vars)(state)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i in range(lower, upper)."""
    val = init_val
    for i in range(int(data_of(lower)), int(data_of(upper))):
        val = body_fun(i, val)
    return val


def _stack_structure(items):
    from .shape import stack

    tree = _tree()
    if not items:
        return None
    flat = [tree.flatten(it) for it in items]
    stacked = [stack([as_tensor(v) for v in column], axis=0) for column in zip(*flat)]
    return tree.pack_sequence_as(items[0], stacked)


def _slices(xs, length):
    tree = _tree()
    leaves = tree.flatten(xs)
    n = length if length is not None else (leaves[0].shape[0] if leaves else 0)
    for i in range(n):
        yield tree.pack_sequence_as(xs, [as_tensor(v)[i] for v in leaves])


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs`` (or ``length`` times with
    x None); returns (the last carry, the ys stacked). Differentiable through every step."""
    if xs is None and length is None:
        raise ValueError("scan: pass `xs` or `length`")
    steps = list(_slices(xs, length)) if xs is not None else [None] * length
    if reverse:
        steps = steps[::-1]
    carry, ys = init, []
    for x in steps:
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys = ys[::-1]
    return carry, _stack_structure(ys) if ys and ys[0] is not None else None


def map(f, xs):  # noqa: A001 - the Keras name
    """``f`` applied to each slice of ``xs`` along its leading axis; results stacked."""
    return _stack_structure([f(x) for x in _slices(xs, None)])


def vectorized_map(function, elements):
    """Like ``map`` (shendu loops in Python; the results are the same)."""
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with the associative ``f``: out[i] = f(out[i - 1], elems[i])."""
    from .shape import moveaxis, stack

    tree = _tree()
    leaves = [moveaxis(as_tensor(v), axis, 0) for v in tree.flatten(elems)]
    n = leaves[0].shape[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    outs, acc = {}, None
    for i in order:
        cur = tree.pack_sequence_as(elems, [v[i] for v in leaves])
        acc = cur if acc is None else (f(cur, acc) if reverse else f(acc, cur))
        outs[i] = tree.flatten(acc)
    columns = [stack([outs[i][k] for i in range(n)], axis=0) for k in range(len(leaves))]
    return tree.pack_sequence_as(elems, [moveaxis(c, 0, axis) for c in columns])


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` applied elementwise (NumPy's ``vectorize``); results are Tensors."""
    vec = np.vectorize(pyfunc, excluded=excluded or set(), signature=signature)

    def wrapped(*args, **kwargs):
        arrays = [data_of(a) if isinstance(a, Tensor) else a for a in args]
        out = vec(*arrays, **kwargs)
        if isinstance(out, tuple):
            return tuple(Tensor.wrap(np.asarray(o)) for o in out)
        return Tensor.wrap(np.asarray(out))

    return wrapped


# ------------------------------------------------------------------- scatter and slices


def scatter(indices, values, shape):
    """A zeros array of ``shape`` with ``values`` added at ``indices`` (each row of
    ``indices`` addresses leading axes); duplicates add. Differentiable in ``values``."""
    from .shape import scatter_add

    idx = np.asarray(data_of(indices)).astype(np.int64)
    values = as_tensor(values)
    key = tuple(idx[..., k] for k in range(idx.shape[-1]))
    return scatter_add(values, key, tuple(shape))


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with the entries at ``indices`` replaced by ``updates`` (rows of
    ``indices`` address leading axes), or combined with them by ``reduction`` ('add', 'mul',
    'max', 'min'). Replacing and 'add' are differentiable in both (replacing gives the
    gradient of ``inputs`` 0 at the replaced entries)."""
    from .arithmetic import where

    inputs, updates = as_tensor(inputs), as_tensor(updates)
    idx = np.asarray(data_of(indices)).astype(np.int64)
    key = tuple(idx[..., k] for k in range(idx.shape[-1]))
    if reduction == "add":
        return inputs + scatter(idx, updates, inputs.shape)
    if reduction in ("mul", "max", "min"):
        out = np.array(inputs.data, copy=True)
        ufunc = {"mul": np.multiply, "max": np.maximum, "min": np.minimum}[reduction]
        ufunc.at(out, key, updates.data)
        return Tensor.wrap(out)
    if reduction is not None:
        raise ValueError(
            "scatter_update: `reduction` must be None, 'add', 'mul', 'max' or 'min'. "
            f"Received: {reduction!r}"
        )
    mask = np.zeros(inputs.shape, bool)
    mask[key] = True
    placed = scatter(idx, updates, inputs.shape)
    return where(mask, placed, inputs)


def slice(inputs, start_indices, shape):  # noqa: A001 - the Keras name
    """``inputs[start : start + shape]`` along every axis."""
    from .shape import getitem

    starts = [int(s) for s in np.asarray(data_of(start_indices)).reshape(-1)]
    index = tuple(_slice(s, s + n) for s, n in zip(starts, shape))
    return getitem(as_tensor(inputs), index)


_slice = builtins.slice


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``;
    differentiable in both."""
    from .arithmetic import where
    from .shape import pad

    inputs, updates = as_tensor(inputs), as_tensor(updates)
    starts = [int(s) for s in np.asarray(data_of(start_indices)).reshape(-1)]
    widths = [(s, n - s - u) for s, n, u in zip(starts, inputs.shape, updates.shape)]
    if any(b < 0 for _, b in widths):
        raise ValueError(
            f"slice_update: updates of shape {updates.shape} at {starts} do not fit in "
            f"{inputs.shape}"
        )
    mask = np.zeros(inputs.shape, bool)
    mask[tuple(_slice(s, s + u) for s, u in zip(starts, updates.shape))] = True
    return where(mask, pad(updates, widths), inputs)


def get_item(x, key):
    from .shape import getitem

    return getitem(as_tensor(x), key)


def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, elementwise (``np.select``); differentiable
    in the choices."""
    from .arithmetic import where

    out = as_tensor(default) if isinstance(default, Tensor) else default
    for c, v in reversed(list(zip(condlist, choicelist))):
        out = where(data_of(c), v, out)
    return as_tensor(out)


# ---------------------------------------------------------------------- custom gradients


class _CustomGradient(Function):
    def __init__(self, y, grad_fn, n_inputs):
        self.y, self.grad_fn, self.n_inputs = y, grad_fn, n_inputs

    def forward(self, *xs):
        return self.y

    def backward(self, gy):
        grads = self.grad_fn(Tensor.wrap(gy))
        grads = grads if isinstance(grads, (list, tuple)) else (grads,)
        out = [None if g is None else data_of(g) for g in grads]
        return out[0] if self.n_inputs == 1 else tuple(out)


def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(y, grad_fn)``; the gradient of ``y`` with respect to
    the arguments is ``grad_fn(upstream)`` (the upstream gradient passed positionally, which
    serves both Keras forms, ``grad(upstream)`` and ``grad(*args, upstream=None)``), not the
    derivative of the ops in ``f``."""

    def wrapper(*args):
        from ..autograd import no_grad

        tensors = [as_tensor(a) for a in args]
        with no_grad():
            y, grad_fn = f(*tensors)
        return _CustomGradient(data_of(as_tensor(y)), grad_fn, len(tensors)).apply(*tensors)

    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper


def jvp(fun, primals, tangents, has_aux=False):
    """The Jacobian-vector product: (fun(*primals), J tangents). Computed from reverse mode
    by the double-VJP identity J t = d/du <J^T u, t> (the ops in ``fun`` need second-order
    gradients)."""
    from ..autograd import grad
    from ..autograd.mode import enable_grad

    primals = [as_tensor(p).detach().requires_grad_() for p in primals]
    tangents = [as_tensor(t) for t in tangents]
    with enable_grad():
        out = fun(*primals)
        aux = None
        if has_aux:
            out, aux = out
        u = Tensor(np.zeros(out.shape, out.dtype), requires_grad=True)
        vjps = grad([out], primals, grad_outputs=[u], create_graph=True, allow_unused=True)
        total = None
        for g, t in zip(vjps, tangents):
            if g is None:
                continue
            term = (g * t).sum()
            total = term if total is None else total + term
        tangent_out = (
            Tensor.wrap(np.zeros(out.shape, out.dtype))
            if total is None
            else grad([total], [u], allow_unused=True)[0]
        )
    if tangent_out is None:  # the output does not depend on the tangent's direction
        tangent_out = Tensor.wrap(np.zeros(out.shape, out.dtype))
    result = (out.detach(), tangent_out.detach())
    return result + (aux,) if has_aux else result


# --------------------------------------------------------------- conversions, introspection


def convert_to_numpy(x):
    return backend.to_numpy(data_of(x)) if isinstance(x, Tensor) else np.asarray(x)


def is_tensor(x):
    return isinstance(x, Tensor)


def shape(x):
    return tuple(as_tensor(x).shape) if not hasattr(x, "shape") else tuple(x.shape)


def ndim(x):
    return len(shape(x))


def size(x):
    return int(np.prod(shape(x), dtype=np.int64))


def dtype(x):
    """The dtype's name ('float32')."""
    d = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    return np.dtype(d).name


def saturate_cast(x, dtype):
    """Cast to ``dtype``, clipping values to its range first (no wrap-around)."""
    from .arithmetic import cast, clip

    target = np.dtype(dtype)
    x = as_tensor(x)
    if target.kind in "iu":
        info = np.iinfo(target)
        lo, hi = float(info.min), float(info.max)
        if x.dtype.kind == "f":
            lo = float(np.nextafter(np.float64(lo), np.inf)) if lo < -(2**53) else lo
            hi = float(np.nextafter(np.float64(hi), -np.inf)) if hi > 2**53 else hi
        x = clip(x, lo, hi)
    elif target.kind == "f" and x.dtype.kind == "f" and target.itemsize < x.dtype.itemsize:
        finfo = np.finfo(target)
        x = clip(x, float(finfo.min), float(finfo.max))
    return cast(x, target)


def polar(abs_, angle):
    """abs_ * exp(i angle) as a complex array (no gradient)."""
    r, a = np.asarray(data_of(as_tensor(abs_))), np.asarray(data_of(as_tensor(angle)))
    return Tensor.wrap(r * np.exp(1j * a))


def view_as_complex(x):
    a = np.asarray(data_of(as_tensor(x)))
    return Tensor.wrap(a[..., 0] + 1j * a[..., 1])


def view_as_real(x):
    a = np.asarray(data_of(as_tensor(x)))
    return Tensor.wrap(np.stack([a.real, a.imag], axis=-1))


__all__ = [
    "associative_scan",
    "cond",
    "convert_to_numpy",
    "custom_gradient",
    "dtype",
    "fori_loop",
    "get_item",
    "is_tensor",
    "jvp",
    "map",
    "ndim",
    "polar",
    "saturate_cast",
    "scan",
    "scatter",
    "scatter_update",
    "select",
    "shape",
    "size",
    "slice",
    "slice_update",
    "switch",
    "vectorize",
    "vectorized_map",
    "view_as_complex",
    "view_as_real",
    "while_loop",
]


def rearrange(tensor, pattern, **axes_lengths):
    """einops-style rearrangement: ``rearrange(x, "b (h w) c -> b h w c", h=4)``.

    Supports named axes, parenthesised groups on either side (split on the left, merged on
    the right) and reordering; each side names the same axes. Differentiable (a reshape, a
    transpose and a reshape)."""
    from .shape import reshape, transpose

    x = as_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: the pattern needs '->'. Received: {pattern!r}")
    left, right = (_parse_axes(side) for side in pattern.split("->"))
    if len(left) != x.ndim:
        raise ValueError(
            f"rearrange: the left side {pattern.split('->')[0].strip()!r} names {len(left)} "
            f"axes but the input has {x.ndim}"
        )
    sizes = dict(axes_lengths)
    for group, dim in zip(left, x.shape):
        unknown = [a for a in group if a not in sizes]
        known = int(np.prod([sizes[a] for a in group if a in sizes] or [1]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown} in {group}")
        if unknown:
            if dim % known:
                raise ValueError(f"rearrange: axis of size {dim} does not split into {group}")
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"rearrange: {group} multiply to {known}, not {dim}")
    flat_left = [a for g in left for a in g]
    flat_right = [a for g in right for a in g]
    if sorted(flat_left) != sorted(flat_right):
        raise ValueError(
            f"rearrange: both sides must name the same axes. Received: {flat_left} and "
            f"{flat_right}"
        )
    x = reshape(x, tuple(sizes[a] for a in flat_left))
    x = transpose(x, [flat_left.index(a) for a in flat_right])
    return reshape(x, tuple(int(np.prod([sizes[a] for a in g] or [1])) for g in right))


def _parse_axes(side):
    groups: list = []
    current: list = []
    depth = 0
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if depth:
                raise ValueError("rearrange: nested parentheses are not supported")
            depth, current = 1, []
        elif token == ")":
            if not depth:
                raise ValueError(f"rearrange: ')' without its '(' in {side!r}")
            groups.append(tuple(current))
            depth, current = 0, []
        elif depth:
            current.append(token)
        else:
            groups.append((token,))
    return groups


# ``keras.src.ops.core``: the grouped namespace also holds these.
from .arithmetic import cast, stop_gradient  # noqa: E402
from .creation import convert_to_tensor  # noqa: E402

__all__ += ["cast", "convert_to_tensor", "stop_gradient"]


# unstack: imported on first use, like the rest of the catalogue
__getattr__, __dir__ = lazy_attributes(globals(), {"unstack": "selection"}, __package__)


from ._util import export_ops  # noqa: E402

export_ops(globals())
