"""Hooks and aliases Keras documents: Conv.convolution_op, zero_grad with v.value.grad
(keras.io's PyTorch-backend loop), the "binary" output mode of the lookups."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers, ops


class StandardizedConv2D(layers.Conv2D):
    """keras.io's weight-standardised convolution (the documented override)."""

    def convolution_op(self, inputs, kernel):
        mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
        return ops.conv(
            inputs, (kernel - mean) / ops.sqrt(var + 1e-10), padding="valid", strides=1
        )


def test_convolution_op_override_is_used_with_bias_and_activation():
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype("float32")
    conv = StandardizedConv2D(4, 3, activation="relu", bias_initializer="ones")
    out = conv(x).numpy()
    k = conv.kernel.numpy()
    k = (k - k.mean(axis=(0, 1, 2), keepdims=True)) / np.sqrt(
        k.var(axis=(0, 1, 2), keepdims=True) + 1e-10
    )
    reference = ops.conv(x, k, padding="valid").numpy() + 1.0
    np.testing.assert_allclose(out, np.maximum(reference, 0), rtol=1e-4, atol=1e-5)


def test_convolution_op_of_the_base_layer_is_its_convolution():
    x = np.random.default_rng(1).standard_normal((1, 6, 6, 2)).astype("float32")
    conv = layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    expected = conv(x).numpy()
    np.testing.assert_allclose(
        conv.convolution_op(x, conv.kernel).numpy(),
        expected,
        rtol=1e-5,
    )


def test_pytorch_style_loop_with_zero_grad_and_value_grad():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(2)]
    )
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(1e-2)
    first = None
    for _ in range(60):
        loss = loss_fn(y, model(x, training=True))
        first = float(loss) if first is None else first
        model.zero_grad()
        loss.backward()
        weights = model.trainable_weights
        optimizer.apply([v.value.grad for v in weights], weights)
    assert float(loss) < 0.5 * first
    model.zero_grad(set_to_none=False)
    assert all(not np.any(v.grad.numpy()) for v in model.trainable_weights)
    model.zero_grad()
    assert all(v.grad is None for v in model.trainable_weights)


def test_lookup_binary_is_multi_hot():
    lookup = layers.StringLookup(vocabulary=["a", "b", "c"], output_mode="binary")
    out = lookup(np.array([["a", "c"], ["b", "b"]])).numpy()
    np.testing.assert_array_equal(out, [[0, 1, 0, 1], [0, 0, 1, 0]])
    assert lookup.output_mode == "multi_hot"
    enc = layers.CategoryEncoding(num_tokens=3, output_mode="binary")
    np.testing.assert_array_equal(enc(np.array([[0, 2]])).numpy(), [[1, 0, 1]])


@pytest.mark.parametrize("rnn", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_recurrent_layers_take_boolean_and_integer_sequences(rnn):
    flags = np.random.default_rng(0).random((4, 5, 3)) > 0.5
    model = keras.Sequential([keras.Input((5, 3)), rnn(2), layers.Dense(1)])
    as_float = model(flags.astype("float32")).numpy()
    np.testing.assert_array_equal(model(flags).numpy(), as_float)  # crashed in the kernel
    np.testing.assert_array_equal(model(flags.astype("int64")).numpy(), as_float)
