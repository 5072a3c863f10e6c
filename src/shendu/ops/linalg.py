"""Linear algebra: matmul, dot, tensordot, einsum and the fused ``linear`` (x @ W + b)."""

from __future__ import annotations

import string

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..lazy import lazy_attributes
from ._fused import (
    FUSED_ACTIVATIONS,
    activation_op,
    check_fused_activation,
    through_activation,
)
from ._util import as_tensor, column_sums, shape_of, sum_to_shape
from .arithmetic import sum_to
from .dtypes import promote_products, promote_with
from .shape import broadcast_to, reshape, swapaxes, transpose


def _swap(a):
    return a.swapaxes(-1, -2)


def _promoted_out_shape(a_shape, b_shape):
    batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    return tuple(batch) + (a_shape[-2], b_shape[-1])


def _matmul_2d(a, b):
    """a @ b for a of any rank >= 2 and a matrix b, as one 2-D product: NumPy runs a stacked
    (n, t, k) @ (k, m) as n separate products, slower than the one (n*t, k) @ (k, m) product
    (docs/benchmarks.md, "stacked products")."""
    if a.ndim <= 2:
        return a @ b
    return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))


class MatMul(Function):
    """y = a @ b (batched, broadcasting leading dims).

    da = gy @ b^T, db = a^T @ gy (each summed back over broadcast batch dims).
    1-D operands are promoted to matrices and the promotion undone on the way out.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul: inputs must have rank >= 1. Received: shapes {a.shape} and {b.shape}"
            )
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ValueError(
                f"matmul: the inner dimensions do not match: {ka} (last axis of the first input) "
                f"vs {kb}. Received: shapes {a.shape} and {b.shape}"
            )
        self.a, self.b = a, b
        return _matmul_2d(a, b) if b.ndim == 2 else a @ b

    def _promoted(self, gy):
        a, b = self.a, self.b
        a = a[None, :] if a.ndim == 1 else a
        b = b[:, None] if b.ndim == 1 else b
        return a, b, gy.reshape(_promoted_out_shape(a.shape, b.shape))

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        a, b, g = self._promoted(gy)
        ga = gb = None
        if self.b.ndim == 2 and a.ndim > 2:  # a stack times one matrix: two 2-D products
            if n0:
                ga = _matmul_2d(g, _swap(b)).reshape(self.a.shape)
            if n1:
                gb = a.reshape(-1, a.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            return ga, gb
        if n0:
            ga = g @ _swap(b)
            ga = sum_to_shape(ga, a.shape).reshape(self.a.shape)
        if n1:
            gb = _swap(a) @ g
            gb = sum_to_shape(gb, b.shape).reshape(self.b.shape)
        return ga, gb

    def backward_graph(self, gy):
        a, b = self.inputs
        a_t, b_t = as_tensor(a), as_tensor(b)
        a2 = reshape(a_t, (1,) + a_t.shape) if a_t.ndim == 1 else a_t
        b2 = reshape(b_t, b_t.shape + (1,)) if b_t.ndim == 1 else b_t
        g = reshape(gy, _promoted_out_shape(a2.shape, b2.shape))
        ga = reshape(sum_to(matmul(g, swapaxes(b2, -1, -2)), a2.shape), a_t.shape)
        gb = reshape(sum_to(matmul(swapaxes(a2, -1, -2), g), b2.shape), b_t.shape)
        return ga, gb


def matmul(x1, x2):
    """Matrix product with NumPy's ``matmul`` semantics, in Keras's result dtype (int8
    operands multiply in int32)."""
    if not (isinstance(x1, Tensor) and isinstance(x2, Tensor) and x1.dtype == x2.dtype):
        x1, x2 = promote_products(x1, x2)
    elif x1.data.dtype == np.int8:
        x1, x2 = promote_products(x1, x2)
    a, b = x1, x2
    return MatMul().apply(a, b)


def dot(x1, x2):
    """``np.dot``: inner product for vectors, matmul for matrices, last-by-second-last above."""
    a, b = (as_tensor(t) for t in promote_products(x1, x2))
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def tensordot(x1, x2, axes=2):
    """Sum products over the given axes (``np.tensordot``), built from transpose and matmul."""
    a, b = (as_tensor(t) for t in promote_products(x1, x2))
    if isinstance(axes, int):
        axes_a = list(range(a.ndim - axes, a.ndim))
        axes_b = list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, int) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, int) else list(axes_b)
    axes_a = [ax % a.ndim for ax in axes_a]
    axes_b = [ax % b.ndim for ax in axes_b]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: contracted axes differ in size: axis {i} of {a.shape} vs "
                f"axis {j} of {b.shape}"
            )
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [j for j in range(b.ndim) if j not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a])) if axes_a else 1
    a2 = reshape(transpose(a, free_a + axes_a), (-1, k))
    b2 = reshape(transpose(b, axes_b + free_b), (k, -1))
    out_shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b)
    return reshape(matmul(a2, b2), out_shape)


def _parse_einsum(subscripts, shapes):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
    else:
        lhs, out = subscripts, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands. "
            f"Received: {subscripts!r}"
        )
    used = set(subscripts) - set(",->.")
    free = [c for c in string.ascii_letters if c not in used]
    ell_dims = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            ell_dims = max(ell_dims, len(s) - (len(t) - 3))
    ell = "".join(free[:ell_dims])
    expanded = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_dims - n :])
        if len(t) != len(s):
            raise ValueError(f"einsum: subscript {t!r} does not match an operand of shape {s}")
        if len(set(t)) != len(t):
            raise ValueError(f"einsum: repeated indices in one operand are not supported: {t!r}")
        expanded.append(t)
    if out is None:
        counts: dict = {}
        for t in expanded:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


class Einsum(Function):
    """y = einsum(subscripts, *xs).

    d x_i = einsum(out, x_j (j != i) -> subscript of x_i), broadcast over the
    indices that only x_i carries.
    """

    def __init__(self, terms, out):
        self.terms, self.out = terms, out

    def forward(self, *xs):
        xp = backend.array_module(*xs)
        self.xs = xs
        spec = ",".join(self.terms) + "->" + self.out
        return xp.einsum(spec, *xs, optimize=len(xs) > 2)

    def _grad_spec(self, i):
        others = [t for j, t in enumerate(self.terms) if j != i]
        avail = set(self.out).union(*others) if others else set(self.out)
        target = "".join(c for c in self.terms[i] if c in avail)
        return ",".join([self.out] + others) + "->" + target, target

    def _expand(self, g, target, i, shape, bcast):
        if target == self.terms[i]:
            return g
        # insert the missing axes as size 1 and broadcast
        full = []
        k = 0
        for c in self.terms[i]:
            if c in target:
                full.append(g.shape[k])
                k += 1
            else:
                full.append(1)
        return bcast(
            reshape(g, tuple(full)) if not hasattr(g, "flags") else g.reshape(full), shape
        )

    def backward(self, gy):
        xp = backend.array_module(gy)
        grads: list = []
        for i, x in enumerate(self.xs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            spec, target = self._grad_spec(i)
            others = [v for j, v in enumerate(self.xs) if j != i]
            g = xp.einsum(spec, gy, *others)
            grads.append(self._expand(g, target, i, x.shape, xp.broadcast_to))
        return tuple(grads)

    def backward_graph(self, gy):
        grads: list = []
        for i, x in enumerate(self.inputs):
            spec, target = self._grad_spec(i)
            others = [v for j, v in enumerate(self.inputs) if j != i]
            g = einsum(spec, gy, *others)
            grads.append(self._expand(g, target, i, shape_of(x), broadcast_to))
        return tuple(grads)


def einsum(subscripts, *operands):
    """Einstein summation over any number of operands (no repeated index within one operand)."""
    ts = [as_tensor(o) for o in promote_products(*operands)]
    terms, out = _parse_einsum(subscripts, [t.shape for t in ts])
    sizes: dict = {}
    for t, x in zip(terms, ts):
        for c, n in zip(t, x.shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise ValueError(
                    f"einsum: index {c!r} has sizes {sizes[c]} and {n}. "
                    f"Received: shapes {[x.shape for x in ts]}"
                )
    return Einsum(terms, out).apply(*ts)


def _grad_view(t, dtype):
    """The gradient buffer of a leaf that has no gradient yet (``Tensor.grad_buffer``),
    else None."""
    view = getattr(t, "grad_buffer", None)
    if view is None or t.grad is not None or view.dtype != dtype:
        return None
    return view


class Linear(Function):
    """y = act(x @ W + b) in one node (act: none, relu, tanh or sigmoid).

    With g = gy * act'(y): dx = g @ W^T, dW = x^T @ g (over all leading axes),
    db = sum of g over all but the last axis.
    """

    def __init__(self, activation=None):
        self.activation = activation

    def forward(self, x, w, b=None):
        if x.shape[-1] != w.shape[0]:
            raise ValueError(
                f"linear: the last axis of the input ({x.shape[-1]}) must match the kernel's "
                f"first axis ({w.shape[0]}). Received: x shape={x.shape}, kernel shape={w.shape}"
            )
        self.x, self.w = x, w
        y = _matmul_2d(x, w)
        if b is not None:
            y += b
        if self.activation is not None:
            y = FUSED_ACTIVATIONS[self.activation][0](backend.array_module(y), y)
            self.y = y
        return y

    def backward(self, gy):
        if self.activation is not None:
            gy = through_activation(self.activation, gy, self.y)
        nx, nw = self.needs_input_grad[:2]
        nb = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        x, w = self.x, self.w
        gx = _matmul_2d(gy, w.T) if nx else None
        gw = gb = None
        if nw or nb:
            g2 = gy.reshape(-1, gy.shape[-1])
            if nw:
                # write straight into the flat gradient buffer when the kernel has one
                gw = (
                    x.reshape(-1, x.shape[-1]).T @ g2
                    if (out := _grad_view(self.inputs[1], x.dtype)) is None
                    else backend.array_module(x).matmul(x.reshape(-1, x.shape[-1]).T, g2, out=out)
                )
            if nb:
                out = _grad_view(self.inputs[2], g2.dtype)
                gb = column_sums(backend.array_module(g2), g2, out)
        return (gx, gw, gb) if len(self.needs_input_grad) > 2 else (gx, gw)

    def backward_graph(self, gy):
        from .reduction import sum as _sum

        x, w = self.inputs[:2]
        x, w = as_tensor(x), as_tensor(w)
        if self.activation is not None:  # the derivative through the activation, as ops
            z = linear(x, w, self.inputs[2] if len(self.inputs) > 2 else None)
            y = activation_op(self.activation)(z)
            if self.activation == "relu":
                gy = gy * (y.data > 0).astype(gy.dtype)
            elif self.activation == "tanh":
                gy = gy * (1 - y * y)
            else:
                gy = gy * y * (1 - y)
        gx = matmul(gy, transpose(w))
        g2 = reshape(gy, (-1, gy.shape[-1]))
        gw = matmul(transpose(reshape(x, (-1, x.shape[-1]))), g2)
        if len(self.inputs) > 2:
            return gx, gw, _sum(g2, axis=0)
        return gx, gw


def linear(x, kernel, bias=None, activation=None):
    """Fused affine map ``activation(x @ kernel + bias)`` in one graph node.

    ``activation``: None, "relu", "tanh" or "sigmoid" (a shendu addition: the activation
    is applied inside the node, saving a node and a pass over the output).
    """
    check_fused_activation(activation, "linear")
    x, kernel, bias = promote_with(x, kernel, bias)
    if bias is None:
        return Linear(activation).apply(x, kernel)
    return Linear(activation).apply(x, kernel, bias)


# ``keras.ops.linalg``: the grouped namespace also holds the decompositions and solvers,
# imported on first use.
from .reduction import norm  # noqa: E402

_LAZY = {
    "jvp": "core",
    **{
        name: "decompositions"
        for name in (
            "cholesky",
            "cholesky_inverse",
            "det",
            "eig",
            "eigh",
            "inv",
            "lstsq",
            "lu_factor",
            "matrix_rank",
            "pinv",
            "qr",
            "slogdet",
            "solve",
            "solve_triangular",
            "svd",
        )
    },
}


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __package__)


__all__ = [
    "dot",
    "einsum",
    "linear",
    "matmul",
    "norm",
    "tensordot",
] + list(_LAZY)


from ._util import export_ops  # noqa: E402

export_ops(globals())
