"""The Keras 3 ops catalogue against NumPy references (several shapes, 0-size and
broadcasting cases), with float64 gradient checks for the differentiable ones."""

import numpy as np
import pytest

import shendu
from shendu import ops
from shendu.autograd.tensor import Tensor
from shendu.testing import gradcheck

RNG = np.random.default_rng(0)


def _r(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _pos(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def _unit(*shape):
    return RNG.uniform(-0.9, 0.9, size=shape)


# (name, shendu function, NumPy reference, input factories, differentiable)
UNARY = [
    ("arccos", ops.arccos, np.arccos, _unit, True),
    ("arcsin", ops.arcsin, np.arcsin, _unit, True),
    ("arccosh", ops.arccosh, np.arccosh, lambda *s: 1.5 + _pos(*s), True),
    ("arcsinh", ops.arcsinh, np.arcsinh, _r, True),
    ("arctanh", ops.arctanh, np.arctanh, _unit, True),
    ("tan", ops.tan, np.tan, _unit, True),
    ("cbrt", ops.cbrt, np.cbrt, _pos, True),
    ("exp2", ops.exp2, np.exp2, _r, True),
    ("log2", ops.log2, np.log2, _pos, True),
    ("log10", ops.log10, np.log10, _pos, True),
    ("reciprocal", ops.reciprocal, np.reciprocal, _pos, True),
    ("rsqrt", ops.rsqrt, lambda x: 1 / np.sqrt(x), _pos, True),
    ("sinc", ops.sinc, np.sinc, _r, True),
    ("deg2rad", ops.deg2rad, np.deg2rad, _r, True),
    ("rad2deg", ops.rad2deg, np.rad2deg, _r, True),
    ("fabs", ops.fabs, np.fabs, _r, True),
    ("real", ops.real, np.real, _r, True),
    ("imag", ops.imag, np.imag, _r, True),
    ("conj", ops.conj, np.conj, _r, True),
    ("floor", ops.floor, np.floor, _r, False),
    ("ceil", ops.ceil, np.ceil, _r, False),
    ("trunc", ops.trunc, np.trunc, _r, False),
    ("round", ops.round, np.round, _r, False),
    ("signbit", ops.signbit, np.signbit, _r, False),
    ("isinf", ops.isinf, np.isinf, _r, False),
    ("angle", ops.angle, np.angle, _r, False),
    ("i0", ops.i0, np.i0, _r, False),
]


@pytest.mark.parametrize("shape", [(3,), (2, 3), (0, 2)])
@pytest.mark.parametrize("case", UNARY, ids=[c[0] for c in UNARY])
def test_unary_against_numpy(case, shape):
    name, fn, ref, make, diff = case
    x = make(*shape)
    np.testing.assert_allclose(fn(x).numpy(), ref(x), rtol=1e-6, atol=1e-6)
    if diff and x.size:
        assert gradcheck(fn, (x,))


def test_erf_family_and_integer_inputs():
    import math

    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(ops.erfc(x).numpy(), [math.erfc(v) for v in x], atol=1e-7)
    y = np.linspace(-0.95, 0.95, 9)
    np.testing.assert_allclose(ops.erf(ops.erfinv(y)).numpy(), y, atol=1e-6)
    assert gradcheck(ops.erfinv, (y,))
    assert gradcheck(ops.erfc, (x,))
    assert ops.sin(np.arange(3)).dtype == np.float32  # integers computed in floatx
    assert ops.floor(np.arange(3)).dtype == np.float32


BINARY = [
    ("arctan2", ops.arctan2, np.arctan2, _r, _pos, True),
    ("hypot", ops.hypot, np.hypot, _pos, _pos, True),
    ("logaddexp", ops.logaddexp, np.logaddexp, _r, _r, True),
    ("logaddexp2", ops.logaddexp2, np.logaddexp2, _r, _r, True),
    ("fmod", ops.fmod, np.fmod, _r, _pos, True),
    ("mod", ops.mod, np.mod, _r, _pos, True),
    ("fmax", ops.fmax, np.fmax, _r, _r, True),
    ("fmin", ops.fmin, np.fmin, _r, _r, True),
    ("ldexp", ops.ldexp, lambda a, b: a * 2.0**b, _r, _r, True),
    ("floor_divide", ops.floor_divide, np.floor_divide, _r, _pos, False),
    ("heaviside", ops.heaviside, np.heaviside, _r, _r, False),
    ("nextafter", ops.nextafter, np.nextafter, _r, _r, False),
    ("logical_xor", ops.logical_xor, np.logical_xor, _r, _r, False),
]


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3))])
@pytest.mark.parametrize("case", BINARY, ids=[c[0] for c in BINARY])
def test_binary_against_numpy(case, shapes):
    name, fn, ref, make_a, make_b, diff = case
    a, b = make_a(*shapes[0]), make_b(*shapes[1])
    np.testing.assert_allclose(fn(a, b).numpy(), ref(a, b), rtol=1e-6, atol=1e-6)
    if diff:
        assert gradcheck(fn, (a, b))


def test_integer_and_bitwise_ops_keep_their_dtypes():
    a, b = np.array([12, 18, 7]), np.array([8, 12, 3])
    for name in (
        "gcd",
        "lcm",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "left_shift",
        "right_shift",
    ):
        ref = getattr(np, name)(a, b)
        out = getattr(ops, name)(a, b)
        np.testing.assert_array_equal(out.numpy(), ref)
        assert out.dtype == ref.dtype, name
    np.testing.assert_array_equal(ops.bitwise_invert(a).numpy(), np.invert(a))
    np.testing.assert_array_equal(ops.isin(a, [7, 8]).numpy(), [False, False, True])
    assert bool(ops.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9]))
    np.testing.assert_array_equal(ops.isclose([1.0, 2.0], [1.0, 2.1]).numpy(), [True, False])


def test_divide_no_nan_and_nan_to_num():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0, 4.0])
    np.testing.assert_allclose(ops.divide_no_nan(a, b).numpy(), [0.5, 0.0, 0.75])
    assert gradcheck(ops.divide_no_nan, (a, b + np.array([0.0, 1.0, 0.0])))
    ta, tb = shendu.tensor(a, requires_grad=True), shendu.tensor(b, requires_grad=True)
    ops.sum(ops.divide_no_nan(ta, tb)).backward()
    assert ta.grad.numpy()[1] == 0 and tb.grad.numpy()[1] == 0
    x = np.array([1.0, np.nan, np.inf, -np.inf])
    np.testing.assert_allclose(
        ops.nan_to_num(x, nan=0.0, posinf=9.0, neginf=-9.0).numpy(), [1.0, 0.0, 9.0, -9.0]
    )
    t = shendu.tensor(x, requires_grad=True)
    ops.sum(ops.nan_to_num(t)).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [1.0, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------------- data movement

MOVES = [
    ("fliplr", lambda x: ops.fliplr(x), np.fliplr, (3, 4)),
    ("flipud", lambda x: ops.flipud(x), np.flipud, (3, 4)),
    ("rot90", lambda x: ops.rot90(x, 3), lambda x: np.rot90(x, 3), (2, 3, 4)),
    ("tril", lambda x: ops.tril(x, -1), lambda x: np.tril(x, -1), (2, 4, 4)),
    ("triu", lambda x: ops.triu(x, 1), lambda x: np.triu(x, 1), (3, 5)),
    ("diagonal", lambda x: ops.diagonal(x, 1, 1, 2), lambda x: np.diagonal(x, 1, 1, 2), (2, 3, 4)),
    ("diag of vector", lambda x: ops.diag(x, 1), lambda x: np.diag(x, 1), (3,)),
    ("diag of matrix", lambda x: ops.diag(x), np.diag, (3, 4)),
    ("diagflat", lambda x: ops.diagflat(x), np.diagflat, (2, 2)),
    ("trace", lambda x: ops.trace(x), np.trace, (3, 4)),
    ("ravel", ops.ravel, np.ravel, (2, 3)),
    ("roll", lambda x: ops.roll(x, 2, 1), lambda x: np.roll(x, 2, 1), (2, 5)),
    ("repeat", lambda x: ops.repeat(x, 2, 0), lambda x: np.repeat(x, 2, 0), (2, 3)),
    ("tile", lambda x: ops.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1)), (2, 3)),
    ("append", lambda x: ops.append(x, x[:1], axis=0), lambda x: np.append(x, x[:1], 0), (2, 3)),
    ("hstack", lambda x: ops.hstack([x, x]), lambda x: np.hstack([x, x]), (2, 3)),
    ("vstack", lambda x: ops.vstack([x, x[0]]), lambda x: np.vstack([x, x[0]]), (2, 3)),
    ("dstack", lambda x: ops.dstack([x, x]), lambda x: np.dstack([x, x]), (2, 3)),
    ("outer", lambda x: ops.outer(x, x[::-1]), lambda x: np.outer(x, x[::-1]), (4,)),
    ("inner", lambda x: ops.inner(x, x + 1), lambda x: np.inner(x, x + 1), (2, 3)),
    ("vdot", lambda x: ops.vdot(x, x * 2), lambda x: np.vdot(x, x * 2), (2, 3)),
    ("kron", lambda x: ops.kron(x, x[:1]), lambda x: np.kron(x, x[:1]), (2, 3)),
    ("cross", lambda x: ops.cross(x, x[::-1]), lambda x: np.cross(x, x[::-1]), (4, 3)),
    ("diff", lambda x: ops.diff(x, 2, axis=1), lambda x: np.diff(x, 2, axis=1), (2, 5)),
    ("cumprod", lambda x: ops.cumprod(x, axis=1), lambda x: np.cumprod(x, axis=1), (2, 4)),
    ("sort", lambda x: ops.sort(x, axis=0), lambda x: np.sort(x, axis=0), (4, 3)),
    ("trapezoid", lambda x: ops.trapezoid(x), np.trapezoid, (2, 5)),
    ("vander", lambda x: ops.vander(x, 3), lambda x: np.vander(x, 3), (4,)),
]


@pytest.mark.parametrize("case", MOVES, ids=[c[0] for c in MOVES])
def test_movement_and_products_against_numpy(case):
    name, fn, ref, shape = case
    x = _r(*shape)
    np.testing.assert_allclose(fn(x).numpy(), ref(x), rtol=1e-6, atol=1e-7)
    assert gradcheck(fn, (x,))


def test_cumprod_gradient_with_zeros():
    x = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 1.5, 0.0, 2.0]])
    assert gradcheck(lambda t: ops.cumprod(t, axis=1), (x,))


def test_index_map_second_order():
    from shendu.testing import gradgradcheck

    x = _r(3, 3)
    assert gradgradcheck(lambda t: ops.sum(ops.triu(t) ** 3), (x,))


def test_splits_and_unstack():
    x = _r(7, 4)
    for got, want in zip(ops.array_split(x, 3), np.array_split(x, 3)):
        np.testing.assert_allclose(got.numpy(), want)
    for got, want in zip(ops.hsplit(x, 2), np.hsplit(x, 2)):
        np.testing.assert_allclose(got.numpy(), want)
    parts = ops.unstack(x, axis=1)
    assert len(parts) == 4 and parts[2].shape == (7,)
    assert gradcheck(lambda t: ops.stack(ops.unstack(t, axis=1)[::-1], axis=0), (x,))


# ----------------------------------------------------------------------- statistics


STATS = [
    ("median", lambda x: ops.median(x, axis=1), lambda x: np.median(x, axis=1)),
    (
        "quantile",
        lambda x: ops.quantile(x, [0.2, 0.7], axis=0),
        lambda x: np.quantile(x, [0.2, 0.7], axis=0),
    ),
    ("percentile", lambda x: ops.percentile(x, 30), lambda x: np.percentile(x, 30)),
    ("ptp", lambda x: ops.ptp(x, axis=0), lambda x: np.ptp(x, axis=0)),
    (
        "average",
        lambda x: ops.average(x, axis=1, weights=np.arange(1.0, 6.0)),
        lambda x: np.average(x, axis=1, weights=np.arange(1.0, 6.0)),
    ),
    ("corrcoef", ops.corrcoef, np.corrcoef),
    (
        "cdist",
        lambda x: ops.cdist(x, x[:2] + 0.5),
        lambda x: np.sqrt(((x[:, None] - (x[:2] + 0.5)[None]) ** 2).sum(-1)),
    ),
]


@pytest.mark.parametrize("case", STATS, ids=[c[0] for c in STATS])
def test_statistics_against_numpy(case):
    name, fn, ref = case
    x = _r(4, 5)
    np.testing.assert_allclose(fn(x).numpy(), ref(x), rtol=1e-6, atol=1e-7)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize(
    "name",
    [
        "nansum",
        "nanmean",
        "nanmax",
        "nanmin",
        "nanprod",
        "nanvar",
        "nanstd",
        "nanmedian",
        "nanargmax",
        "nanargmin",
        "nancumsum",
        "nancumprod",
    ],
)
def test_nan_reductions_against_numpy(name):
    x = _r(3, 5)
    x[0, 1] = x[2, 4] = np.nan
    got = getattr(ops, name)(x, axis=1).numpy()
    np.testing.assert_allclose(got, getattr(np, name)(x, axis=1), rtol=1e-6)
    if not name.startswith("nanarg"):
        t = shendu.tensor(x, requires_grad=True)
        ops.sum(ops.nan_to_num(getattr(ops, name)(t, axis=1))).backward()
        assert np.all(t.grad.numpy()[np.isnan(x)] == 0)


def test_nan_quantiles_and_correlate():
    x = _r(3, 6)
    x[1, 2] = np.nan
    np.testing.assert_allclose(
        ops.nanquantile(x, 0.3, axis=1).numpy(), np.nanquantile(x, 0.3, axis=1)
    )
    np.testing.assert_allclose(
        ops.nanpercentile(x, [10, 90]).numpy(), np.nanpercentile(x, [10, 90])
    )
    a, v = _r(7), _r(3)
    for mode in ("valid", "same", "full"):
        np.testing.assert_allclose(ops.correlate(a, v, mode).numpy(), np.correlate(a, v, mode))
    assert gradcheck(lambda p, q: ops.correlate(p, q, "same"), (a, v))


# ------------------------------------------------------------------ sorting, searching


def test_sorting_and_searching():
    x = _r(3, 6)
    np.testing.assert_array_equal(ops.argsort(x).numpy(), np.argsort(x, kind="stable"))
    values, idx = ops.top_k(x, 2)
    np.testing.assert_allclose(values.numpy(), -np.sort(-x)[:, :2])
    np.testing.assert_array_equal(np.take_along_axis(x, idx.numpy(), -1), values.numpy())
    assert gradcheck(lambda t: ops.top_k(t, 3)[0], (x,))
    np.testing.assert_array_equal(
        ops.in_top_k([1, 0, 3], x[:, :4], 2).numpy(),
        [np.sum(x[i, :4] > x[i, t]) < 2 for i, t in enumerate([1, 0, 3])],
    )
    # Keras 3.15's docstring example: class 5 of 5 classes is not in the top k (was an
    # IndexError)
    predictions = [[0.1, 0.4, 0.6, 0.9, 0.5], [0.1, 0.7, 0.9, 0.8, 0.3], [0.1, 0.6, 0.9, 0.9, 0.5]]
    assert ops.in_top_k([2, 5, 3], predictions, k=3).numpy().tolist() == [True, False, True]
    s = np.sort(_r(5))
    np.testing.assert_array_equal(
        ops.searchsorted(s, [0.0, 1.0]).numpy(), np.searchsorted(s, [0, 1])
    )
    np.testing.assert_array_equal(ops.digitize([0.1, 1.5], [0.0, 1.0]).numpy(), [1, 2])
    np.testing.assert_array_equal(ops.bincount([0, 2, 2]).numpy(), [1, 0, 2])
    np.testing.assert_array_equal(ops.bincount([[0, 1], [1, 1]]).numpy(), [[1, 1], [0, 2]])
    np.testing.assert_array_equal(ops.unique([3, 1, 3]).numpy(), [1, 3])
    np.testing.assert_array_equal(
        ops.unique([3, 1, 3], size=4, fill_value=-1).numpy(), [1, 3, -1, -1]
    )
    assert ops.count_nonzero([[0, 1], [2, 0]]).numpy() == 2
    counts, edges = ops.histogram([0.0, 0.5, 1.0], bins=2)
    np.testing.assert_array_equal(counts.numpy(), [1, 2])
    rows, cols = ops.nonzero([[0, 1], [2, 0]])
    np.testing.assert_array_equal(rows.numpy(), [0, 1])


# ---------------------------------------------------------------------------- creation


def test_creation_functions():
    np.testing.assert_allclose(ops.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(ops.logspace(0, 2, 3).numpy(), [1, 10, 100], rtol=1e-6)
    np.testing.assert_allclose(ops.geomspace(1, 8, 4).numpy(), [1, 2, 4, 8], rtol=1e-6)
    assert ops.eye(3, 4, 1).numpy().tolist() == np.eye(3, 4, 1).tolist()
    assert ops.identity(2).dtype == np.float32
    np.testing.assert_array_equal(ops.tri(3, k=-1).numpy(), np.tri(3, k=-1))
    assert ops.empty((2, 3)).shape == (2, 3)
    assert ops.full_like(np.zeros(2), 7).numpy().tolist() == [7.0, 7.0]
    gx, gy = ops.meshgrid([1, 2, 3], [4, 5], indexing="ij")
    assert gx.shape == (3, 2)
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        np.testing.assert_allclose(getattr(ops, name)(6).numpy(), getattr(np, name)(6), atol=1e-6)
    np.testing.assert_allclose(ops.kaiser(6, 5.0).numpy(), np.kaiser(6, 5.0), atol=1e-6)


# ---------------------------------------------------------------------------- linalg


def _spd(n, batch=()):
    a = _r(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


LINALG = [
    ("inv", ops.inv, np.linalg.inv, lambda: _r(2, 3, 3) + 3 * np.eye(3)),
    ("det", ops.det, np.linalg.det, lambda: _r(2, 3, 3) + 2 * np.eye(3)),
    (
        "slogdet",
        lambda a: ops.slogdet(a)[1],
        lambda a: np.linalg.slogdet(a)[1],
        lambda: _r(3, 3) + 3 * np.eye(3),
    ),
    ("logdet", ops.logdet, lambda a: np.linalg.slogdet(a)[1], lambda: _spd(3)),
    ("cholesky", ops.cholesky, np.linalg.cholesky, lambda: _spd(3, (2,))),
    ("eigh values", lambda a: ops.eigh(a)[0], lambda a: np.linalg.eigh(a)[0], lambda: _spd(3)),
    (
        "singular values",
        lambda a: ops.svd(a, compute_uv=False),
        lambda a: np.linalg.svd(a, compute_uv=False),
        lambda: _r(4, 3),
    ),
    (
        "nuclear norm",
        lambda a: ops.norm(a, "nuc"),
        lambda a: np.linalg.norm(a, "nuc"),
        lambda: _r(3, 4),
    ),
    ("spectral norm", lambda a: ops.norm(a, 2), lambda a: np.linalg.norm(a, 2), lambda: _r(3, 4)),
    (
        "matrix inf norm",
        lambda a: ops.norm(a, np.inf),
        lambda a: np.linalg.norm(a, np.inf),
        lambda: _r(3, 4),
    ),
]


@pytest.mark.parametrize("case", LINALG, ids=[c[0] for c in LINALG])
def test_linalg_against_numpy(case):
    name, fn, ref, make = case
    a = make()
    np.testing.assert_allclose(fn(a).numpy(), ref(a), rtol=1e-6, atol=1e-8)
    if name == "cholesky":
        assert gradcheck(lambda t: fn((t + ops.swapaxes(t, -1, -2)) / 2), (a,))
    elif name in ("eigh values", "logdet"):
        assert gradcheck(lambda t: fn((t + t.T) / 2), (a,))
    else:
        assert gradcheck(fn, (a,))


def test_solvers_and_decompositions():
    a = _r(2, 3, 3) + 3 * np.eye(3)
    b = _r(2, 3, 2)
    np.testing.assert_allclose(ops.solve(a, b).numpy(), np.linalg.solve(a, b))
    assert gradcheck(ops.solve, (a, b))
    v = _r(2, 3)
    np.testing.assert_allclose(ops.solve(a, v).numpy(), np.linalg.solve(a, v[..., None])[..., 0])
    assert gradcheck(ops.solve, (a, v))
    low = np.tril(a)
    np.testing.assert_allclose(
        ops.solve_triangular(low, b, lower=True).numpy(), np.linalg.solve(low, b)
    )
    assert gradcheck(lambda p, q: ops.solve_triangular(p, q, lower=True), (low, b))
    m = _r(4, 3)
    q, r = ops.qr(m)
    np.testing.assert_allclose((q.numpy() @ r.numpy()), m, atol=1e-10)
    assert gradcheck(lambda t: ops.qr(t)[0], (m,)) and gradcheck(lambda t: ops.qr(t)[1], (m,))
    s = _spd(3)
    w, vecs = ops.eigh(s)
    assert gradcheck(lambda t: ops.eigh((t + t.T) / 2)[1] ** 2, (s,))
    lu, piv = ops.lu_factor(a[0])
    n = 3
    lower = np.tril(lu.numpy(), -1) + np.eye(n)
    upper = np.triu(lu.numpy())
    perm = np.arange(n)
    for i, p in enumerate(piv.numpy()):
        perm[[i, p]] = perm[[p, i]]
    np.testing.assert_allclose(lower @ upper, a[0][perm], atol=1e-10)
    np.testing.assert_allclose(ops.pinv(m).numpy(), np.linalg.pinv(m))
    np.testing.assert_allclose(
        ops.lstsq(m, b[0][:, :1].repeat(1, 1)[:3].reshape(3, 1) if False else _r(4, 2)).shape,
        (3, 2),
    )
    assert int(ops.matrix_rank(np.eye(3)).numpy()) == 3
    np.testing.assert_allclose(
        ops.cholesky_inverse(np.linalg.cholesky(s)).numpy(), np.linalg.inv(s), atol=1e-10
    )
    with pytest.raises(ValueError, match="inv: expected square matrices"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cholesky: Matrix is not positive definite"):
        ops.cholesky(-np.eye(2))


def test_jvp_matches_finite_differences():
    x = _r(3)
    t = _r(3)
    out, tangent = ops.linalg.jvp(lambda v: ops.sin(v) * v, (x,), (t,))
    np.testing.assert_allclose(out.numpy(), np.sin(x) * x)
    np.testing.assert_allclose(tangent.numpy(), (np.cos(x) * x + np.sin(x)) * t, rtol=1e-6)


# ---------------------------------------------------------------- Fourier, segments, ctc


def test_fft_family_against_numpy():
    re, im = _r(2, 8), _r(2, 8)
    z = re + 1j * im
    fr, fi = ops.fft((re, im))
    np.testing.assert_allclose(fr.numpy() + 1j * fi.numpy(), np.fft.fft(z), atol=1e-10)
    assert gradcheck(lambda a, b: ops.fft((a, b))[0] * ops.fft((a, b))[1], (re, im))
    zz = _r(2, 4, 4) + 1j * _r(2, 4, 4)
    r2, i2 = ops.fft2((zz.real, zz.imag))
    np.testing.assert_allclose(r2.numpy() + 1j * i2.numpy(), np.fft.fft2(zz), atol=1e-10)
    back = ops.ifft2((r2, i2))
    np.testing.assert_allclose(back[0].numpy(), zz.real, atol=1e-10)
    assert gradcheck(lambda a, b: ops.ifft2((a, b))[1], (zz.real, zz.imag))
    x = _r(3, 10)
    rr, ri = ops.rfft(x)
    np.testing.assert_allclose(rr.numpy() + 1j * ri.numpy(), np.fft.rfft(x), atol=1e-10)
    assert gradcheck(lambda t: ops.rfft(t)[0] + 2 * ops.rfft(t)[1], (x,))
    np.testing.assert_allclose(ops.irfft((rr, ri)).numpy(), x, atol=1e-10)
    for n in (10, 9):
        spec = np.fft.rfft(_r(2, n))
        assert gradcheck(lambda a, b, n=n: ops.irfft((a, b), n), (spec.real, spec.imag))


def test_stft_round_trip_and_gradient():
    x = _r(2, 64)
    re, im = ops.stft(x, 16, 4, 16)
    assert re.shape == (2, 17, 9)
    back = ops.istft((re, im), 16, 4, 16, length=64)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-8)
    assert gradcheck(lambda t: ops.stft(t, 8, 4, 8)[0], (_r(1, 24),))
    frames = ops.extract_sequences(np.arange(10.0), 4, 3)
    assert frames.numpy().tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]


def test_segment_reductions():
    data = _r(6, 2)
    ids = np.array([0, 0, 2, 2, 2, -1])
    expect = {
        "sum": [data[:2].sum(0), np.zeros(2), data[2:5].sum(0)],
        "max": [data[:2].max(0), np.full(2, -np.inf), data[2:5].max(0)],
        "min": [data[:2].min(0), np.full(2, np.inf), data[2:5].min(0)],
        "prod": [data[:2].prod(0), np.ones(2), data[2:5].prod(0)],
    }
    for kind, want in expect.items():
        fn = getattr(ops, f"segment_{kind}")
        np.testing.assert_allclose(fn(data, ids, num_segments=3).numpy(), np.array(want))
        assert gradcheck(lambda t, fn=fn: fn(t, ids, num_segments=3)[[0, 2]], (data,))


def test_ctc_loss_against_brute_force():
    import itertools

    rng = np.random.default_rng(1)
    logits = rng.normal(size=(1, 4, 3))
    target = np.array([[1, 2]])

    def collapse(path):
        out, prev = [], None
        for p in path:
            if p != prev and p != 0:
                out.append(p)
            prev = p
        return out

    logp = logits[0] - np.log(np.exp(logits[0]).sum(-1, keepdims=True))
    total = sum(
        np.exp(sum(logp[t, c] for t, c in enumerate(path)))
        for path in itertools.product(range(3), repeat=4)
        if collapse(path) == [1, 2]
    )
    loss = ops.ctc_loss(target, logits, np.array([2]), np.array([4]))
    np.testing.assert_allclose(loss.numpy(), [-np.log(total)], rtol=1e-6)
    assert gradcheck(lambda t: ops.ctc_loss(target, t, np.array([2]), np.array([4])), (logits,))
    decoded, scores = ops.ctc_decode(
        np.log(np.array([[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]])),
        np.array([4]),
    )
    assert decoded.numpy()[0, 0, :2].tolist() == [1, 2]
    beams, logp_beams = ops.ctc_decode(
        np.log(np.full((1, 3, 3), 1 / 3)),
        np.array([3]),
        strategy="beam_search",
        beam_width=5,
        top_paths=2,
    )
    assert beams.shape == (2, 1, 3) and logp_beams.shape == (1, 2)


# ----------------------------------------------------------------------- nn extras


ACTIVATIONS = [
    ("celu", lambda x: np.maximum(x, 0) + np.minimum(np.exp(x) - 1, 0)),
    ("hard_silu", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_tanh", lambda x: np.clip(x, -1, 1)),
    ("hard_shrink", lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("soft_shrink", lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    ("log_sigmoid", lambda x: -np.logaddexp(0, -x)),
    ("sparse_plus", lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("sparse_sigmoid", lambda x: np.clip((x + 1) / 2, 0, 1)),
    ("squareplus", lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("tanh_shrink", lambda x: x - np.tanh(x)),
]


@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_more_activations(case):
    name, ref = case
    x = _r(3, 4) * 2
    fn = getattr(ops.nn, name)
    np.testing.assert_allclose(fn(x).numpy(), ref(x), rtol=1e-6, atol=1e-7)
    x = x[np.abs(np.abs(x) - 1) > 1e-3]  # away from the kinks
    x = x[np.abs(np.abs(x) - 0.5) > 1e-3]
    assert gradcheck(fn, (x,))


def test_glu_sparsemax_threshold():
    x = _r(2, 6)
    a, b = x[:, :3], x[:, 3:]
    np.testing.assert_allclose(ops.glu(x).numpy(), a / (1 + np.exp(-b)), rtol=1e-6)
    s = ops.sparsemax(x).numpy()
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=1e-6)
    assert (s >= 0).all()
    assert gradcheck(ops.sparsemax, (x,))
    np.testing.assert_allclose(ops.threshold(x, 0.5, -1.0).numpy(), np.where(x > 0.5, x, -1.0))


def test_spatial_ops():
    x = _r(2, 4, 6, 3)
    y = ops.space_to_depth(x, 2)
    assert y.shape == (2, 2, 3, 12)
    np.testing.assert_allclose(ops.depth_to_space(y, 2).numpy(), x)
    avg = ops.adaptive_average_pool(x, (2, 3))
    np.testing.assert_allclose(avg.numpy()[0, 0, 0], x[0, :2, :2].mean((0, 1)), rtol=1e-6)
    mx = ops.adaptive_max_pool(_r(1, 5, 5, 2), 2)
    assert mx.shape == (1, 2, 2, 2)
    assert gradcheck(lambda t: ops.adaptive_average_pool(t, (3, 2)), (_r(1, 5, 4, 1),))
    assert gradcheck(lambda t: ops.adaptive_max_pool(t, (2, 2)), (_r(1, 5, 4, 1),))
    img = _r(1, 2, 5, 5)
    cols = ops.unfold(img, 3, padding=1)
    assert cols.shape == (1, 18, 25)
    back = ops.fold(cols, (5, 5), 3, padding=1)
    ones = ops.fold(ops.unfold(np.ones((1, 2, 5, 5)), 3, padding=1), (5, 5), 3, padding=1)
    np.testing.assert_allclose(back.numpy(), img * ones.numpy())
    assert gradcheck(lambda t: ops.unfold(t, 2, stride=2), (_r(1, 1, 4, 4),))
    mh = ops.multi_hot([[0, 2], [1, 1]], 3)
    assert mh.numpy().tolist() == [[1, 0, 1], [0, 1, 0]]
    n = ops.normalize(np.array([[3.0, 4.0]]))
    np.testing.assert_allclose(n.numpy(), [[0.6, 0.8]])
    for order in (1, 2, 3):
        assert gradcheck(lambda t, o=order: ops.normalize(t, axis=-1, order=o), (_r(3, 4),))
    zero = Tensor(np.zeros((1, 3)), requires_grad=True)
    ops.sum(ops.normalize(zero)).backward()
    assert np.isfinite(zero.grad.numpy()).all()  # the zero vector: a finite gradient, as in Keras
    with pytest.raises(ValueError, match="int >= 1. Received: order=0"):
        ops.normalize(np.ones(3), order=0)
    np.testing.assert_allclose(float(ops.psnr(np.zeros(4), np.full(4, 0.1), 1.0)), 20.0, rtol=1e-6)
    sep = ops.separable_conv(_r(1, 5, 5, 2), _r(3, 3, 2, 1), _r(1, 1, 2, 4))
    assert sep.shape == (1, 3, 3, 4)


# --------------------------------------------------------------------------- core


def test_control_flow_with_gradients():
    x = shendu.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.cond(True, lambda: x * 3, lambda: x * 4)
    carry, ys = ops.scan(
        lambda c, v: (c + v, c * v), ops.zeros((2,), "float64"), ops.stack([x, x])
    )
    total = ops.sum(y) + ops.sum(carry) + ops.sum(ys)
    total.backward()
    # y: 3; carry: 2 x; ys: [0, x * x] -> 2 x
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 + 2 * x.numpy())
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    assert ops.while_loop(lambda v: v < 10, lambda v: v * 2, 1) == 16
    a, b = ops.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + i), (0, 0))
    assert (a, b) == (3, 3)
    assert ops.switch(5, [lambda: "a", lambda: "b"]) == "b"
    squares = ops.map(lambda v: v * v, np.arange(4.0))
    np.testing.assert_allclose(squares.numpy(), [0, 1, 4, 9])
    cum = ops.associative_scan(lambda p, q: p + q, np.arange(1.0, 5.0))
    np.testing.assert_allclose(cum.numpy(), [1, 3, 6, 10])
    rev = ops.associative_scan(lambda p, q: p + q, np.arange(1.0, 5.0), reverse=True)
    np.testing.assert_allclose(rev.numpy(), [10, 9, 7, 4])


def test_scatter_slices_and_select():
    out = ops.scatter([[0, 1], [2, 0], [0, 1]], np.array([1.0, 2.0, 3.0]), (3, 2))
    np.testing.assert_allclose(out.numpy(), [[0, 4], [0, 0], [2, 0]])
    base = _r(3, 4)
    upd = ops.scatter_update(base, [[1, 2]], np.array([9.0]))
    assert upd.numpy()[1, 2] == 9.0 and upd.numpy()[0, 0] == base[0, 0]
    assert gradcheck(lambda b, u: ops.scatter_update(b, [[1, 2], [0, 0]], u), (base, _r(2)))
    np.testing.assert_allclose(ops.slice(base, (1, 1), (2, 2)).numpy(), base[1:3, 1:3])
    su = ops.slice_update(base, (1, 2), np.zeros((2, 2)))
    assert su.numpy()[1:3, 2:4].sum() == 0
    assert gradcheck(lambda b, u: ops.slice_update(b, (0, 1), u), (base, _r(2, 2)))
    x = np.arange(6.0)
    sel = ops.select([x < 2, x > 3], [x, x * 10], default=-1.0)
    np.testing.assert_allclose(sel.numpy(), np.select([x < 2, x > 3], [x, x * 10], -1.0))


def test_custom_gradient_and_conversions():
    @ops.custom_gradient
    def clipped(x):
        def grad(upstream):
            return upstream * 0.5

        return x * 2, grad

    @ops.custom_gradient
    def keras_form(x):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return upstream * 3.0

        return x * 2, grad

    for fn, want in ((clipped, 0.5), (keras_form, 3.0)):
        t = shendu.tensor(np.array([1.0, 2.0]), requires_grad=True)
        ops.sum(fn(t)).backward()
        np.testing.assert_allclose(t.grad.numpy(), [want, want])
    assert ops.shape(np.zeros((2, 3))) == (2, 3)
    assert ops.dtype(ops.ones(2)) == "float32"
    assert ops.is_tensor(ops.ones(2)) and not ops.is_tensor(np.ones(2))
    assert isinstance(ops.convert_to_numpy(ops.ones(2)), np.ndarray)
    np.testing.assert_array_equal(
        ops.saturate_cast(np.array([-500.0, 300.0]), "uint8").numpy(), [0, 255]
    )
    r = ops.rearrange(np.arange(24.0).reshape(2, 12), "b (h w) -> b w h", h=3)
    np.testing.assert_array_equal(r.numpy(), np.arange(24.0).reshape(2, 3, 4).transpose(0, 2, 1))
    with pytest.raises(ValueError, match="both sides must name the same axes"):
        ops.rearrange(np.zeros((2, 3)), "a b -> a c")


def test_namespaces_hold_the_same_functions():
    assert ops.numpy.arange is ops.arange
    assert ops.nn.relu is ops.relu
    assert ops.linalg.svd is ops.svd
    assert ops.image.resize is not None and ops.math.segment_sum is ops.segment_sum
    assert ops.core.scan is ops.scan


def test_attention_soft_cap_and_scatter_reductions():
    q, k, v = _r(2, 4, 2, 3), _r(2, 4, 2, 3), _r(2, 4, 2, 3)
    out = ops.dot_product_attention(q, k, v, attn_logits_soft_cap=0.5, is_causal=True)
    logits = np.einsum("bthd,bshd->bhts", q, k) / np.sqrt(3)
    logits = 0.5 * np.tanh(logits / 0.5)
    logits = np.where(np.tril(np.ones((4, 4), bool)), logits, -1e9)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), np.einsum("bhts,bshd->bthd", p, v), atol=1e-10)
    assert gradcheck(lambda a: ops.dot_product_attention(a, k, v, attn_logits_soft_cap=0.5), (q,))
    base = _r(2, 3)
    added = ops.scatter_update(base, [[0, 1], [0, 1]], np.array([5.0, 6.0]), reduction="add")
    assert added.numpy()[0, 1] == pytest.approx(base[0, 1] + 11)
    with pytest.raises(ValueError, match="`reduction` must be None, 'add', 'mul', 'max' or"):
        ops.scatter_update(base, [[0, 1]], np.array([1.0]), reduction="sum")
