"""Max pooling's backward loop against its NumPy reference (ties, odd sizes, dtypes), and
the op's gradient on both paths."""

import numpy as np
import pytest

from shendu.autograd.tensor import Tensor
from shendu.kernels import pooling as K
from shendu.ops.conv import max_pool

pytest.importorskip("numba")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,pool",
    [
        ((2, 4, 4, 3), (2, 2)),
        ((3, 7, 5, 1), (2, 2)),
        ((1, 6, 6, 5), (3, 2)),
        ((0, 4, 4, 2), (2, 2)),
    ],
)
def test_loop_matches_reference(shape, pool, dtype):
    r = np.random.default_rng(0)
    x = r.integers(0, 3, shape).astype(dtype)  # many ties: the first maximum takes it
    ph, pw = pool
    oh, ow = shape[1] // ph, shape[2] // pw
    win = x[:, : oh * ph, : ow * pw].reshape(shape[0], oh, ph, ow, pw, shape[3])
    y = win.max(axis=(2, 4))
    gy = r.standard_normal(y.shape).astype(dtype)
    out = []
    for fn in (K.MAX_POOL_BACKWARD.reference, K.MAX_POOL_BACKWARD.compiled()):
        gx = np.zeros(shape, dtype)
        fn(x, y, gy, gx, ph, pw, 0, shape[0])
        out.append(gx)
    np.testing.assert_array_equal(out[1], out[0])
    # each window's gradient lands once
    np.testing.assert_allclose(out[1].sum(), gy.sum(), rtol=1e-5)


@pytest.mark.parametrize("shape", [(2, 6, 6, 3), (2, 7, 9, 4)])
def test_op_gradient_equal_on_both_paths(shape, kernel_mode):
    grads = []
    for mode in ("numpy", "numba"):
        kernel_mode(mode)
        r = np.random.default_rng(1)
        x = Tensor(r.standard_normal(shape).astype(np.float32), requires_grad=True)
        y = max_pool(x, 2)
        (y * Tensor(r.standard_normal(y.shape).astype(np.float32))).sum().backward()
        grads.append(np.asarray(x.grad.data if hasattr(x.grad, "data") else x.grad))
    np.testing.assert_array_equal(grads[1], grads[0])


def test_non_contiguous_input():
    r = np.random.default_rng(3)
    x = r.standard_normal((2, 6, 6, 8)).astype(np.float32)[..., ::2]  # strided channels
    y = x.reshape(2, 3, 2, 3, 2, 4).max(axis=(2, 4))
    gy = r.standard_normal(y.shape).astype(np.float32)[..., ::-1]  # negative strides
    out = []
    for fn in (K.MAX_POOL_BACKWARD.reference, K.MAX_POOL_BACKWARD.compiled()):
        gx = np.zeros(x.shape, np.float32)
        fn(x, y, gy, gx, 2, 2, 0, 2)
        out.append(gx)
    np.testing.assert_array_equal(out[1], out[0])
