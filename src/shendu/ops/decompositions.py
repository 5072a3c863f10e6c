"""Matrix functions of ``keras.ops.linalg``: inverses, determinants, solvers and
decompositions, batched over leading axes (the matrices are the last two).

Gradients (g is the gradient of the output, ^T transposes the last two axes):

- inv: Y = A^-1, dA = -Y^T g Y^T.
- det: y = det A, dA = g y A^-T; slogdet: d logabsdet / dA = A^-T.
- solve: X = A^-1 B, dB = A^-T g, dA = -dB X^T (the triangle of A for solve_triangular).
- cholesky (A = L L^T): dA = sym(L^-T Phi(L^T g) L^-1), Phi the lower triangle with half
  its diagonal, sym(M) = (M + M^T) / 2.
- eigh (A = V diag(w) V^T): dA = sym(V (diag(gw) + F o (V^T gV)) V^T), F_ij = 1 / (w_j -
  w_i) off the diagonal (distinct eigenvalues).
- svd without U, V (singular values s): dA = U diag(gs) V^T.
- qr (reduced, m >= n): dA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q,
  copyltu(M) = tril(M) + tril(M, -1)^T.

eig (complex results), lu_factor, lstsq, pinv, matrix_rank and svd with U and V are computed
but not differentiated.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import as_tensor, data_of


def _t(a):
    return np.swapaxes(a, -1, -2)


def _float(x):
    x = as_tensor(x)
    if x.dtype.kind in "iub":
        from .arithmetic import cast

        x = cast(x, backend.floatx())
    return x


def _check_square(x, name):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"{name}: expected square matrices in the last two axes. Received: shape={x.shape}"
        )


def _lin(fn, name):
    """Run a NumPy linalg function, turning LinAlgError into a ValueError naming the op."""
    try:
        return fn()
    except np.linalg.LinAlgError as err:
        raise ValueError(f"{name}: {err}") from None


class Inv(Function):
    """Y = A^-1.  dA = -Y^T g Y^T."""

    def forward(self, a):
        self.y = _lin(lambda: np.linalg.inv(a), "inv")
        return self.y

    def backward(self, g):
        yt = _t(self.y)
        return -(yt @ g @ yt)


class Det(Function):
    """y = det A.  dA = g y A^-T."""

    def forward(self, a):
        self.a = a
        self.y = np.linalg.det(a).astype(a.dtype)
        return self.y

    def backward(self, g):
        inv_t = _t(_lin(lambda: np.linalg.inv(self.a), "det"))
        return (g * self.y)[..., None, None] * inv_t


class SlogDet(Function):
    """(sign, log|det A|).  d log|det A| / dA = A^-T; the sign has no gradient."""

    def forward(self, a):
        self.a = a
        sign, logdet = np.linalg.slogdet(a)
        return sign.astype(a.dtype), logdet.astype(a.dtype)

    def backward(self, g_sign, g_logdet):
        if g_logdet is None:
            return np.zeros_like(self.a)
        inv_t = _t(_lin(lambda: np.linalg.inv(self.a), "slogdet"))
        return g_logdet[..., None, None] * inv_t


class Solve(Function):
    """X = A^-1 B.  dB = A^-T g, dA = -dB X^T (only the triangle for a triangular A).
    A B with one axis fewer than A is a batch of vectors."""

    def __init__(self, triangular=None):
        self.triangular = triangular  # None, "lower" or "upper"

    def _matrix(self, a):
        if self.triangular == "lower":
            return np.tril(a)
        if self.triangular == "upper":
            return np.triu(a)
        return a

    def forward(self, a, b):
        self.vector = b.ndim == a.ndim - 1
        self.a = self._matrix(a)
        rhs = b[..., None] if self.vector else b
        self.x = _lin(lambda: np.linalg.solve(self.a, rhs), "solve")
        return self.x[..., 0] if self.vector else self.x

    def backward(self, g):
        g = g[..., None] if self.vector else g
        gb = _lin(lambda: np.linalg.solve(_t(self.a), g), "solve")
        ga = self._matrix(-(gb @ _t(self.x)))
        return ga, (gb[..., 0] if self.vector else gb)


def _phi(m):
    """The lower triangle of ``m`` with its diagonal halved."""
    out = np.tril(m)
    idx = np.arange(m.shape[-1])
    out[..., idx, idx] *= 0.5
    return out


def _sym(m):
    return 0.5 * (m + _t(m))


class Cholesky(Function):
    """A = L L^T.  dA = sym(L^-T Phi(L^T g) L^-1)."""

    def forward(self, a):
        self.l = _lin(lambda: np.linalg.cholesky(a), "cholesky")
        return self.l

    def backward(self, g):
        lower = self.l
        p = _phi(_t(lower) @ np.tril(g))  # the upper triangle of L is constant zero
        eye = np.broadcast_to(np.eye(lower.shape[-1], dtype=lower.dtype), lower.shape)
        l_inv = np.linalg.solve(lower, eye)
        return _sym(_t(l_inv) @ p @ l_inv)


class Eigh(Function):
    """A = V diag(w) V^T.  dA = sym(V (diag(gw) + F o (V^T gV)) V^T), F_ij = 1/(w_j - w_i)."""

    def forward(self, a):
        w, v = _lin(lambda: np.linalg.eigh(a), "eigh")
        self.w, self.v = w.astype(a.dtype), v.astype(a.dtype)
        return self.w, self.v

    def backward(self, gw, gv):
        w, v = self.w, self.v
        inner = np.zeros(v.shape, v.dtype)
        if gv is not None:
            diff = w[..., None, :] - w[..., :, None]
            n = w.shape[-1]
            off = ~np.eye(n, dtype=bool)
            f = np.zeros_like(diff)
            f[..., off] = 1.0 / diff[..., off]
            inner = f * (_t(v) @ gv)
        if gw is not None:
            idx = np.arange(w.shape[-1])
            inner[..., idx, idx] += gw
        return _sym(v @ inner @ _t(v))


class SingularValues(Function):
    """s = the singular values of A.  dA = U diag(gs) V^T."""

    def forward(self, a):
        u, s, vt = _lin(lambda: np.linalg.svd(a, full_matrices=False), "svd")
        self.u, self.vt = u, vt
        return s.astype(a.dtype)

    def backward(self, gs):
        return (self.u * gs[..., None, :]) @ self.vt


class QR(Function):
    """A = Q R (reduced, m >= n).  dA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""

    def forward(self, a):
        q, r = np.linalg.qr(a, mode="reduced")
        self.q, self.r = q.astype(a.dtype), r.astype(a.dtype)
        return self.q, self.r

    def backward(self, gq, gr):
        q, r = self.q, self.r
        gq = np.zeros_like(q) if gq is None else gq
        gr = np.zeros_like(r) if gr is None else gr
        m = r @ _t(gr) - _t(gq) @ q
        copyltu = np.tril(m) + _t(np.tril(m, -1))
        rhs = gq + q @ copyltu
        return _t(_lin(lambda: np.linalg.solve(r, _t(rhs)), "qr"))


# ------------------------------------------------------------------------------ functions


def inv(x):
    x = _float(x)
    _check_square(x, "inv")
    return Inv().apply(x)


def det(x):
    x = _float(x)
    _check_square(x, "det")
    return Det().apply(x)


def slogdet(x):
    x = _float(x)
    _check_square(x, "slogdet")
    return SlogDet().apply(x)


def logdet(x):
    """log(det(x)); NaN where the determinant is not positive."""
    sign, logabs = slogdet(x)
    if np.all(sign.data > 0):
        return logabs
    from .arithmetic import where

    return where(sign.data > 0, logabs, np.nan)


def solve(a, b):
    a, b = _float(a), _float(b)
    _check_square(a, "solve")
    return Solve().apply(a, b)


def solve_triangular(a, b, lower=False):
    a, b = _float(a), _float(b)
    _check_square(a, "solve_triangular")
    return Solve("lower" if lower else "upper").apply(a, b)


def cholesky(x, upper=False):
    """The Cholesky factor L (A = L L^T), or its transpose with ``upper=True``."""
    x = _float(x)
    _check_square(x, "cholesky")
    lower = Cholesky().apply(x)
    if upper:
        from .shape import swapaxes

        return swapaxes(lower, -1, -2)
    return lower


def cholesky_inverse(x, upper=False):
    """(L L^T)^-1 from a Cholesky factor L (or U^T U with ``upper=True``)."""
    from .shape import swapaxes

    f = _float(x)
    ft = swapaxes(f, -1, -2)
    return inv(ft @ f if upper else f @ ft)


def eigh(x):
    x = _float(x)
    _check_square(x, "eigh")
    return Eigh().apply(x)


def eig(x):
    """Eigenvalues and eigenvectors of a general matrix (complex; no gradient)."""
    a = data_of(_float(x))
    w, v = _lin(lambda: np.linalg.eig(a), "eig")
    return Tensor.wrap(w), Tensor.wrap(v)


def svd(x, full_matrices=True, compute_uv=True):
    """(U, S, V^T), or the singular values alone (differentiable) without ``compute_uv``."""
    x = _float(x)
    if not compute_uv:
        return SingularValues().apply(x)
    a = data_of(x)
    u, s, vt = _lin(lambda: np.linalg.svd(a, full_matrices=full_matrices), "svd")
    return (
        Tensor.wrap(u.astype(a.dtype)),
        Tensor.wrap(s.astype(a.dtype)),
        Tensor.wrap(vt.astype(a.dtype)),
    )


def qr(x, mode="reduced"):
    """Q, R with A = Q R; differentiable in 'reduced' mode for m >= n."""
    x = _float(x)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete'. Received: {mode!r}")
    if mode == "reduced" and x.shape[-2] >= x.shape[-1]:
        return QR().apply(x)
    q, r = np.linalg.qr(data_of(x), mode=mode)
    return Tensor.wrap(q.astype(x.dtype)), Tensor.wrap(r.astype(x.dtype))


def pinv(x, rcond=None):
    a = data_of(_float(x))
    rcond = 1e-15 if rcond is None else rcond
    return Tensor.wrap(np.linalg.pinv(a, rcond=rcond).astype(a.dtype))


def lstsq(a, b, rcond=None):
    """The least-squares solution x of a x = b (NumPy's; no gradient)."""
    a_, b_ = data_of(_float(a)), data_of(_float(b))
    x = _lin(lambda: np.linalg.lstsq(a_, b_, rcond=rcond)[0], "lstsq")
    return Tensor.wrap(x.astype(a_.dtype))


def matrix_rank(x, tol=None):
    return Tensor.wrap(np.asarray(np.linalg.matrix_rank(data_of(_float(x)), tol), "int32"))


def lu_factor(x):
    """(LU, pivots) of partial-pivoting LU (SciPy's ``lu_factor`` layout: L below the
    diagonal with unit diagonal implied, U on and above it; row i was swapped with
    pivots[i]). No gradient."""
    a = np.array(data_of(_float(x)), copy=True)
    _check_square(as_tensor(a), "lu_factor")
    batch = a.shape[:-2]
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    pivots = np.zeros((flat.shape[0], n), np.int32)
    for m, lu in enumerate(flat):
        for k in range(n):
            p = k + int(np.argmax(np.abs(lu[k:, k])))
            pivots[m, k] = p
            if p != k:
                lu[[k, p]] = lu[[p, k]]
            if lu[k, k] != 0:
                lu[k + 1 :, k] /= lu[k, k]
                lu[k + 1 :, k + 1 :] -= np.outer(lu[k + 1 :, k], lu[k, k + 1 :])
    return Tensor.wrap(flat.reshape(a.shape)), Tensor.wrap(pivots.reshape(batch + (n,)))


def matrix_norm(x, ord="fro", axis=(-2, -1), keepdims=False):  # noqa: A002
    """Matrix norms over ``axis``: 'fro', 'nuc', 1, -1, inf, -inf, 2, -2."""
    from .arithmetic import abs as abs_
    from .arithmetic import sqrt, square
    from .reduction import max as max_
    from .reduction import min as min_
    from .reduction import sum as sum_
    from .shape import reshape, transpose

    x = _float(x)
    r, c = (a % x.ndim for a in axis)
    m = transpose(x, [i for i in range(x.ndim) if i not in (r, c)] + [r, c])
    if ord in ("fro", None):
        out = sqrt(sum_(square(m), axis=(-2, -1)))
    elif ord == "nuc":
        out = sum_(SingularValues().apply(m), axis=-1)
    elif ord in (2, -2):
        s = SingularValues().apply(m)
        out = max_(s, axis=-1) if ord == 2 else min_(s, axis=-1)
    elif ord in (1, -1):
        cols = sum_(abs_(m), axis=-2)
        out = max_(cols, axis=-1) if ord == 1 else min_(cols, axis=-1)
    elif ord in (np.inf, -np.inf):
        rows = sum_(abs_(m), axis=-1)
        out = max_(rows, axis=-1) if ord == np.inf else min_(rows, axis=-1)
    else:
        raise ValueError(f"norm: invalid matrix norm order {ord!r}")
    if keepdims:
        shape = [1 if i in (r, c) else d for i, d in enumerate(x.shape)]
        out = reshape(out, tuple(shape))
    return out


__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "logdet",
    "lstsq",
    "lu_factor",
    "matrix_norm",
    "matrix_rank",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]


from ._util import export_ops  # noqa: E402

export_ops(globals())
