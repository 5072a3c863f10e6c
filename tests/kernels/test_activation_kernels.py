"""GELU (erf form): the numba loops against their NumPy references and the C library's
erf, and the op on both paths."""

import math

import numpy as np
import pytest

import shendu
from shendu.autograd.tensor import Tensor
from shendu.kernels import activations as K

pytest.importorskip("numba")


def exact_gelu(x):
    x = np.asarray(x, np.float64)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def test_the_rational_erf_is_within_a_few_ulps_of_the_c_librarys():
    x = np.linspace(-6, 6, 24001, dtype=np.float32)
    got = K._erf_reference(np, x).astype(np.float64)
    want = np.vectorize(math.erf)(x.astype(np.float64))
    assert np.abs(got - want).max() < 5e-7
    assert K._erf_reference(np, np.float32([-50, 50])).tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_loops_equal_their_references_and_the_exact_form(size):
    r = np.random.default_rng(0)
    x = (r.standard_normal(size) * 3).astype(np.float32)
    gy = r.standard_normal(size).astype(np.float32)
    outs = []
    for forward, backward in (
        (K.GELU_FORWARD.reference, K.GELU_BACKWARD.reference),
        (K.GELU_FORWARD.compiled(), K.GELU_BACKWARD.compiled()),
    ):
        y, gx = np.full_like(x, np.nan), np.full_like(x, np.nan)
        forward(x, y, 0, size // 2)  # two ranges, as two threads take them
        forward(x, y, size // 2, size)
        backward(x, gy, gx, 0, size)
        outs.append((y, gx))
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=2e-6, atol=2e-6)
    y, dy = exact_gelu(x)
    np.testing.assert_allclose(outs[1][0], y, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(outs[1][1], gy * dy, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("mode", ["numpy", "numba"])
def test_the_gelu_op_on_both_paths(mode, kernel_mode):
    kernel_mode(mode)
    r = np.random.default_rng(1)
    x = Tensor((r.standard_normal((4, 33)) * 2).astype(np.float32), requires_grad=True)
    y = shendu.ops.gelu(x, approximate=False)
    assert y.creator.fused == (mode == "numba")  # (backward frees the node's state)
    gy = r.standard_normal((4, 33)).astype(np.float32)
    (y * Tensor(gy)).sum().backward()
    want_y, want_dy = exact_gelu(x.data)
    assert y.shape == (4, 33) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, want_y, rtol=1e-5, atol=2e-6)
    grad = np.asarray(getattr(x.grad, "data", x.grad))
    np.testing.assert_allclose(grad, gy * want_dy, rtol=1e-5, atol=2e-6)
