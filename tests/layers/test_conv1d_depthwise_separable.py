"""DepthwiseConv1D and SeparableConv1D: weight shapes as Keras 3.15's, values against a
NumPy loop, a config round trip and a training step."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

X = np.random.default_rng(0).standard_normal((2, 9, 3)).astype("float32")


def _depthwise(x, k, stride=1):
    n, length, c = x.shape
    size, _, m = k.shape
    steps = (length - size) // stride + 1
    out = np.zeros((n, steps, c * m), np.float64)
    for t in range(steps):
        window = x[:, t * stride : t * stride + size, :]  # (n, size, c)
        out[:, t] = np.einsum("nsc,scm->ncm", window, k).reshape(n, c * m)
    return out


@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_conv1d_matches_numpy(stride):
    layer = layers.DepthwiseConv1D(3, strides=stride, depth_multiplier=2)
    y = layer(X).numpy()
    assert layer.depthwise_kernel.shape == (3, 3, 2) and layer.bias.shape == (6,)
    expected = _depthwise(X, layer.depthwise_kernel.numpy(), stride) + layer.bias.numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_separable_conv1d_matches_numpy():
    layer = layers.SeparableConv1D(4, 3, depth_multiplier=2, bias_initializer="ones")
    y = layer(X).numpy()
    assert layer.pointwise_kernel.shape == (1, 6, 4)
    deep = _depthwise(X, layer.depthwise_kernel.numpy())
    expected = deep @ layer.pointwise_kernel.numpy()[0] + 1.0
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    again = layers.SeparableConv1D.from_config(layer.get_config())
    assert again(X).shape == y.shape


def test_training_step_changes_the_kernels():
    model = keras.Sequential(
        [keras.Input((9, 3)), layers.DepthwiseConv1D(3), layers.SeparableConv1D(2, 3),
         layers.GlobalAveragePooling1D(), layers.Dense(1)]
    )  # fmt: skip
    model.compile("sgd", "mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(X, np.ones((2, 1)), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
