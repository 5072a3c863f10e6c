"""Replayed inference calls (shendu.models.step_replay, ``StepReplay.predict``): predict and
evaluate give the eager model's results to the last bit, read the weights in force, and run
eagerly whatever the rules exclude."""

import numpy as np
import pytest

import shendu
from shendu import layers
from shendu.models import Model, Sequential

from .test_step_replay import BUILDERS, RNG, _build_data


def _inference_tapes(model):
    replay = model.compiled_step
    return {sig for sig, tape in replay.inference_tapes.items() if tape is not None}


def _pair(build, loss="categorical_crossentropy"):
    """The same model twice (equal weights): replayed inference, and eager."""
    models = []
    for run_eagerly in (False, True):
        shendu.utils.set_random_seed(5)
        model = build()
        model.compile("adam", loss, metrics=["accuracy"], run_eagerly=run_eagerly)
        models.append(model)
    return models


def _assert_equal(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _assert_equal(u, v)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_predict_and_evaluate_equal_the_eager_model(name):
    build, x, y = _build_data(name)
    replayed, eager = _pair(build)
    for _ in range(4):  # built and seen, recorded, then replayed (also a short last batch)
        _assert_equal(
            replayed.predict(x, batch_size=8, verbose=0), eager.predict(x, batch_size=8, verbose=0)
        )
        _assert_equal(
            replayed.evaluate(x, y, batch_size=8, verbose=0),
            eager.evaluate(x, y, batch_size=8, verbose=0),
        )
    assert len(_inference_tapes(replayed)) == 2, replayed.compiled_step.why_eager_inference


def test_a_replayed_call_runs_no_layer_code(monkeypatch):
    build, x, _ = _build_data("mlp")
    model = _pair(build)[0]
    for _ in range(3):  # eager, recorded, checked against the eager call
        model.predict(x[:5], verbose=0)
    calls = []
    monkeypatch.setattr(layers.Dense, "call", lambda *a, **k: calls.append(1))
    out = model.predict(x[:5], verbose=0)
    assert calls == [] and out.shape == (5, 3)


def test_a_replay_reads_the_weights_in_force():
    build, x, y = _build_data("batchnorm")
    replayed, eager = _pair(build)
    for _ in range(3):
        replayed.predict(x, verbose=0)
    for model in (replayed, eager):  # new weights, and batch-norm moving statistics
        shendu.utils.set_random_seed(9)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    _assert_equal(replayed.get_weights(), eager.get_weights())
    _assert_equal(replayed.predict(x, verbose=0), eager.predict(x, verbose=0))
    assert _inference_tapes(replayed)


def test_multi_input_and_multi_output_models_replay():
    x_a = RNG.normal(size=(12, 4)).astype(np.float32)
    x_b = RNG.normal(size=(12, 3)).astype(np.float32)

    def build():
        a_in, b_in = layers.Input((4,)), layers.Input((3,))
        joined = layers.Concatenate()([layers.Dense(5)(a_in), layers.Dense(5)(b_in)])
        kind = layers.Dense(3, activation="softmax", name="kind")(joined)
        value = layers.Dense(1, name="value")(joined)
        return Model([a_in, b_in], {"kind": kind, "value": value})

    replayed, eager = _pair(build, loss={"kind": "categorical_crossentropy", "value": "mse"})
    targets = {
        "kind": np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 12)],
        "value": RNG.normal(size=(12, 1)).astype(np.float32),
    }
    for _ in range(4):
        out = replayed.predict([x_a, x_b], verbose=0)
        _assert_equal(out, eager.predict([x_a, x_b], verbose=0))
        scores = [
            model.evaluate([x_a, x_b], targets, verbose=0, return_dict=True)
            for model in (replayed, eager)
        ]
        assert scores[0] == scores[1] and "kind_loss" in scores[0]
    assert set(out) == {"kind", "value"} and len(_inference_tapes(replayed)) == 1


def test_calls_with_a_graph_stay_eager():
    build, x, _ = _build_data("mlp")
    model = _pair(build)[0]
    for _ in range(3):  # gradients enabled: the output must carry its graph
        out = model.predict_step((x[:4],))
        assert out.creator is not None
    assert not _inference_tapes(model)


def test_a_custom_layer_keeps_inference_eager():
    class Doubling(layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    model = Sequential([layers.Input((4,)), Doubling(), layers.Dense(3)])
    model.compile("sgd", "mse")
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    for _ in range(3):
        out = model.predict(x, verbose=0)
    assert not _inference_tapes(model)
    assert "Doubling" in model.compiled_step.why_eager_inference
    np.testing.assert_allclose(out, model(x).numpy(), rtol=1e-6)


def test_an_uncompiled_model_replays_and_run_eagerly_keeps_it_eager():
    build, x, _ = _build_data("mlp")
    model = build()
    assert model.run_eagerly is False  # Keras's default, before compile() too
    first = model.predict(x, verbose=0)
    for _ in range(3):
        _assert_equal(model.predict(x, verbose=0), first)
    assert _inference_tapes(model)
    model.run_eagerly = True
    for _ in range(3):
        _assert_equal(model.predict(x, verbose=0), first)
    assert model.compiled_step is None


def test_a_structure_change_drops_the_inference_tapes():
    model = Sequential([layers.Input((4,)), layers.Dense(5), layers.Dense(3)])
    model.compile("sgd", "mse")
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    for _ in range(3):
        model.predict(x, verbose=0)
    assert _inference_tapes(model)
    model.pop()
    for _ in range(3):
        out = model.predict(x, verbose=0)
    assert out.shape == (6, 5)
    np.testing.assert_array_equal(out, model(x).numpy())


def test_a_replayed_forward_drops_each_output_after_its_last_reader(monkeypatch):
    import gc
    import weakref

    from shendu.ops import linalg

    model = Sequential([layers.Input((4,)), layers.Dense(64), layers.Dense(64), layers.Dense(3)])
    x = RNG.normal(size=(8, 4)).astype(np.float32)
    for _ in range(3):  # built and seen, recorded, checked: the next call is replayed
        model.predict(x, verbose=0)
    outputs, alive = [], []
    forward = linalg.Linear.forward

    def tracking_forward(self, *args):
        gc.collect()
        alive.append([ref() is not None for ref in outputs])
        out = forward(self, *args)
        outputs.append(weakref.ref(out))
        return out

    monkeypatch.setattr(linalg.Linear, "forward", tracking_forward)
    out = model.predict(x, verbose=0)
    assert _inference_tapes(model) and out.shape == (8, 3)
    # when the third layer runs, the first layer's output (read by the second) is gone
    assert alive == [[], [True], [False, True]]


@pytest.mark.parametrize("name", ["mlp", "batchnorm", "recurrent"])
def test_fit_validation_replays_and_equals_eager(name):
    build, x, y = _build_data(name)
    histories = []
    for model in _pair(build):
        shendu.utils.set_random_seed(2)
        history = model.fit(x, y, epochs=4, batch_size=8, validation_split=0.3, verbose=0)
        histories.append(history.history)
    assert histories[0] == histories[1]
    assert "val_loss" in histories[0]


def test_a_custom_train_step_keeps_training_eager_but_not_inference():
    class Stepped(Sequential):
        def train_step(self, data):
            return super().train_step(data)

    shendu.utils.set_random_seed(1)
    model = Stepped([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    build, x, y = _build_data("mlp")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for _ in range(3):
        out = model.predict(x, verbose=0)
    assert model.compiled_step.replayable is False and _inference_tapes(model)
    np.testing.assert_array_equal(out, model(x).numpy())


def _no_grad_calls(model, x, n=4):
    from shendu.autograd.mode import no_grad

    with no_grad():
        return [model(x) for _ in range(n)]


def test_model_call_under_no_grad_replays_and_equals_eager(monkeypatch):
    build, x, _ = _build_data("batchnorm")
    replayed, eager = _pair(build)
    outs = _no_grad_calls(replayed, x)
    for out, ref in zip(outs, _no_grad_calls(eager, x)):
        assert out.creator is None
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert _inference_tapes(replayed)
    calls = []
    monkeypatch.setattr(layers.Dense, "call", lambda *a, **k: calls.append(1))
    tensor_input = _no_grad_calls(replayed, shendu.tensor(x), 1)[0]  # a Tensor: same tape
    assert calls == []
    np.testing.assert_array_equal(tensor_input.numpy(), outs[0].numpy())


def test_model_call_with_grad_or_training_stays_eager():
    build, x, _ = _build_data("mlp")
    model = _pair(build)[0]
    for _ in range(3):
        assert model(x).creator is not None  # grad mode on: the output has its graph
    from shendu.autograd.mode import no_grad

    with no_grad():
        for _ in range(3):
            model(x, training=True)
    assert not _inference_tapes(model)


def test_a_model_called_inside_another_model_is_not_replayed_on_its_own():
    shendu.utils.set_random_seed(4)
    inner = Sequential([layers.Input((4,)), layers.Dense(5, activation="relu")])
    outer = Sequential([layers.Input((4,)), inner, layers.Dense(3)])
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    outs = _no_grad_calls(outer, x)
    # the outer model runs eagerly (a model as a layer is not replay_safe) and its layers'
    # calls, the inner model's included, are nested calls: not handed to a replay
    assert "not replay_safe" in outer.compiled_step.why_eager_inference
    shapes = {sig[0][0] for sig in inner.compiled_step.inference_seen}
    assert (6, 4) not in shapes and not _inference_tapes(inner)
    np.testing.assert_array_equal(outs[-1].numpy(), outs[0].numpy())
    with shendu.autograd.mode.no_grad():
        expected = outer.layers[-1](inner(x))
    np.testing.assert_allclose(outs[-1].numpy(), expected.numpy(), rtol=1e-6)


def test_a_model_call_that_casts_its_input_stays_eager_and_correct():
    build, x, _ = _build_data("mlp")
    model = _pair(build)[0]
    outs = _no_grad_calls(model, x.astype(np.float64))
    assert not _inference_tapes(model)
    assert "made in Python" in model.compiled_step.why_eager_inference
    np.testing.assert_array_equal(outs[-1].numpy(), _no_grad_calls(model, x, 1)[0].numpy())


def test_a_setting_changed_after_recording_is_not_replayed_stale():
    import shendu as keras

    inputs = keras.Input((3,))
    norm = keras.layers.LayerNormalization(epsilon=1e-3)
    act = keras.layers.Activation("linear")
    model = keras.Model(inputs, act(norm(inputs)))
    x = np.array([[1.0, 2.0, 4.0]] * 4, "float32")
    with keras.no_grad():
        for _ in range(3):  # recorded, then replayed
            model(x)
        norm.epsilon = 100.0
        act.activation = keras.activations.get("relu")
        direct = model(x).numpy()  # Keras's model(x) is eager: the new settings count
    np.testing.assert_allclose(direct, [[0.0, 0.0, 0.16538529]] * 4, rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), direct, rtol=1e-6)
