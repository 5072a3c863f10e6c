"""Convolution and pooling: forward against explicit loops, float64 gradient checks, errors."""

import numpy as np
import pytest

from shendu import ops
from shendu.ops.conv import _same_padding
from shendu.testing import gradcheck

RNG = np.random.default_rng(0)


def conv2d_loop(x, w, stride, padding, dilation, groups=1):
    n, h, wd, c = x.shape
    kh, kw, cin_g, cout = w.shape
    if padding == "same":
        (t, b) = _same_padding(h, kh, stride[0], dilation[0])
        (l, r) = _same_padding(wd, kw, stride[1], dilation[1])
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    _, h, wd, _ = x.shape
    oh = (h - (kh - 1) * dilation[0] - 1) // stride[0] + 1
    ow = (wd - (kw - 1) * dilation[1] - 1) // stride[1] + 1
    y = np.zeros((n, oh, ow, cout))
    og = cout // groups
    for i in range(oh):
        for j in range(ow):
            for o in range(cout):
                gi = o // og
                patch = x[
                    :,
                    i * stride[0] : i * stride[0] + (kh - 1) * dilation[0] + 1 : dilation[0],
                    j * stride[1] : j * stride[1] + (kw - 1) * dilation[1] + 1 : dilation[1],
                    gi * cin_g : (gi + 1) * cin_g,
                ]
                y[:, i, j, o] = (patch * w[:, :, :, o]).sum(axis=(1, 2, 3))
    return y


CONV_CASES = [
    dict(shape=(2, 5, 6, 3), k=(3, 3, 3, 4), strides=1, padding="valid", dilation=1),
    dict(shape=(2, 5, 6, 3), k=(3, 2, 3, 4), strides=2, padding="same", dilation=1),
    dict(shape=(1, 7, 7, 2), k=(3, 3, 2, 2), strides=1, padding="same", dilation=2),
    dict(shape=(2, 6, 5, 4), k=(3, 3, 2, 4), strides=1, padding="valid", dilation=1),  # groups=2
    dict(shape=(2, 5, 5, 3), k=(3, 3, 1, 3), strides=2, padding="same", dilation=1),  # depthwise
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_forward_and_gradients(case):
    x = RNG.standard_normal(case["shape"])
    w = RNG.standard_normal(case["k"])
    groups = x.shape[-1] // w.shape[-2]
    s, d = (case["strides"],) * 2, (case["dilation"],) * 2

    def f(a, b):
        return ops.conv(a, b, case["strides"], case["padding"], dilation_rate=case["dilation"])

    ref = conv2d_loop(x, w, s, case["padding"], d, groups)
    got = f(x.astype(np.float32), w.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-4)
    assert gradcheck(f, (x, w))


def test_conv1d_and_causal_and_channels_first():
    x = RNG.standard_normal((2, 7, 3))
    w = RNG.standard_normal((3, 3, 4))
    ref = conv2d_loop(x[:, None], w[None], (1, 2), "same", (1, 1))[:, 0]
    np.testing.assert_allclose(ops.conv(x, w, 2, "same").numpy(), ref, atol=1e-10)
    assert gradcheck(lambda a, b: ops.conv(a, b, 2, "same"), (x, w))
    assert gradcheck(lambda a, b: ops.conv(a, b, 1, "causal"), (x, w))
    causal = ops.conv(x, w, 1, "causal").numpy()
    assert causal.shape == (2, 7, 4)
    np.testing.assert_allclose(causal[:, 2:], ops.conv(x, w, 1, "valid").numpy(), atol=1e-10)
    xc = np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(
        np.moveaxis(ops.conv(xc, w, 1, "valid", data_format="channels_first").numpy(), 1, -1),
        ops.conv(x, w).numpy(),
        atol=1e-10,
    )


def test_depthwise_conv_matches_grouped_loop():
    x = RNG.standard_normal((2, 5, 5, 3))
    w = RNG.standard_normal((3, 3, 3, 2))  # multiplier 2
    ref = conv2d_loop(x, w.reshape(3, 3, 1, 6), (1, 1), "valid", (1, 1), groups=3)
    np.testing.assert_allclose(ops.depthwise_conv(x, w).numpy(), ref, atol=1e-10)
    assert gradcheck(lambda a, b: ops.depthwise_conv(a, b), (x, w))


def conv_transpose_loop(x, w, stride):
    n, h, wd, cin = x.shape
    kh, kw, cout, _ = w.shape
    y = np.zeros((n, (h - 1) * stride + kh, (wd - 1) * stride + kw, cout))
    for i in range(h):
        for j in range(wd):
            y[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :] += np.einsum(
                "nc,ijoc->nijo", x[:, i, j, :], w
            )
    return y


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_transpose_is_the_adjoint_of_conv(stride):
    x = RNG.standard_normal((2, 4, 3, 3))
    w = RNG.standard_normal((3, 3, 2, 3))
    y = ops.conv_transpose(x, w, stride, "valid").numpy()
    np.testing.assert_allclose(y, conv_transpose_loop(x, w, stride), atol=1e-10)
    assert gradcheck(lambda a, b: ops.conv_transpose(a, b, stride, "same"), (x, w))
    assert gradcheck(lambda a, b: ops.conv_transpose(a, b, stride, "valid"), (x, w))
    # <conv_transpose(x), z> == <x, conv(z)> (adjointness with the same kernel)
    z = RNG.standard_normal(y.shape)
    lhs = (y * z).sum()
    rhs = (x * ops.conv(z, w, stride, "valid").numpy()).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    assert ops.conv_transpose(x, w, stride, "same").shape == (2, 4 * stride, 3 * stride, 2)


def test_conv_transpose_1d():
    x = RNG.standard_normal((2, 5, 3))
    w = RNG.standard_normal((3, 4, 3))
    assert ops.conv_transpose(x, w, 2, "same").shape == (2, 10, 4)
    assert gradcheck(lambda a, b: ops.conv_transpose(a, b, 2, "valid"), (x, w))


def pool_loop(x, k, s, mode):
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * s : i * s + k, j * s : j * s + k, :]
            y[:, i, j] = patch.max(axis=(1, 2)) if mode == "max" else patch.mean(axis=(1, 2))
    return y


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("k,s", [(2, 2), (3, 1), (3, 2)])
def test_pool2d(mode, k, s):
    x = RNG.standard_normal((2, 7, 6, 3))
    fn = ops.max_pool if mode == "max" else ops.average_pool
    got = fn(x.astype(np.float32), k, s).numpy()
    np.testing.assert_allclose(got, pool_loop(x, k, s, mode), rtol=1e-6, atol=1e-6)
    assert gradcheck(lambda a: fn(a, k, s), (x,))
    assert gradcheck(lambda a: fn(a, k, s, padding="same"), (x,))


def test_pool_same_average_counts_only_real_entries_and_1d():
    x = np.ones((1, 3, 3, 1))
    np.testing.assert_allclose(ops.average_pool(x, 2, 2, "same").numpy(), np.ones((1, 2, 2, 1)))
    x1 = RNG.standard_normal((2, 9, 3))
    y = ops.max_pool(x1, 3).numpy()
    np.testing.assert_allclose(y, x1.reshape(2, 3, 3, 3).max(2))
    assert gradcheck(lambda a: ops.average_pool(a, 2, 1), (x1,))


def test_conv_and_pool_errors():
    with pytest.raises(
        ValueError,
        match=r"conv: expected a kernel of rank 3. Received: kernel shape=\(3, 3, 3, 1\)",
    ):
        ops.conv(np.ones((5, 5, 3)), np.ones((3, 3, 3, 1)))
    with pytest.raises(
        ValueError,
        match=r"conv: supports 1-D, 2-D and 3-D convolution .*Received: input shape=\(5, 3\)",
    ):
        ops.conv(np.ones((5, 3)), np.ones((3, 3, 1)))
    with pytest.raises(
        ValueError,
        match="conv: input channels 3 are not a multiple of the kernel's input channels 2",
    ):
        ops.conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 1)))
    with pytest.raises(
        ValueError, match="Expected `padding` 'valid' or 'same'. Received: padding='full'"
    ):
        ops.conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 1)), padding="full")
    with pytest.raises(ValueError, match="smaller than the \\(dilated\\) window"):
        ops.conv(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="Expected `strides` as 2 positive integers"):
        ops.conv(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), strides=0)
    with pytest.raises(ValueError, match="max_pool: expected an input of rank 3, 4 or 5"):
        ops.max_pool(np.ones((4, 4)), 2)


def test_torch_oracle_conv_pool():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 8, 8, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 5)).astype(np.float32)
    tx = torch.tensor(np.moveaxis(x, -1, 1))
    tw = torch.tensor(np.transpose(w, (3, 2, 0, 1)))
    # Keras/TF 'same' with stride 2 on an even size pads (0, 1): the extra row goes at the end
    padded = torch.nn.functional.pad(tx, (0, 1, 0, 1))
    ref = torch.nn.functional.conv2d(padded, tw, stride=2).numpy()
    got = ops.conv(x, w, 2, "same").numpy()
    np.testing.assert_allclose(got, np.moveaxis(ref, 1, -1), rtol=1e-4, atol=1e-4)
    ref_pool = torch.nn.functional.max_pool2d(tx, 2).numpy()
    np.testing.assert_allclose(ops.max_pool(x, 2).numpy(), np.moveaxis(ref_pool, 1, -1))
    wt = RNG.standard_normal((3, 3, 4, 3)).astype(np.float32)  # (kh, kw, out, in)
    ref_t = torch.nn.functional.conv_transpose2d(
        tx, torch.tensor(np.transpose(wt, (3, 2, 0, 1))), stride=2
    )
    np.testing.assert_allclose(
        ops.conv_transpose(x, wt, 2, "valid").numpy(),
        np.moveaxis(ref_t.numpy(), 1, -1),
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize("channels", [3, 4], ids=["bias in the product", "bias added"])
def test_conv_with_fused_bias(channels):
    x = RNG.standard_normal((2, 5, 5, channels))
    w = RNG.standard_normal((3, 3, channels, 4))
    b = RNG.standard_normal(4)
    np.testing.assert_allclose(
        ops.conv(x, w, bias=b).numpy(), ops.conv(x, w).numpy() + b, atol=1e-12
    )
    assert gradcheck(lambda a, k, c: ops.conv(a, k, 1, "same", bias=c), (x, w, b))
    # a float64 bias on float32 data keeps the output float32, as an added bias would
    assert ops.conv(x.astype(np.float32), w.astype(np.float32), bias=b).dtype == np.float32
    xc = np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(
        ops.conv(xc, w, data_format="channels_first", bias=b).numpy(),
        np.moveaxis(ops.conv(x, w).numpy() + b, -1, 1),
        atol=1e-12,
    )
    x1 = RNG.standard_normal((2, 6, channels))
    assert gradcheck(
        lambda a, k, c: ops.conv(a, k, bias=c), (x1, RNG.standard_normal((3, channels, 4)), b)
    )


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("needs", [(False, True, True), (False, True, False), (True, False, True)])
def test_conv_gradients_of_only_some_inputs(channels, needs):
    # 27 columns: the bias rides in the products (a ones column); 36: added and summed apart
    from shendu.ops.conv import BIAS_IN_PRODUCT_MAX_COLUMNS, Conv2D

    x = RNG.standard_normal((2, 6, 6, channels)).astype(np.float32)
    w = RNG.standard_normal((3, 3, channels, 5)).astype(np.float32)
    b = RNG.standard_normal(5).astype(np.float32)
    op = Conv2D((1, 1), "valid", (1, 1), 1, "relu")
    op.recording, op.needs_input_grad = True, needs
    y = op.forward(x, w, b)
    assert op.bias_in_product == (9 * channels <= BIAS_IN_PRODUCT_MAX_COLUMNS)
    ref = np.maximum(conv2d_loop(x, w, (1, 1), "valid", (1, 1)) + b, 0)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    gy = RNG.standard_normal(y.shape).astype(np.float32)
    gx, gw, gb = op.backward(gy)
    g = gy * (ref > 0)  # through the ReLU
    assert (gx is None) != needs[0] and (gw is None) != needs[1] and (gb is None) != needs[2]
    if needs[1]:
        cols = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
        expected = np.einsum("nhwcij,nhwo->ijco", cols, g)
        np.testing.assert_allclose(gw, expected, rtol=1e-4, atol=1e-4)
    if needs[2]:
        np.testing.assert_allclose(gb, g.sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)


ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_with_fused_activation(activation, data_format):
    x = RNG.standard_normal((2, 5, 5, 3))
    w = RNG.standard_normal((3, 3, 3, 4))
    b = RNG.standard_normal(4)
    expected = ACTIVATIONS[activation](ops.conv(x, w, padding="same").numpy() + b)
    if data_format == "channels_first":
        x, expected = np.moveaxis(x, -1, 1), np.moveaxis(expected, -1, 1)

    def f(a, k, c):
        return ops.conv(a, k, 1, "same", data_format, bias=c, activation=activation)

    np.testing.assert_allclose(f(x, w, b).numpy(), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(f, (x, w, b))


def test_conv_1d_with_fused_activation_and_no_bias():
    x, w = RNG.standard_normal((2, 6, 3)), RNG.standard_normal((3, 3, 4))
    assert gradcheck(lambda a, k: ops.conv(a, k, padding="causal", activation="tanh"), (x, w))


def test_conv_rejects_an_activation_it_cannot_fuse():
    x, w = RNG.standard_normal((1, 4, 4, 1)), RNG.standard_normal((3, 3, 1, 2))
    with pytest.raises(
        ValueError,
        match="conv: `activation` must be None, 'relu', 'tanh' or "
        "'sigmoid'. Received: activation='softmax'",
    ):
        ops.conv(x, w, activation="softmax")


@pytest.mark.parametrize("stride, dilation", [((1, 1), (1, 1)), ((2, 1), (1, 2))])
def test_conv_with_one_input_channel(stride, dilation):
    # one channel takes its own im2col path (copied kernel position by kernel position)
    x, w = RNG.standard_normal((2, 7, 6, 1)), RNG.standard_normal((3, 2, 1, 4))
    got = ops.conv(x, w, stride, "valid", dilation_rate=dilation).numpy()
    np.testing.assert_allclose(got, conv2d_loop(x, w, stride, "valid", dilation), atol=1e-12)
    assert gradcheck(lambda a, k: ops.conv(a, k, stride, "same", dilation_rate=dilation), (x, w))
