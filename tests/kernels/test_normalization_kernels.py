"""Layer and batch normalisation's numba loops against their NumPy references, and the ops
on both paths (values and gradients)."""

import numpy as np
import pytest

import shendu
from shendu.autograd.tensor import Tensor
from shendu.kernels import normalization as K
from shendu.ops import nn

pytest.importorskip("numba")


def _case(rows, n, dtype, affine, seed=0):
    r = np.random.default_rng(seed)
    x = (r.standard_normal((rows, n)) * 3 + 1).astype(dtype)
    gamma = r.standard_normal(n).astype(dtype) if affine else np.empty(0, dtype)
    beta = r.standard_normal(n).astype(dtype) if affine else np.empty(0, dtype)
    gy = r.standard_normal((rows, n)).astype(dtype)
    return x, gamma, beta, gy


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows,n", [(0, 4), (1, 2), (5, 7), (33, 128)])
def test_forward_and_backward_loops(rows, n, dtype, affine, rms):
    x, gamma, beta, gy = _case(rows, n, dtype, affine)
    outs = []
    for forward, backward in (
        (K.LAYER_NORM_FORWARD.reference, K.LAYER_NORM_BACKWARD.reference),
        (K.LAYER_NORM_FORWARD.compiled(), K.LAYER_NORM_BACKWARD.compiled()),
    ):
        y, xhat, inv = np.empty_like(x), np.empty_like(x), np.empty(rows, dtype)
        forward(x, gamma, beta, 1e-3, rms, y, xhat, inv)
        gx = np.empty_like(x)
        dgamma, dbeta = np.empty(n if affine else 0, dtype), np.empty(n if affine else 0, dtype)
        backward(gy, xhat, inv, gamma, rms, gx, dgamma, dbeta)
        outs.append((y, xhat, inv, gx, dgamma, dbeta))
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


def _layer_norm(mode, select, shape, rms, dtype=np.float32):
    select(mode)
    r = np.random.default_rng(1)
    x = Tensor(r.standard_normal(shape).astype(dtype), requires_grad=True)
    gamma = Tensor(r.standard_normal(shape[-1]).astype(dtype), requires_grad=True)
    beta = Tensor(r.standard_normal(shape[-1]).astype(dtype), requires_grad=True)
    fn = nn.rms_normalization if rms else nn.layer_normalization
    y = (
        fn(x, gamma, beta, axis=-1, epsilon=1e-5)
        if not rms
        else fn(x, gamma, axis=-1, epsilon=1e-5)
    )
    (y * Tensor(r.standard_normal(shape).astype(dtype))).sum().backward()
    grads = [t.grad for t in ((x, gamma) if rms else (x, gamma, beta))]
    return [y.data] + [np.asarray(getattr(g, "data", g)) for g in grads]


@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 8), (5, 1, 3)])
def test_layer_norm_op_equal_on_both_paths(shape, rms, kernel_mode):
    ref = _layer_norm("numpy", kernel_mode, shape, rms)
    got = _layer_norm("numba", kernel_mode, shape, rms)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)


def test_layer_normalization_layer_trains_equal_on_both_paths(kernel_mode):
    weights = []
    for mode in ("numpy", "numba"):
        kernel_mode(mode)
        shendu.set_random_seed(2)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((32, 5, 8)).astype(np.float32)
        y = rng.standard_normal((32, 5, 3)).astype(np.float32)
        model = shendu.Sequential(
            [
                shendu.layers.Input((5, 8)),
                shendu.layers.Dense(8),
                shendu.layers.LayerNormalization(),
                shendu.layers.Dense(3),
            ]
        )
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=8, epochs=5, verbose=0, shuffle=False)  # 20 steps
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def _batch_norm_passes(kernels, x, gamma, beta, gy, block_rows, splits):
    """Batch norm forward and backward by the ops' passes, each pass's range cut at
    ``splits`` (as threads would take it)."""
    sums_k, normalize, grad_sums, input_grad = kernels
    rows, n = x.shape
    dtype = x.dtype
    blocks = -(-rows // block_rows)

    def over(fn, total):
        bounds = [0, *(b for b in splits if b < total), total]
        for a, e in zip(bounds, bounds[1:]):
            fn(a, e)

    sums = np.empty((blocks, n))
    over(lambda a, e: sums_k(x, np.zeros(n, dtype), False, sums, block_rows, a, e), blocks)
    mean = (sums.sum(0) / rows).astype(dtype)
    over(lambda a, e: sums_k(x, mean, True, sums, block_rows, a, e), blocks)
    var = (sums.sum(0) / rows).astype(dtype)
    inv = (1 / np.sqrt(var.astype(np.float64) + 1e-3)).astype(dtype)
    y, xhat = np.empty_like(x), np.empty_like(x)
    over(lambda a, e: normalize(x, mean, inv, gamma, beta, y, xhat, a, e), rows)
    sums1, sums2 = np.empty((blocks, n)), np.empty((blocks, n))
    over(lambda a, e: grad_sums(gy, xhat, sums1, sums2, block_rows, a, e), blocks)
    s1, s2 = sums1.sum(0), sums2.sum(0)
    scale = inv * gamma if gamma.size else inv
    m1, m2 = (s1 / rows).astype(dtype), (s2 / rows).astype(dtype)
    gx = np.empty_like(x)
    over(lambda a, e: input_grad(gy, xhat, scale, m1, m2, gx, a, e), rows)
    return y, xhat, mean, var, inv, gx, s1, s2


BATCH_NORM_KERNELS = (
    K.BATCH_COLUMN_SUMS,
    K.BATCH_NORMALIZE,
    K.BATCH_GRADIENT_SUMS,
    K.BATCH_NORM_INPUT_GRAD,
)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows,n", [(1, 2), (5, 7), (300, 16)])
def test_batch_norm_loops_equal_their_references(rows, n, dtype, affine):
    x, gamma, beta, gy = _case(rows, n, dtype, affine)
    outs = [
        _batch_norm_passes([k.reference for k in BATCH_NORM_KERNELS], x, gamma, beta, gy, 64, ()),
        _batch_norm_passes([k.compiled() for k in BATCH_NORM_KERNELS], x, gamma, beta, gy, 64, ()),
    ]
    # the statistics themselves, from their definitions
    np.testing.assert_allclose(outs[1][2], x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[1][3], x.var(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[1][6], gy.sum(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs[1][7], (gy * outs[1][1]).sum(0), rtol=1e-5, atol=1e-5)
    tol = 3e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


@pytest.mark.parametrize("compiled", [False, True])
def test_batch_norm_passes_give_the_same_bits_however_the_ranges_are_cut(compiled):
    """The ops split each pass over threads; the blocks' partial sums are added in block
    order, so where the ranges are cut changes nothing."""
    x, gamma, beta, gy = _case(300, 16, np.float32, True)
    kernels = [k.compiled() if compiled else k.reference for k in BATCH_NORM_KERNELS]
    whole = _batch_norm_passes(kernels, x, gamma, beta, gy, 32, ())
    cut = _batch_norm_passes(kernels, x, gamma, beta, gy, 32, (1, 4, 7, 150, 299))
    for a, b in zip(whole, cut):
        np.testing.assert_array_equal(b, a)


def _batch_norm(mode, select, shape, dtype=np.float32):
    select(mode)
    r = np.random.default_rng(3)
    x = Tensor((r.standard_normal(shape) * 2 + 0.5).astype(dtype), requires_grad=True)
    gamma = Tensor(r.standard_normal(shape[-1]).astype(dtype), requires_grad=True)
    beta = Tensor(r.standard_normal(shape[-1]).astype(dtype), requires_grad=True)
    y, mean, var = nn.batch_norm_train(x, gamma, beta, axis=-1, epsilon=1e-3)
    (y * Tensor(r.standard_normal(shape).astype(dtype))).sum().backward()
    grads = [np.asarray(getattr(t.grad, "data", t.grad)) for t in (x, gamma, beta)]
    return [y.data, mean.data, var.data, *grads]


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 5, 8), (2, 7, 3)])
def test_batch_norm_op_equal_on_both_paths(shape, kernel_mode):
    ref = _batch_norm("numpy", kernel_mode, shape)
    got = _batch_norm("numba", kernel_mode, shape)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=3e-5, atol=3e-6)
    x = np.random.default_rng(3).standard_normal(shape) * 2 + 0.5
    np.testing.assert_allclose(ref[1], x.reshape(-1, shape[-1]).mean(0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["numpy", "numba"])
def test_batch_norm_gradients_on_both_paths(mode, kernel_mode):
    kernel_mode(mode)
    r = np.random.default_rng(4)
    x = r.standard_normal((4, 3, 3, 5))
    g, b = r.standard_normal(5), r.standard_normal(5)
    from shendu.testing import gradcheck

    assert gradcheck(lambda v, gg, bb: nn.batch_norm_train(v, gg, bb, axis=-1)[0], (x, g, b))


def test_batch_normalization_layer_trains_equal_on_both_paths(kernel_mode):
    weights = []
    for mode in ("numpy", "numba"):
        kernel_mode(mode)
        shendu.set_random_seed(2)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((32, 6, 6, 3)).astype(np.float32)
        y = rng.integers(0, 4, 32)
        model = shendu.Sequential(
            [
                shendu.layers.Input((6, 6, 3)),
                shendu.layers.Conv2D(8, 3, use_bias=False),
                shendu.layers.BatchNormalization(),
                shendu.layers.Activation("relu"),
                shendu.layers.GlobalAveragePooling2D(),
                shendu.layers.Dense(4),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
        weights.append(model.get_weights())  # moving mean and variance among them
    for a, b in zip(*weights):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
