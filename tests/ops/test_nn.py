"""Softmax, fused cross-entropies, dropout and normalisation ops."""

import numpy as np
import pytest

import shendu
from shendu import ops
from shendu.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def np_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 1)])
def test_softmax_and_log_softmax(shape):
    z = RNG.standard_normal(shape)
    assert gradcheck(lambda x: ops.softmax(x), (z,))
    assert gradcheck(lambda x: ops.log_softmax(x), (z,))
    assert gradcheck(lambda x: ops.softmax(x, axis=0), (z,))
    assert gradgradcheck(lambda x: ops.softmax(x), (z,))
    assert gradgradcheck(lambda x: ops.log_softmax(x), (z,))
    z32 = z.astype(np.float32)
    np.testing.assert_allclose(ops.softmax(z32).numpy(), np_softmax(z), rtol=1.3e-6, atol=1e-6)


def _onehot(n, k):
    return np.eye(k)[RNG.integers(0, k, n)]


@pytest.mark.parametrize("from_logits", [True, False])
def test_categorical_crossentropy_gradients(from_logits):
    t = _onehot(4, 3)
    z = RNG.standard_normal((4, 3))
    if not from_logits:
        z = np_softmax(z)
    assert gradcheck(lambda a, b: ops.categorical_crossentropy(a, b, from_logits), (t, z))
    assert gradgradcheck(lambda b: ops.categorical_crossentropy(t, b, from_logits), (z,))
    ref = -(t * np.log(np_softmax(z) if from_logits else z)).sum(-1)
    got = ops.categorical_crossentropy(t, z, from_logits=from_logits).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_sparse_categorical_crossentropy():
    labels = np.array([0, 2, 1, 2])
    z = RNG.standard_normal((4, 3))
    assert gradcheck(lambda b: ops.sparse_categorical_crossentropy(labels, b, True), (z,))
    assert gradgradcheck(lambda b: ops.sparse_categorical_crossentropy(labels, b, True), (z,))
    p = np_softmax(z)
    assert gradcheck(lambda b: ops.sparse_categorical_crossentropy(labels, b), (p,))
    ref = -np.log(p[np.arange(4), labels])
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(), ref, rtol=1e-6
    )


def test_binary_crossentropy():
    t = (RNG.random((3, 4)) > 0.5).astype(float)
    z = RNG.standard_normal((3, 4))
    p = 1 / (1 + np.exp(-z))
    assert gradcheck(lambda a, b: ops.binary_crossentropy(a, b, from_logits=True), (t, z))
    assert gradgradcheck(lambda b: ops.binary_crossentropy(t, b, from_logits=True), (z,))
    assert gradcheck(lambda b: ops.binary_crossentropy(t, b), (p,))
    ref = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(
        ops.binary_crossentropy(t, z, from_logits=True).numpy(), ref, rtol=1e-6
    )
    np.testing.assert_allclose(ops.binary_crossentropy(t, p).numpy(), ref, rtol=1e-5)


def test_losses_stable_for_logits_of_1000():
    z = shendu.tensor(np.array([[1000.0, -1000.0, 0.0]], np.float32), requires_grad=True)
    t = np.array([[0.0, 1.0, 0.0]], np.float32)
    for loss in (
        ops.categorical_crossentropy(t, z, from_logits=True),
        ops.categorical_crossentropy(t, ops.softmax(z)),  # rewritten to the logits form
        ops.sparse_categorical_crossentropy(np.array([1]), z, from_logits=True),
        ops.binary_crossentropy(t, z, from_logits=True).sum(),
        ops.binary_crossentropy(t, ops.sigmoid(z)).sum(),
    ):
        z.grad = None
        loss.sum().backward()
        assert np.isfinite(loss.numpy()).all() and np.isfinite(z.grad.numpy()).all()
    np.testing.assert_allclose(
        ops.categorical_crossentropy(t, ops.softmax(z)).numpy(), [2000.0], rtol=1e-6
    )


def test_crossentropy_errors_name_what_came_in():
    with pytest.raises(
        ValueError,
        match="categorical_crossentropy: `target` and `output` must have the same shape",
    ):
        ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="one-hot labels\\? use categorical_crossentropy"):
        ops.sparse_categorical_crossentropy(np.eye(3), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        ops.sparse_categorical_crossentropy(np.array([0, 5]), np.ones((2, 3)))
    with pytest.raises(
        ValueError, match="binary_crossentropy: `target` and `output` shapes do not broadcast"
    ):
        ops.binary_crossentropy(np.ones((2, 3)), np.ones((2, 4)))


def test_dropout_seeded_scaled_and_differentiable():
    x = np.ones((200, 50))
    a = ops.dropout(x, 0.3, seed=7).numpy()
    b = ops.dropout(x, 0.3, seed=7).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.unique(a), [0.0, 1 / 0.7])
    assert abs((a == 0).mean() - 0.3) < 0.02
    assert gradcheck(lambda v: ops.dropout(v, 0.5, seed=3), (RNG.standard_normal((4, 5)),))
    shared = (RNG.standard_normal((4, 3, 5)),)  # one mask value per (sample, channel)
    assert gradcheck(lambda v: ops.dropout(v, 0.5, (None, 1, None), seed=3), shared)
    assert gradgradcheck(lambda v: ops.dropout(v, 0.5, seed=3) ** 2, shared)
    masked = ops.dropout(np.ones((4, 3, 5)), 0.5, (None, 1, None), seed=3).numpy()
    assert (masked == masked[:, :1]).all()
    # without a seed every call draws a new mask from the library's generator
    assert not np.array_equal(ops.dropout(x, 0.5).numpy(), ops.dropout(x, 0.5).numpy())
    with pytest.raises(ValueError, match=r"dropout: `rate` must be in \[0, 1\)"):
        ops.dropout(x, 1.0)


def test_layer_and_rms_normalization():
    x = RNG.standard_normal((3, 5))
    g, b = RNG.standard_normal(5), RNG.standard_normal(5)
    assert gradcheck(lambda v, gg, bb: ops.layer_normalization(v, gg, bb, epsilon=1e-5), (x, g, b))
    assert gradcheck(lambda v, gg: ops.rms_normalization(v, gg), (x, g))
    y = ops.layer_normalization(x.astype(np.float32), g.astype(np.float32), b.astype(np.float32))
    # Keras's default epsilon for the ops is backend.epsilon() (1e-7; the layers pass 1e-3)
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-7) * g + b
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)
    ref_rms = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-7) * g
    np.testing.assert_allclose(ops.rms_normalization(x, g).numpy(), ref_rms, rtol=1e-6)


@pytest.mark.parametrize(
    "shape, axis",
    [((2, 3, 6), -1), ((2, 3, 6), (-2, -1)), ((4, 3), 0), ((2, 1, 5), -1)],
    ids=["last axis, rank 3", "two axes", "first axis", "size-1 axis"],
)
@pytest.mark.parametrize("params", ["none", "gamma", "gamma and beta"])
def test_layer_normalization_over_axes_with_and_without_parameters(shape, axis, params):
    x = RNG.standard_normal(shape)
    axes = tuple(a % len(shape) for a in np.atleast_1d(axis))
    pshape = tuple(n if i in axes else 1 for i, n in enumerate(shape))
    gamma, beta = RNG.standard_normal(pshape), RNG.standard_normal(pshape)
    args = {"none": (), "gamma": (gamma,), "gamma and beta": (gamma, beta)}[params]
    mu, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    ref = (x - mu) / np.sqrt(var + 1e-7)
    ref = ref * gamma if args else ref
    ref = ref + beta if len(args) == 2 else ref
    f = lambda v, *p: ops.layer_normalization(v, *p, axis=axis)  # noqa: E731
    np.testing.assert_allclose(f(x, *args).numpy(), ref, rtol=1e-10, atol=1e-10)
    assert gradcheck(f, (x, *args))
    assert gradcheck(lambda v, *p: ops.rms_normalization(v, *p[:1], axis=axis), (x, *args[:1]))


def test_batch_norm_train_and_inference_forms():
    x = RNG.standard_normal((6, 4, 3))
    g, b = RNG.standard_normal(3), RNG.standard_normal(3)
    assert gradcheck(lambda v, gg, bb: ops.batch_norm_train(v, gg, bb, axis=-1)[0], (x, g, b))
    y, m, v = ops.batch_norm_train(x, g, b)
    np.testing.assert_allclose(m, x.mean((0, 1)))
    np.testing.assert_allclose(v, x.var((0, 1)))
    mean, var = x.mean((0, 1)), x.var((0, 1))
    assert gradcheck(lambda vv: ops.batch_normalization(vv, mean, var, -1, b, g), (x,))
    assert gradgradcheck(lambda vv: ops.batch_normalization(vv * vv, mean, var, -1, b, g), (x,))
    np.testing.assert_allclose(
        y.numpy(), ops.batch_normalization(x, mean, var, -1, b, g).numpy(), rtol=1e-10
    )


def test_fused_ops_refuse_second_order():
    x = shendu.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match="Normalize is first-order only"):
        shendu.grad((ops.layer_normalization(x) * x).sum(), x, create_graph=True)


class _Stats:
    mean = np.array([1.0, -2.0, 0.5])
    variance = np.array([4.0, 0.25, 0.0])  # a zero variance is floored at 1e-7


@pytest.mark.parametrize("invert", [False, True])
def test_standardize_values_and_gradients(invert):
    x = RNG.standard_normal((4, 3))
    got = ops.standardize(x, _Stats, invert=invert).numpy()
    std = np.sqrt(np.maximum(_Stats.variance, 1e-7))
    expected = x * std + _Stats.mean if invert else (x - _Stats.mean) / std
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    stats = type("S", (), {"mean": _Stats.mean[:2], "variance": _Stats.variance[:2]})
    assert gradcheck(lambda v: ops.standardize(v, stats, invert=invert), (x[:, :2],))
    assert gradgradcheck(lambda v: ops.standardize(v, stats, invert=invert) ** 2, (x[:, :2],))


def test_standardize_imputes_nan_with_no_gradient_there():
    x = RNG.standard_normal((3, 3))
    x[1, 2] = np.nan
    t = shendu.tensor(x, requires_grad=True)
    y = ops.standardize(t, _Stats, impute_nan=True)
    assert y.numpy()[1, 2] == 0.0 and np.isfinite(y.numpy()).all()
    y.sum().backward()
    assert t.grad.numpy()[1, 2] == 0.0
    np.testing.assert_allclose(
        t.grad.numpy()[0], 1 / np.sqrt(np.maximum(_Stats.variance, 1e-7)), rtol=1e-12
    )
    stats = type("S", (), {"mean": _Stats.mean[:2], "variance": _Stats.variance[:2]})
    assert gradcheck(lambda v: ops.standardize(v, stats, impute_nan=True), (x[:, :2],))
