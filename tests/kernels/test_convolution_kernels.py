"""Convolution by tiles: the numba loops against their NumPy references, and the op's tiled
path against its whole-im2col path (values and gradients)."""

import importlib

import numpy as np
import pytest

from shendu import ops
from shendu.autograd.tensor import Tensor
from shendu.kernels import convolution as K

conv_op = importlib.import_module("shendu.ops.conv")  # the module, not ops.conv

pytest.importorskip("numba")
if K._linked() is None:
    pytest.skip("the convolution loops need OpenBLAS's sgemm", allow_module_level=True)

# (input shape, kernel size, channels out, strides, padding, dilation)
GEOMETRIES = [
    ((2, 7, 8, 3), (3, 3), 5, (1, 1), "same", (1, 1)),
    ((3, 9, 9, 8), (3, 3), 6, (2, 2), "same", (1, 1)),  # a run of 24: sliced copies
    ((2, 10, 9, 2), (3, 2), 4, (2, 1), "valid", (1, 1)),
    ((2, 11, 11, 16), (3, 3), 2, (1, 1), "same", (2, 2)),  # dilated: position by position
    ((4, 8, 8, 16), (1, 1), 8, (2, 2), "valid", (1, 1)),
    ((1, 5, 6, 1), (5, 5), 3, (1, 1), "same", (1, 1)),  # windows overhang on every side
]


def _geometry(shape, kernel, strides, padding, dilation):
    pads = conv_op._pads(shape[1:3], kernel, strides, dilation, padding)
    (pt, pb), (pl, pr) = pads
    oh = (shape[1] + pt + pb - (kernel[0] - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (shape[2] + pl + pr - (kernel[1] - 1) * dilation[1] - 1) // strides[1] + 1
    return (*kernel, *strides, *dilation, pt, pl), (oh, ow)


@pytest.mark.parametrize("shape,kernel,cout,strides,padding,dilation", GEOMETRIES)
@pytest.mark.parametrize("rows", [16, 64])
def test_loops_equal_their_references(shape, kernel, cout, strides, padding, dilation, rows):
    r = np.random.default_rng(0)
    x = r.standard_normal(shape).astype(np.float32)
    k = kernel[0] * kernel[1] * shape[-1]
    w2 = r.standard_normal((k, cout)).astype(np.float32)
    b = r.standard_normal(cout).astype(np.float32)
    geometry, (oh, ow) = _geometry(shape, kernel, strides, padding, dilation)
    g2 = r.standard_normal((shape[0] * oh * ow, cout)).astype(np.float32)
    results = []
    for path in ("reference", "compiled"):
        call = {
            name: getattr(kernel_, path) if path == "reference" else kernel_.compiled()
            for name, kernel_ in (
                ("forward", K.CONV_FORWARD),
                ("weight", K.CONV_WEIGHT_GRAD),
                ("input", K.CONV_INPUT_GRAD),
            )
        }
        tile = np.empty((rows, k), np.float32)
        y = np.empty((shape[0], oh, ow, cout), np.float32)
        n = shape[0]
        call["forward"](x, w2, b, True, geometry, y, tile, 0, 1)  # two blocks of samples
        call["forward"](x, w2, b, True, geometry, y, tile, 1, n)
        dw = np.zeros((k, cout), np.float32)
        call["weight"](x, g2, geometry, (oh, ow), dw, tile, 0, n)
        gx = np.full(shape, np.nan, np.float32)  # every element written
        call["input"](g2, np.ascontiguousarray(w2.T), geometry, gx, tile, 0, n, (oh, ow))
        results.append((y, dw, gx))
    for a, c in zip(*results):
        np.testing.assert_allclose(c, a, rtol=2e-5, atol=2e-5)
    assert (results[1][0] >= 0).all()  # the ReLU


def _conv(mode, kernel_mode, shape, kernel, cout, strides, padding, dilation, act, bias):
    kernel_mode(mode)
    r = np.random.default_rng(1)
    x = Tensor(r.standard_normal(shape).astype(np.float32), requires_grad=True)
    w = Tensor(
        r.standard_normal((*kernel, shape[-1], cout)).astype(np.float32), requires_grad=True
    )
    b = Tensor(r.standard_normal(cout).astype(np.float32), requires_grad=True) if bias else None
    y = ops.conv(x, w, strides, padding, dilation_rate=dilation, bias=b, activation=act)
    (y * Tensor(r.standard_normal(y.shape).astype(np.float32))).sum().backward()
    grads = [x.grad, w.grad] + ([b.grad] if bias else [])
    return [y.data] + [np.asarray(getattr(g, "data", g)) for g in grads]


@pytest.mark.parametrize("act,bias", [("relu", True), (None, False), ("tanh", True)])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_the_tiled_op_equals_the_whole_im2col(geometry, act, bias, kernel_mode):
    whole = _conv("numpy", kernel_mode, *geometry, act, bias)
    tiled = _conv("numba", kernel_mode, *geometry, act, bias)
    for a, c in zip(whole, tiled):
        np.testing.assert_allclose(c, a, rtol=3e-5, atol=3e-5)


def test_which_convolutions_run_by_tiles(kernel_mode):
    kernel_mode("numba")
    x8 = np.zeros((2, 6, 6, 8), np.float32)
    w8 = np.zeros((3, 3, 8, 4), np.float32)
    fn = conv_op.Conv2D((1, 1), "same", (1, 1), 1)
    assert fn._runs_tiled(np, x8, w8, None)
    assert not fn._runs_tiled(np, x8[..., :1], w8[:, :, :1], None)  # few channels: whole
    assert not fn._runs_tiled(np, x8.astype(np.float64), w8.astype(np.float64), None)
    assert not conv_op.Conv2D((1, 1), "same", (1, 1), 2)._runs_tiled(np, x8, w8[:, :, :4], None)
    kernel_mode("numpy")
    assert not fn._runs_tiled(np, x8, w8, None)


def test_the_tiled_path_keeps_the_input_not_the_columns(kernel_mode):
    kernel_mode("numba")
    x = Tensor(np.ones((2, 8, 8, 16), np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 3, 16, 4), np.float32), requires_grad=True)
    y = ops.conv(x, w, padding="same")
    assert y.creator.tiled and not hasattr(y.creator, "cols")
