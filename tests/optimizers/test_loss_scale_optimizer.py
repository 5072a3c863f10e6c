"""LossScaleOptimizer: Keras 3.15's dynamic scale, skip and growth rule (the trajectory
below was measured with Keras on the torch backend on the same gradients), fit, files."""

import numpy as np
import pytest

import shendu as keras


def test_dynamic_scaling_as_keras():
    opt = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=2
    )
    v = keras.Variable(np.array([1.0, 2.0], dtype="float32"))
    got = []
    for g in [[8, 16], [8, 8], [np.inf, 1], [4, 4], [4, 8], [np.nan, 0], [2, 2]]:
        opt.apply([np.array(g, dtype="float32")], [v])
        got.append([*v.numpy().tolist(), opt.dynamic_scale, opt.step_counter, opt.iterations])
    keras_figures = [
        [0.9, 1.8, 8.0, 1, 1],
        [0.8, 1.7, 16.0, 0, 2],
        [0.8, 1.7, 8.0, 0, 2],
        [0.75, 1.65, 8.0, 1, 3],
        [0.7, 1.55, 16.0, 0, 4],
        [0.7, 1.55, 8.0, 0, 4],
        [0.675, 1.525, 8.0, 1, 5],
    ]
    np.testing.assert_allclose(got, keras_figures, rtol=1e-6)
    assert float(opt.scale_loss(2.0)) == 16.0
    assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
    assert isinstance(opt, keras.optimizers.SGD)
    assert keras.mixed_precision.LossScaleOptimizer is keras.optimizers.LossScaleOptimizer


def _model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer, "mse")
    return model


def test_fit_equals_the_inner_optimizer_and_files_keep_the_scale(tmp_path):
    x = np.random.default_rng(0).standard_normal((32, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    plain = _model(keras.optimizers.Adam(0.01))
    plain.fit(x, y, batch_size=8, epochs=3, verbose=0)
    scaled = _model(
        keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), dynamic_growth_steps=5)
    )
    scaled.fit(x, y, batch_size=8, epochs=3, verbose=0)
    for a, b in zip(plain.get_weights(), scaled.get_weights()):
        np.testing.assert_array_equal(a, b)  # powers of two: exact
    opt = scaled.optimizer
    assert opt.dynamic_scale == 2.0**15 * 2**2 and opt.step_counter == 2  # 12 steps, 5 a doubling
    for name in ("m.shendu",):
        scaled.save(tmp_path / name)
        again = keras.models.load_model(tmp_path / name)
        assert type(again.optimizer).__name__ == "LossScaleOptimizer"
        assert again.optimizer.dynamic_scale == opt.dynamic_scale
        assert again.optimizer.step_counter == 2
        assert again.optimizer.iterations == opt.iterations
        again.fit(x, y, epochs=1, verbose=0)
    config = opt.get_config()
    assert (
        config["inner_optimizer"]["class_name"] == "Adam" and config["dynamic_growth_steps"] == 5
    )
    clone = keras.optimizers.LossScaleOptimizer.from_config(config)
    assert isinstance(clone, keras.optimizers.Adam) and clone.dynamic_growth_steps == 5


def test_custom_loop_scales_and_unscales():
    """The mixed-precision guide's loop: gradients of scale_loss(loss), then apply."""
    model = _model("sgd")
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))
    x = np.ones((2, 3), "float32")
    variables = model.trainable_weights
    for v in variables:
        v.grad = None
    opt.scale_loss((model(x) ** 2).mean()).backward()
    scaled_grads = [v.grad for v in variables]
    before = [v.numpy().copy() for v in variables]
    opt.apply(scaled_grads, variables)
    for b, v, g in zip(before, variables, scaled_grads):
        np.testing.assert_allclose(v.numpy(), b - 0.1 * g.numpy() / 2.0**15, rtol=1e-5, atol=1e-7)


def test_errors():
    with pytest.raises(ValueError, match="expects an optimizer instance as `inner_optimizer`"):
        keras.optimizers.LossScaleOptimizer("adam")
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="`dynamic_growth_steps` must be a positive integer"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), dynamic_growth_steps=0)


def test_keras_file_keeps_the_wrapper(tmp_path):
    model = _model(
        keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=64.0)
    )
    model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert type(again.optimizer).__name__ == "LossScaleOptimizer"
    assert isinstance(again.optimizer.inner_optimizer, keras.optimizers.Adam)
    assert again.optimizer.initial_scale == 64.0 and again.optimizer.learning_rate == 0.01
