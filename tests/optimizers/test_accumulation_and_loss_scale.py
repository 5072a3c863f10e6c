"""gradient_accumulation_steps and loss_scale_factor as Keras 3.15 applies them (the
trajectories below were measured with Keras on the JAX backend on the same gradients)."""

import numpy as np
import pytest

import shendu as keras


def _trajectory(opt):
    v = keras.Variable(np.array([1.0, -2.0, 3.0], dtype="float32"))
    out = []
    for k in range(6):
        opt.apply([np.array([0.5 * (k + 1), -1.0, 0.25 * k], dtype="float32")], [v])
        out.append([float(a) for a in v.numpy()] + [opt.iterations])
    return out


def test_sgd_accumulates_three_calls_as_keras():
    keras_figures = [
        [1.0, -2.0, 3.0, 0],
        [1.0, -2.0, 3.0, 0],
        [0.9, -1.9, 2.975, 1],
        [0.9, -1.9, 2.975, 1],
        [0.9, -1.9, 2.975, 1],
        [0.65, -1.8, 2.875, 2],
    ]
    got = _trajectory(keras.optimizers.SGD(0.1, gradient_accumulation_steps=3))
    np.testing.assert_allclose(got, keras_figures, rtol=1e-6, atol=1e-6)


def test_adam_accumulates_as_keras():
    keras_figures = [
        [1.0, -2.0, 3.0, 0],
        [0.900001, -1.900001, 2.900003, 1],
        [0.900001, -1.900001, 2.900003, 1],
        [0.805216, -1.800002, 2.8139, 2],
        [0.805216, -1.800002, 2.8139, 2],
        [0.710994, -1.700003, 2.725516, 3],
    ]
    got = _trajectory(keras.optimizers.Adam(0.1, gradient_accumulation_steps=2))
    np.testing.assert_allclose(got, keras_figures, rtol=0, atol=5e-6)


def test_loss_scale_factor_divides_the_gradients_as_keras():
    keras_figures = [
        [0.99375, -1.9875, 3.0, 1],
        [0.98125, -1.975, 2.996875, 2],
        [0.9625, -1.9625, 2.990625, 3],
        [0.9375, -1.95, 2.98125, 4],
        [0.90625, -1.9375, 2.96875, 5],
        [0.86875, -1.925, 2.953125, 6],
    ]
    opt = keras.optimizers.SGD(0.1, loss_scale_factor=8.0)
    np.testing.assert_allclose(_trajectory(opt), keras_figures, rtol=1e-6)
    assert float(opt.scale_loss(keras.ops.convert_to_tensor(2.0))) == 16.0


def test_fit_with_accumulation_as_keras():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.1, gradient_accumulation_steps=3), "mse")
    x = np.array([[1, 2], [3, 4], [5, 6], [7, 8], [1, 0], [0, 1]], "float32")
    model.fit(x, np.ones((6, 1), "float32"), batch_size=1, epochs=1, shuffle=False, verbose=0)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel[:, 0], [27.89777946472168, 31.231109619140625], rtol=1e-5)
    np.testing.assert_allclose(bias, [4.115560054779053], rtol=1e-5)
    assert model.optimizer.iterations == 2


def test_fit_is_unchanged_by_a_loss_scale_factor():
    weights = []
    for factor in (None, 1024.0):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.Adam(0.01, loss_scale_factor=factor), "mse")
        model.fit(np.eye(2, dtype="float32"), np.ones((2, 1)), epochs=3, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_config_and_errors():
    opt = keras.optimizers.Adam(gradient_accumulation_steps=4, loss_scale_factor=128.0)
    config = opt.get_config()
    assert config["gradient_accumulation_steps"] == 4 and config["loss_scale_factor"] == 128.0
    assert keras.optimizers.Adam.from_config(config).gradient_accumulation_steps == 4
    with pytest.raises(
        ValueError,
        match="`gradient_accumulation_steps` must be an integer >= 2. Received: gradient_accumulation_steps=1",
    ):
        keras.optimizers.SGD(gradient_accumulation_steps=1)
