"""Gradient checks (first and second order) for reductions, shape ops and linear algebra."""

import numpy as np
import pytest

import shendu
from shendu import ops
from shendu.testing import gradcheck, gradgradcheck

from .samples import UNARY_SHAPES, make

RNG = np.random.default_rng(0)


def _last(x):
    return -1 if x.ndim else None


REDUCTIONS = {
    "sum": lambda x: ops.sum(x),
    "sum_axis_keep": lambda x: ops.sum(x, axis=_last(x), keepdims=True),
    "mean": lambda x: ops.mean(x),
    "mean_axis": lambda x: ops.mean(x, axis=0 if x.ndim else None),
    "max": lambda x: ops.max(x, axis=_last(x)),
    "min": lambda x: ops.min(x),
    "prod": lambda x: ops.prod(x, axis=_last(x)),
    "var": lambda x: ops.var(x, axis=_last(x)),
    "std": lambda x: ops.std(x),
    "logsumexp": lambda x: ops.logsumexp(x, axis=_last(x)),
    "norm": lambda x: ops.norm(x),
}
NONEMPTY = [s for s in UNARY_SHAPES if s != (0,)]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradcheck(name, shape):
    if shape == (0,) and name in (
        "max",
        "min",
        "std",
        "norm",
        "var",
        "mean",
        "mean_axis",
        "logsumexp",
    ):
        pytest.skip("no value to reduce over an empty axis")
    if shape == () and name == "std":
        pytest.skip("the std of one value is 0, where its gradient is infinite")
    x = make(shape, np.random.default_rng(1), 0.5, 2.0)
    if name in ("max", "min") and x.size:
        x = x + np.arange(x.size).reshape(x.shape) * 0.1  # no ties
    assert gradcheck(REDUCTIONS[name], (x,))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradgradcheck(name):
    x = make((3, 4), np.random.default_rng(2), 0.5, 2.0) + np.arange(12).reshape(3, 4) * 0.1
    assert gradgradcheck(REDUCTIONS[name], (x,))


@pytest.mark.parametrize("size", [1, 10, 4096, 4097])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_full_reduction_gradient_small_filled_large_broadcast(op, size):
    # small inputs get a filled array, larger ones a broadcast view: both the same values
    x = shendu.tensor(np.ones((size,), np.float32), requires_grad=True)
    (getattr(ops, op)(x) * 3.0).backward()
    expected = 3.0 / size if op == "mean" else 3.0
    assert x.grad.dtype == np.float32 and x.grad.shape == (size,)
    np.testing.assert_allclose(x.grad.numpy(), np.full(size, expected, np.float32), rtol=1e-6)


def test_prod_gradient_with_zeros_is_exact():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0]])
    assert gradcheck(lambda a: ops.prod(a, axis=1), (x,))


def test_max_splits_ties_and_reductions_match_numpy():
    x = shendu.tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    ops.max(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5])
    a = RNG.random((3, 4, 5)).astype(np.float32)
    for name, ref in [
        ("sum", np.sum),
        ("mean", np.mean),
        ("max", np.max),
        ("min", np.min),
        ("prod", np.prod),
        ("var", np.var),
        ("std", np.std),
    ]:
        got = getattr(ops, name)(a, axis=(0, 2))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), ref(a, axis=(0, 2)), rtol=1.3e-6, atol=1e-5)
    np.testing.assert_array_equal(ops.argmax(a, axis=1).numpy(), a.argmax(1))
    np.testing.assert_array_equal(ops.argmin(a, axis=1).numpy(), a.argmin(1))
    assert bool(ops.any(a > 0.5).numpy()) and not bool(ops.all(a > 0.5).numpy())


def test_reduction_errors():
    with pytest.raises(ValueError, match="sum: `axis` 3 is out of bounds for an input of rank 2"):
        ops.sum(np.ones((2, 2)), axis=3)
    with pytest.raises(ValueError, match="max: zero-size input"):
        ops.max(np.ones((0,)))
    with pytest.raises(ValueError, match="norm: invalid `ord`. Received: ord='abc'"):
        ops.norm(np.ones(3), ord="abc")
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(ops.norm(x, ord=7).numpy(), np.linalg.norm(x, ord=7))


def test_logsumexp_is_stable():
    x = shendu.tensor(np.array([1000.0, -1000.0, 999.0], np.float32), requires_grad=True)
    y = ops.logsumexp(x)
    y.backward()
    assert np.isfinite(y.numpy()) and np.isfinite(x.grad.numpy()).all()


SHAPE_OPS = {
    "reshape": (lambda x: ops.reshape(x, (4, 3)), (3, 4)),
    "transpose": (lambda x: ops.transpose(x, (1, 0, 2)), (2, 3, 4)),
    "T": (lambda x: x.T, (3, 4)),
    "moveaxis": (lambda x: ops.moveaxis(x, 0, -1), (2, 3, 4)),
    "expand_dims": (lambda x: ops.expand_dims(x, 1), (3, 4)),
    "squeeze": (lambda x: ops.squeeze(x, 1), (3, 1, 4)),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (2, 3, 4)), (3, 1)),
    "pad": (lambda x: ops.pad(x, ((1, 2), (0, 1))), (3, 4)),
    "flip": (lambda x: ops.flip(x, 1), (3, 4)),
    "tile": (lambda x: ops.tile(x, (2, 3)), (3, 2)),
    "repeat": (lambda x: ops.repeat(x, 2, axis=1), (3, 2)),
    "repeat_array": (lambda x: ops.repeat(x, [1, 3], axis=1), (3, 2)),
    "roll": (lambda x: ops.roll(x, 2, axis=1), (3, 4)),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), (3, 4)),
    "getitem_basic": (lambda x: x[1:, ::2], (3, 4)),
    "getitem_int_none_ellipsis": (lambda x: x[1, None, ..., 2], (3, 4, 5)),
    "getitem_int_array": (lambda x: x[np.array([0, 2, 0])], (3, 4)),
    "getitem_bool": (lambda x: x[np.array([True, False, True])], (3, 4)),
    "take": (lambda x: ops.take(x, np.array([2, 0, 2]), axis=1), (3, 4)),
    "take_along_axis": (
        lambda x: ops.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), axis=1),
        (3, 4),
    ),
    "concatenate": (lambda x: ops.concatenate([x, x * 2, x[:1]], axis=0), (3, 4)),
    "stack": (lambda x: ops.stack([x, x * 3], axis=1), (3, 4)),
    "split": (lambda x: ops.split(x, [1, 3], axis=1), (3, 4)),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 1), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@pytest.mark.parametrize("layout", ["contiguous", "noncontig", "float32_forward"])
def test_shape_op_gradcheck(name, layout):
    fn, shape = SHAPE_OPS[name]
    x = RNG.standard_normal(shape)
    if layout == "noncontig":
        x = np.asfortranarray(x)[...]
        x = np.moveaxis(np.moveaxis(x, 0, -1).copy(), -1, 0)  # same values, permuted strides
    if layout == "float32_forward":
        y = fn(shendu.tensor(x.astype(np.float32)))
        ys = y if isinstance(y, (list, tuple)) else [y]
        assert all(t.dtype == np.float32 for t in ys)
        return
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op_gradgradcheck(name):
    fn, shape = SHAPE_OPS[name]
    assert gradgradcheck(
        lambda x: fn(x * x) if name != "split" else fn(x * x)[1], (RNG.standard_normal(shape),)
    )


def test_shape_op_zero_size_and_scalar():
    assert gradcheck(lambda x: ops.reshape(x, (0, 2)), (np.ones((2, 0)),))
    assert gradcheck(lambda x: ops.expand_dims(x, 0) * 2, (np.array(1.5),))
    assert gradcheck(lambda x: ops.concatenate([x, x], 0), (np.ones((0, 3)),))


def test_shape_op_errors():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape an input of shape \(3, 4\)"):
        ops.reshape(np.ones((3, 4)), (5,))
    with pytest.raises(ValueError, match="transpose: `axes` must be a permutation"):
        ops.transpose(np.ones((3, 4)), (0, 0))
    with pytest.raises(ValueError, match="squeeze: cannot squeeze axis 0 of size 3"):
        ops.squeeze(np.ones((3, 4)), 0)
    with pytest.raises(ValueError, match="concatenate: all inputs must have the same shape"):
        ops.concatenate([np.ones((2, 3)), np.ones((2, 4))], axis=0)
    with pytest.raises(ValueError, match="stack: all inputs must have the same shape"):
        ops.stack([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="split: axis 0 of size 5 does not divide into 2"):
        ops.split(np.ones(5), 2)
    with pytest.raises(TypeError, match="take: `indices` must be integers"):
        ops.take(np.ones(5), np.array([0.5]), axis=0)
    with pytest.raises(IndexError, match="take: index out of range"):
        ops.take(np.ones(5), np.array([7]), axis=0)
    with pytest.raises(TypeError, match="getitem: index arrays must be integer or boolean"):
        shendu.tensor(np.ones(3))[np.array([0.0])]
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast shape"):
        ops.broadcast_to(np.ones(3), (4,))
    with pytest.raises(ValueError, match="pad: `pad_width` must be non-negative"):
        ops.pad(np.ones(3), (-1, 0))
    with pytest.raises(ValueError, match="tile: `repeats` must be non-negative"):
        ops.tile(np.ones(3), -1)
    with pytest.raises(TypeError, match="one_hot: expected integer labels"):
        ops.one_hot(np.array(["a"]), 3)


def test_one_hot_takes_float_labels_as_keras():
    # float labels holding integers encode; a non-class value gives a row of zeros (Keras)
    out = ops.one_hot(np.array([0.0, 2.0, 0.5, -1.0]), 3).numpy()
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])


def test_one_hot_and_getitem_duplicates_accumulate():
    np.testing.assert_array_equal(ops.one_hot(np.array([0, 2]), 3).numpy(), [[1, 0, 0], [0, 0, 1]])
    x = shendu.tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 0, 1])


LINALG = {
    "matmul_2d": (ops.matmul, [(3, 4), (4, 5)]),
    "matmul_batched_broadcast": (ops.matmul, [(2, 3, 4), (4, 2)]),
    "matmul_rank4_by_matrix": (ops.matmul, [(2, 1, 3, 4), (4, 2)]),
    "matmul_vec_mat": (ops.matmul, [(4,), (4, 3)]),
    "matmul_mat_vec": (ops.matmul, [(3, 4), (4,)]),
    "matmul_vec_vec": (ops.matmul, [(4,), (4,)]),
    "matmul_batch_both": (ops.matmul, [(2, 1, 3, 4), (3, 4, 2)]),
    "dot_vec": (ops.dot, [(4,), (4,)]),
    "dot_3d": (ops.dot, [(2, 3), (4, 3, 2)]),
    "tensordot": (lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])), [(2, 3, 4), (3, 4, 5)]),
    "einsum_bij_bjk": (lambda a, b: ops.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    "einsum_outer": (lambda a, b: ops.einsum("i,j->ij", a, b), [(3,), (4,)]),
    "einsum_sum_only_in_one": (lambda a, b: ops.einsum("ij,k->k", a, b), [(2, 3), (4,)]),
    "einsum_ellipsis": (lambda a, b: ops.einsum("...ij,jk->...ik", a, b), [(2, 3, 4), (4, 2)]),
    "einsum_implicit": (lambda a, b: ops.einsum("ij,jk", a, b), [(2, 3), (3, 4)]),
    "linear": (lambda x, w, b: ops.linear(x, w, b), [(3, 4), (4, 5), (5,)]),
    "linear_3d_nobias": (lambda x, w: ops.linear(x, w), [(2, 3, 4), (4, 5)]),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_gradcheck_and_gradgrad(name):
    fn, shapes = LINALG[name]
    args = [RNG.standard_normal(s) for s in shapes]
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_linalg_forward_float32():
    a = RNG.standard_normal((5, 7)).astype(np.float32)
    b = RNG.standard_normal((7, 3)).astype(np.float32)
    np.testing.assert_allclose(ops.matmul(a, b).numpy(), a @ b, rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(ops.einsum("ij,jk->ik", a, b).numpy(), a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ops.linear(a, b, np.ones(3, np.float32)).numpy(), a @ b + 1, rtol=1.3e-6, atol=1e-5
    )
    assert ops.linear(a, b).dtype == np.float32


def test_linalg_errors():
    with pytest.raises(ValueError, match=r"matmul: the inner dimensions do not match: 4 .* vs 5"):
        ops.matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="matmul: inputs must have rank >= 1"):
        ops.matmul(np.float64(2.0), np.ones(3))
    with pytest.raises(ValueError, match="linear: the last axis of the input"):
        ops.linear(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="tensordot: contracted axes differ in size"):
        ops.tensordot(np.ones((2, 3)), np.ones((4, 2)), axes=([1], [0]))
    with pytest.raises(ValueError, match="einsum: 1 operand subscripts for 2 operands"):
        ops.einsum("ij", np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="einsum: repeated indices"):
        ops.einsum("ii->i", np.ones((2, 2)))


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_linear_with_fused_activation(act):
    x, w, b = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 5)), RNG.standard_normal(5)
    ref = {"relu": ops.relu, "tanh": ops.tanh, "sigmoid": ops.sigmoid}[act]
    np.testing.assert_allclose(
        ops.linear(x, w, b, activation=act).numpy(),
        ref(ops.linear(x, w, b)).numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    assert gradcheck(lambda a, k, c: ops.linear(a, k, c, activation=act), (x, w, b))
    assert gradgradcheck(lambda a, k, c: ops.linear(a, k, c, activation=act), (x, w, b))
    y = ops.linear(x.astype(np.float32), w.astype(np.float32), activation=act)
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match="linear: `activation` must be None"):
        ops.linear(x, w, activation="gelu")


# Shape ops over the 7 standard sample inputs (scalar, 3, 5, 10, (3, 4), a non-contiguous
# view, size 0), where the op accepts that rank.
ANY_SHAPE_OPS = {
    "reshape_flat": (lambda x: ops.reshape(x, (-1,)), 0),
    "transpose": (lambda x: ops.transpose(x), 0),
    "flip": (lambda x: ops.flip(x), 0),
    "cumsum": (lambda x: ops.cumsum(x), 0),
    "roll": (lambda x: ops.roll(x, 1), 0),
    "tile": (lambda x: ops.tile(x, 2), 0),
    "repeat": (lambda x: ops.repeat(x, 2), 0),
    "expand_dims": (lambda x: ops.expand_dims(x, 0), 0),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (2,) + x.shape), 0),
    "getitem_ellipsis": (lambda x: x[...] * 1.0, 0),
    "stack": (lambda x: ops.stack([x, x * 2.0]), 0),
    "take_flat": (lambda x: ops.take(x, np.zeros((2,), dtype=np.int64)) if x.size else x * 1.0, 0),
    "pad": (lambda x: ops.pad(x, 1), 1),
    "concatenate": (lambda x: ops.concatenate([x, x * 3.0], axis=0), 1),
    "squeeze_expand": (lambda x: ops.squeeze(ops.expand_dims(x, -1), -1), 1),
    "moveaxis": (lambda x: ops.moveaxis(x, 0, -1), 2),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 1), 2),
}


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(ANY_SHAPE_OPS))
def test_shape_op_over_standard_inputs(name, shape):
    fn, min_rank = ANY_SHAPE_OPS[name]
    x = make(shape, np.random.default_rng(5))
    if x.ndim < min_rank:
        pytest.skip(f"{name} needs rank >= {min_rank}")
    assert gradcheck(fn, (x,))


LINALG_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 2)),
    ((1, 2, 3), (4, 3, 2)),
    ((0, 3), (3, 2)),
    ((0, 2, 3), (3, 2)),
]


@pytest.mark.parametrize("shapes", LINALG_SHAPES, ids=str)
def test_matmul_over_eight_shape_pairs(shapes):
    rng = np.random.default_rng(6)
    a, b = (rng.standard_normal(s) for s in shapes)
    assert gradcheck(ops.matmul, (a, b))
    if a.size and b.size:
        assert gradgradcheck(ops.matmul, (a, b))


@pytest.mark.parametrize(
    "shapes",
    [
        ((3,), (3, 2)),
        ((2, 3), (3, 2)),
        ((4, 2, 3), (3, 5)),
        ((1, 3), (3, 1)),
        ((2, 3), (3, 0)),
        ((5, 3), (3, 2)),
        ("noncontig", (4, 2)),
    ],
    ids=str,
)
def test_linear_over_seven_shapes(shapes):
    rng = np.random.default_rng(7)
    x = make(shapes[0], rng)
    w = rng.standard_normal(shapes[1])
    b = rng.standard_normal(shapes[1][-1:])
    assert gradcheck(lambda a, k, c: ops.linear(a, k, c), (x, w, b))


@pytest.mark.parametrize("rows", [5, 1023, 1024, 50_000])
def test_column_sums_short_and_tall(rows):
    from shendu.ops._util import column_sums

    g = np.random.default_rng(rows).standard_normal((rows, 7)).astype(np.float32) + 0.5
    ref = g.astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(column_sums(np, g), ref, rtol=1e-5, atol=1e-4)
    out = np.empty(7, np.float32)
    assert column_sums(np, g, out) is out
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)


def test_embedding_lookup_gradients_and_errors():
    table = RNG.standard_normal((6, 3))
    indices = np.array([[0, 2, 2], [5, 0, 2]])  # repeated rows: their gradients add up
    assert gradcheck(lambda t: ops.embedding(t, indices), (table,))
    assert gradgradcheck(lambda t: ops.embedding(t, indices) ** 2, (table,))
    out = ops.embedding(table, indices)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy()[1, 0], table[5])
    with pytest.raises(ValueError, match=r"Layer 'e': indices must be in \[0, 6\)"):
        ops.embedding(table, np.array([0, 6]), what="Layer 'e'")
    with pytest.raises(ValueError, match=r"embedding: indices must be in \[0, 6\)"):
        ops.embedding(table, np.array([-1, 0]))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        ops.embedding(table, np.array([0.0]))


@pytest.mark.parametrize(
    "rows, m, n",
    [(86_528, 9, 32), (20_000, 27, 16), (20_000, 1, 32), (500, 9, 32), (9_000, 64, 8)],
)
def test_transposed_product_equals_the_whole_product(rows, m, n):
    """Blocked (tall, narrow a) or whole, a^T @ b is the product to float32 rounding."""
    from shendu.ops._util import transposed_product

    rng = np.random.default_rng(rows + m)
    a = rng.standard_normal((rows, m)).astype(np.float32)
    b = rng.standard_normal((rows, n)).astype(np.float32)
    got = transposed_product(np, a, b)
    ref = a.astype(np.float64).T @ b.astype(np.float64)
    assert got.shape == (m, n) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.sqrt(rows))


def test_transposed_product_sums_every_block_including_a_short_last_one(monkeypatch):
    from shendu.ops import _util

    monkeypatch.setattr(_util, "TRANSPOSED_PRODUCT_BLOCK_BYTES", (3 + 1) * 8 * 7)  # 7 float64 rows
    rng = np.random.default_rng(3)
    a = rng.standard_normal((60, 3))  # 8 full blocks and one of 4 rows
    b = rng.standard_normal((60, 1))
    got = _util.transposed_product(np, a, b)
    np.testing.assert_allclose(got, a.T @ b, rtol=1e-12)
    assert not np.array_equal(got, a[:56].T @ b[:56])  # the last 4 rows count


def test_segment_max_and_min_of_bools_as_keras():
    # Keras 3.15 (JAX): max [True, True, False], min [False, True, True] (empty segments
    # hold the identity); shendu raised AttributeError on bools
    data, ids = np.array([True, False, True]), np.array([0, 0, 1])
    got_max = ops.segment_max(data, ids, num_segments=3)
    got_min = ops.segment_min(data, ids, num_segments=3)
    assert got_max.dtype == np.bool_ and got_max.data.tolist() == [True, True, False]
    assert got_min.data.tolist() == [False, True, True]


def test_rearrange_names_an_unmatched_parenthesis():
    with pytest.raises(ValueError, match=r"rearrange: '\)' without its '\('"):
        ops.rearrange(np.zeros((2, 3)), "a b) -> a b")
