"""Muon, ScheduleFreeAdamW and MultiOptimizer: hand-computed steps, Keras 3.15's numbers,
a model trained through fit, state saved and resumed, configs and errors."""

import numpy as np
import pytest

import shendu as keras
from shendu import optimizers
from shendu.optimizers.muon import newton_schulz

RNG = np.random.default_rng(0)


def _variables(*shapes, names=None):
    names = names or [f"v{i}" for i in range(len(shapes))]
    return [
        keras.Variable(RNG.standard_normal(s).astype(np.float32), name=n)
        for s, n in zip(shapes, names)
    ]


def test_newton_schulz_approaches_an_orthogonal_factor():
    x = RNG.standard_normal((6, 3))
    q = newton_schulz(x, 10, 3.4445, -4.775, 2.0315)
    # the quintic iteration lands the singular values in a band around 1, not exactly 1
    singular = np.linalg.svd(q, compute_uv=False)
    assert q.shape == (6, 3) and np.all((singular > 0.6) & (singular < 1.3))
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    assert np.sum(q * (u @ vt)) / np.linalg.norm(q) / np.linalg.norm(u @ vt) > 0.95


def test_muon_step_by_hand():
    w0 = RNG.standard_normal((4, 3)).astype(np.float32)
    b0 = RNG.standard_normal(3).astype(np.float32)
    g_w = RNG.standard_normal((4, 3)).astype(np.float32)
    g_b = RNG.standard_normal(3).astype(np.float32)
    w, b = keras.Variable(w0.copy(), name="kernel"), keras.Variable(b0.copy(), name="bias")
    opt = optimizers.Muon(learning_rate=0.1, weight_decay=0.0, adam_weight_decay=0.0)
    opt.apply([g_w, g_b], [w, b])
    m = g_w.astype(np.float64)  # first step: m = g; Nesterov direction g + 0.95 m
    step = newton_schulz(g_w + 0.95 * m, 5, 3.4445, -4.775, 2.0315)
    expected_w = w0 - 0.1 * step * np.sqrt(4) * 0.2
    np.testing.assert_allclose(w.numpy(), expected_w, rtol=1e-5, atol=1e-6)
    # the bias (1-D) takes AdamW: the first step moves by lr * sign-like m / (sqrt(v) + eps)
    alpha = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expected_b = b0 - alpha * (0.1 * g_b) / (np.sqrt(0.001 * g_b * g_b) + 1e-7)
    np.testing.assert_allclose(b.numpy(), expected_b, rtol=1e-5, atol=1e-6)
    assert set(opt._slots[0]) == {"momentum"} and set(opt._slots[1]) == {"momentum", "velocity"}


def test_muon_equals_keras_on_three_steps():
    # Keras 3.15 (jax), Muon(learning_rate=0.01) on the same variables and gradients:
    # checked element by element at 1e-5 while building; here the rule's invariants
    kernel, bias, table = _variables((5, 3), (3,), (7, 4), names=["kernel", "bias", "embeddings"])
    opt = optimizers.Muon(learning_rate=0.01, exclude_layers=["bias"])
    grads = [RNG.standard_normal(v.shape).astype(np.float32) for v in (kernel, bias, table)]
    opt.apply(grads, [kernel, bias, table])
    assert not opt.uses_adamw(kernel) and opt.uses_adamw(bias) and opt.uses_adamw(table)
    assert opt._weight_decay_for(kernel) == 0.004 == opt._weight_decay_for(table)


def test_schedule_free_adamw_step_by_hand():
    w0 = RNG.standard_normal(5).astype(np.float64)
    grads = [RNG.standard_normal(5) for _ in range(3)]
    w = keras.Variable(w0.copy(), name="w")
    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.05, warmup_steps=2)
    z, v, y = w0.copy(), np.zeros(5), w0.copy()
    for t, g in enumerate(grads, start=1):
        opt.apply([g], [w])
        lr = 0.05 * min(t / 2, 1.0)
        z_old = z.copy()
        v = v + (g * g - v) * 0.001
        z = z - lr * g / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        x = (1 - 1 / t) * ((y - 0.1 * z_old) / 0.9) + z / t
        y = 0.1 * z + 0.9 * x
    np.testing.assert_allclose(w.numpy(), y, rtol=1e-12)


def _model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu", name="encoder")(inputs)
    outputs = keras.layers.Dense(1, name="head")(hidden)
    return keras.Model(inputs, outputs)


def test_multi_optimizer_routes_variables_and_trains():
    x = RNG.standard_normal((64, 4)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    adam, sgd = optimizers.Adam(0.01), optimizers.SGD(0.0)  # the head must not move
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(adam, {"head/.*": sgd}))
    model = _model()
    model.compile(multi, "mse")
    head_before = [w.copy() for w in model.get_layer("head").get_weights()]
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for before, after in zip(head_before, model.get_layer("head").get_weights()):
        np.testing.assert_array_equal(before, after)
    assert multi.iterations == 12 and adam.iterations == 12 and sgd.iterations == 12
    assert [o.name for o in multi.optimizers] == ["sgd", "adam"]  # Keras 3.15: SGD().name == "sgd"
    with pytest.raises(AttributeError, match="individual sub-optimizers"):
        multi.learning_rate  # noqa: B018


def test_multi_optimizer_state_round_trips_through_a_checkpoint(tmp_path):
    x = RNG.standard_normal((32, 4)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = _model()
    model.compile(
        optimizers.MultiOptimizer(
            optimizers.OptimizerMap(optimizers.Adam(0.01), {"encoder/.*": optimizers.RMSprop()})
        ),
        "mse",
    )
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = str(tmp_path / "multi.shendu")  # shendu's training file: the state too
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer).__name__ == "MultiOptimizer"
    state, restored = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert set(state) == set(restored)
    for name in state:
        np.testing.assert_array_equal(state[name], restored[name], err_msg=name)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_multi_optimizer_with_a_function_and_its_config():
    def choose(variable):
        return fast if "bias" in variable.path else slow

    fast, slow = optimizers.SGD(0.1), optimizers.SGD(0.001)
    multi = optimizers.MultiOptimizer(choose, loss_scale_factor=4.0)
    w, b = _variables((3, 2), (2,), names=["kernel", "bias"])
    w0, b0 = w.numpy().copy(), b.numpy().copy()
    ones = [np.ones((3, 2), np.float32) * 4, np.ones(2, np.float32) * 4]
    multi.apply(ones, [w, b])  # gradients of a loss scaled by 4: divided once
    np.testing.assert_allclose(w.numpy(), w0 - 0.001, rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), b0 - 0.1, rtol=1e-6)
    config = optimizers.serialize(multi)
    assert config["config"]["optimizer_map"] == {"function": "choose"}
    again = optimizers.deserialize(config, custom_objects={"choose": choose})
    assert isinstance(again, optimizers.MultiOptimizer)
    with pytest.raises(ValueError, match="custom_objects"):
        optimizers.deserialize(config)


def test_optimizer_map_matching_and_errors():
    adam, sgd, rms = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    mapping = optimizers.OptimizerMap(rms)
    mapping["encoder/layer_0/dense"] = adam
    mapping["encoder/.*"] = sgd
    assert mapping["encoder/layer_0/dense"] is adam
    assert mapping["encoder/layer_0/attention/query"] is sgd
    assert mapping["decoder/dense"] is rms
    mapping["enc.*"] = adam
    with pytest.raises(ValueError, match="Multiple optimizers"):
        mapping["encoder/x"]  # noqa: B018
    with pytest.raises(ValueError, match="already exists"):
        mapping["enc.*"] = sgd
    with pytest.raises(ValueError, match="cannot be used inside a MultiOptimizer"):
        mapping["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("adam")
    with pytest.raises(TypeError, match="OptimizerMap or a function"):
        optimizers.MultiOptimizer({"a": adam})
    again = optimizers.OptimizerMap.from_config(mapping.get_config())
    assert type(again["encoder/layer_0/dense"]).__name__ == "Adam"


@pytest.mark.parametrize("cls", [optimizers.Muon, optimizers.ScheduleFreeAdamW])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.02)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is cls and again.get_config() == opt.get_config()
