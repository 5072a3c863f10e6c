"""Core and merging layers through the common layer test, plus their error messages."""

import numpy as np
import pytest

import shendu
from shendu import layers
from shendu.testing import gradcheck, run_layer_test


def test_dense():
    run_layer_test(
        layers.Dense,
        {"units": 3, "activation": "relu"},
        (2, 4),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=2,
        expected_weight_shapes=[(4, 3), (3,)],
    )
    run_layer_test(
        layers.Dense,
        {"units": 5, "use_bias": False, "kernel_regularizer": "l2"},
        (2, 3, 4),
        expected_output_shape=(2, 3, 5),
        expected_num_trainable_weights=1,
    )


def test_dense_float64_gradcheck_through_layer():
    shendu.set_floatx("float64")
    try:
        layer = layers.Dense(3, activation="tanh")
        x = np.random.default_rng(0).standard_normal((2, 4))
        assert gradcheck(lambda v: layer(v), (x,))
        assert layer.kernel.dtype == np.float64
    finally:
        shendu.set_floatx("float32")


@pytest.mark.parametrize(
    "cls,kwargs,shape,out_shape",
    [
        (layers.Activation, {"activation": "tanh"}, (2, 3), (2, 3)),
        (layers.Dropout, {"rate": 0.5}, (2, 3), (2, 3)),
        (layers.Flatten, {}, (2, 3, 4), (2, 12)),
        (layers.Reshape, {"target_shape": (4, -1)}, (2, 3, 4), (2, 4, 3)),
        (layers.Identity, {}, (2, 3), (2, 3)),
    ],
)
def test_weightless_layers(cls, kwargs, shape, out_shape):
    run_layer_test(
        cls, kwargs, shape, expected_output_shape=out_shape, expected_num_trainable_weights=0
    )


def test_dropout_only_when_training():
    layer = layers.Dropout(0.5, seed=1)
    x = np.ones((100, 10), np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert 0.3 < (y == 0).mean() < 0.7 and set(np.unique(y)) <= {0.0, 2.0}


@pytest.mark.parametrize(
    "cls,expected",
    [
        (layers.Add, lambda a, b: a + b),
        (layers.Subtract, lambda a, b: a - b),
        (layers.Multiply, lambda a, b: a * b),
        (layers.Average, lambda a, b: (a + b) / 2),
        (layers.Maximum, np.maximum),
        (layers.Minimum, np.minimum),
        (layers.Concatenate, lambda a, b: np.concatenate([a, b], -1)),
    ],
)
def test_merging_layers(cls, expected):
    rng = np.random.default_rng(0)
    a, b = (
        rng.standard_normal((2, 3)).astype(np.float32),
        rng.standard_normal((2, 3)).astype(np.float32),
    )
    np.testing.assert_allclose(cls()([a, b]).numpy(), expected(a, b), rtol=1e-6)
    with pytest.raises(ValueError, match="should be called on a list of at least 2 inputs"):
        cls()(a)


def test_dot_layer():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(
        layers.Dot(axes=1)([a, b]).numpy(), (a * b).sum(1, keepdims=True), rtol=1e-5
    )
    a3, b3 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(
        layers.Dot(axes=(2, 1))([a3, b3]).numpy(), a3 @ b3, rtol=1e-5, atol=1e-5
    )


def test_lambda_layer():
    out = layers.Lambda(lambda x: x * 2)(np.ones((2, 2)))
    np.testing.assert_array_equal(out.numpy(), 2 * np.ones((2, 2)))
    with pytest.raises(TypeError, match="Lambda: expected a callable"):
        layers.Lambda(3)


def test_layer_errors():
    with pytest.raises(
        ValueError,
        match="Received an invalid value for `units`, expected a positive integer. Received: units=-3",
    ):
        layers.Dense(-3)
    with pytest.raises(ValueError, match="Received: units=0"):
        layers.Dense(0)
    with pytest.raises(
        ValueError, match=r"Expected a float value between 0 and 1. Received: rate=1.5"
    ):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="Unknown activation: 'relux'. Did you mean 'relu'"):
        layers.Dense(3, activation="relux")
    with pytest.raises(
        ValueError, match="Unknown initializer: 'glorot_unifrom'. Did you mean 'glorot_uniform'"
    ):
        layers.Dense(3, kernel_initializer="glorot_unifrom")
    with pytest.raises(TypeError, match="unrecognized keyword arguments: \\['foo'\\]"):
        layers.Dense(3, foo=1)
    dense = layers.Dense(3)
    dense(np.ones((1, 4)))
    with pytest.raises(
        ValueError,
        match=r"expected axis -1 of input shape to have value 4, but received input with shape \(None, 5\)",
    ):
        dense(np.ones((2, 5)))
    with pytest.raises(ValueError, match="Reshape: `target_shape` may hold one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"set_weights expected a list of 2 arrays"):
        dense.set_weights([np.ones((4, 3))])
    with pytest.raises(ValueError, match=r"weight 'dense.*/kernel': expected shape \(4, 3\)"):
        dense.set_weights([np.ones((4, 4)), np.ones(3)])


def test_weights_api_and_trainable_flag():
    dense = layers.Dense(2)
    dense(np.ones((1, 3)))
    assert dense.count_params() == 8
    w = dense.get_weights()
    dense.set_weights([np.zeros_like(a) for a in w])
    assert all((a == 0).all() for a in dense.get_weights())
    dense.trainable = False
    assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2
    dense.trainable = True
    assert len(dense.trainable_weights) == 2


def test_custom_layer_with_add_loss_and_nested_layers():
    class Block(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = layers.Dense(4)

        def build(self, input_shape):
            self.scale = self.add_weight((1,), initializer="ones", name="scale")

        def call(self, x):
            y = self.inner(x) * self.scale
            self.add_loss(shendu.ops.mean(y * y) * 0.1)
            return y

    block = Block()
    out = block(np.ones((2, 3)))
    assert out.shape == (2, 4)
    assert len(block.trainable_weights) == 3  # scale, kernel, bias
    assert len(block.losses) == 1
