"""3-D convolution and pooling: forward against explicit loops, float64 gradient checks,
channels_first, errors."""

import numpy as np
import pytest

from shendu import ops
from shendu.ops.conv import _same_padding
from shendu.testing import gradcheck

RNG = np.random.default_rng(3)


def _padded(x, window, strides, dilation, padding, fill=0.0):
    if padding == "valid":
        return x
    pads = [(0, 0)] + [
        _same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[1:4], window, strides, dilation)
    ]
    return np.pad(x, pads + [(0, 0)], constant_values=fill)


def conv3d_loop(x, w, strides, padding, dilation, groups=1):
    x = _padded(x, w.shape[:3], strides, dilation, padding)
    n, dd, h, wd, _ = x.shape
    (kd, kh, kw, cin_g, cout), (sd, sh, sw), (ed, eh, ew) = w.shape, strides, dilation
    out = [
        (size - (k - 1) * e - 1) // s + 1
        for size, k, s, e in zip((dd, h, wd), (kd, kh, kw), strides, dilation)
    ]
    y = np.zeros((n, *out, cout))
    og = cout // groups
    for a in range(out[0]):
        for i in range(out[1]):
            for j in range(out[2]):
                for o in range(cout):
                    g = o // og
                    patch = x[:, a * sd : a * sd + (kd - 1) * ed + 1 : ed,
                              i * sh : i * sh + (kh - 1) * eh + 1 : eh,
                              j * sw : j * sw + (kw - 1) * ew + 1 : ew,
                              g * cin_g : (g + 1) * cin_g]  # fmt: skip
                    y[:, a, i, j, o] = (patch * w[..., o]).sum(axis=(1, 2, 3, 4))
    return y


def pool3d_loop(x, pool, strides, padding, mode):
    fill = -np.inf if mode == "max" else np.nan
    xp = _padded(x, pool, strides, (1, 1, 1), padding, fill)
    out = [(size - k) // s + 1 for size, k, s in zip(xp.shape[1:4], pool, strides)]
    y = np.zeros((x.shape[0], *out, x.shape[4]))
    for a in range(out[0]):
        for i in range(out[1]):
            for j in range(out[2]):
                win = xp[:, a * strides[0] : a * strides[0] + pool[0],
                         i * strides[1] : i * strides[1] + pool[1],
                         j * strides[2] : j * strides[2] + pool[2]]  # fmt: skip
                y[:, a, i, j] = (
                    win.max(axis=(1, 2, 3)) if mode == "max" else np.nanmean(win, axis=(1, 2, 3))
                )
    return y


CONV3D_CASES = [
    dict(shape=(2, 4, 5, 5, 2), k=(2, 3, 3, 2, 3), strides=1, padding="valid", dilation=1),
    dict(shape=(1, 5, 4, 6, 3), k=(3, 2, 3, 3, 2), strides=2, padding="same", dilation=1),
    dict(shape=(1, 6, 5, 5, 2), k=(2, 2, 2, 2, 2), strides=1, padding="same", dilation=2),
    dict(
        shape=(2, 4, 4, 4, 4), k=(2, 2, 2, 2, 4), strides=1, padding="valid", dilation=1
    ),  # groups=2
]


@pytest.mark.parametrize("case", CONV3D_CASES, ids=str)
def test_conv3d_forward_and_gradients(case):
    x = RNG.standard_normal(case["shape"])
    w = RNG.standard_normal(case["k"])
    groups = x.shape[-1] // w.shape[-2]

    def f(a, b):
        return ops.conv(a, b, case["strides"], case["padding"], dilation_rate=case["dilation"])

    ref = conv3d_loop(
        x, w, (case["strides"],) * 3, case["padding"], (case["dilation"],) * 3, groups
    )
    got = f(x.astype(np.float32), w.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-4)
    assert gradcheck(f, (x, w))


def test_conv3d_channels_first_bias_and_activation():
    x = RNG.standard_normal((2, 3, 4, 5, 4))  # channels first: C = 3
    w = RNG.standard_normal((2, 2, 2, 3, 2))
    b = RNG.standard_normal(2)
    got = ops.conv(x, w, 1, "same", "channels_first", bias=b, activation="relu").numpy()
    ref = conv3d_loop(x.transpose(0, 2, 3, 4, 1), w, (1, 1, 1), "same", (1, 1, 1)) + b
    np.testing.assert_allclose(
        got, np.maximum(ref, 0).transpose(0, 4, 1, 2, 3), rtol=1e-6, atol=1e-8
    )


def test_conv3d_refuses_causal_and_too_shallow_inputs():
    x, w = np.zeros((1, 4, 4, 4, 1)), np.zeros((2, 2, 2, 1, 1))
    with pytest.raises(
        ValueError,
        match="conv: 3-D windows take padding 'valid' or 'same'. Received: padding='causal'",
    ):
        ops.conv(x, w, 1, "causal")
    with pytest.raises(
        ValueError, match=r"conv: the input's depth 4 is smaller than the \(dilated\) window 5"
    ):
        ops.conv(x, np.zeros((5, 2, 2, 1, 1)))


POOL_CASES = [
    ((2, 4, 4, 4, 3), (2, 2, 2), (2, 2, 2), "valid"),
    ((1, 5, 6, 5, 2), (2, 3, 2), (2, 2, 1), "same"),
    ((1, 5, 5, 4, 2), (3, 3, 3), (1, 2, 2), "valid"),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("shape,pool,strides,padding", POOL_CASES, ids=str)
def test_pool3d_forward_and_gradients(shape, pool, strides, padding, mode):
    x = RNG.standard_normal(shape)
    fn = ops.max_pool if mode == "max" else ops.average_pool

    def f(a):
        return fn(a, pool, strides, padding)

    np.testing.assert_allclose(
        f(x).numpy(), pool3d_loop(x, pool, strides, padding, mode), rtol=1e-12
    )
    assert gradcheck(f, (x,))


def test_max_pool3d_gradient_goes_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 2, 1))  # every entry ties: the first in (d, h, w) order takes it
    from shendu.autograd.tensor import Tensor

    t = Tensor(x, requires_grad=True)
    ops.max_pool(t, 2).sum().backward()
    g = np.asarray(getattr(t.grad, "data", t.grad)).reshape(-1)
    assert g.tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("strides,padding", [(1, "valid"), (2, "same"), ((2, 1, 3), "valid")])
def test_conv_transpose3d_is_the_adjoint_of_conv3d(strides, padding):
    x = RNG.standard_normal((2, 4, 5, 4, 3))
    w = RNG.standard_normal((2, 3, 2, 3, 2))  # conv: 3 -> 2 channels; transpose: 2 -> 3
    y = ops.conv(x, w, strides, padding).numpy()
    g = RNG.standard_normal(y.shape)
    back = ops.conv_transpose(g, w, strides, padding).numpy()
    if back.shape == x.shape:
        np.testing.assert_allclose((y * g).sum(), (x * back).sum(), rtol=1e-10)
    assert gradcheck(lambda a, b: ops.conv_transpose(a, b, strides, padding), (g, w))
