"""The details of Keras's training contract that real programs rely on: what a step
receives, what callbacks receive, what ``losses`` holds, models without trainable
weights, subclassed models taking dicts or lists."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers, ops

RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 4)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def _seen_by_steps(fit_kwargs, predict=False):
    seen = {}

    class Spy(keras.Model):
        def train_step(self, data):
            seen["train"] = data
            return super().train_step(data)

        def test_step(self, data):
            seen["test"] = data
            return super().test_step(data)

        def predict_step(self, data):
            seen["predict"] = data
            return super().predict_step(data)

    inp = keras.Input((4,))
    model = Spy(inp, layers.Dense(1)(inp))
    model.compile("sgd", "mse")
    model.fit(X, epochs=1, verbose=0, batch_size=8, **fit_kwargs)
    model.evaluate(X, fit_kwargs.get("y"), verbose=0, batch_size=8)
    model.predict(X, verbose=0, batch_size=8)
    return seen


def test_step_receives_x_y_without_sample_weights():
    seen = _seen_by_steps({"y": Y})
    assert isinstance(seen["train"], tuple) and len(seen["train"]) == 2
    x, y = seen["train"]
    assert x.shape == (8, 4) and y.shape == (8, 1)
    assert isinstance(seen["test"], tuple) and len(seen["test"]) == 2
    assert isinstance(seen["predict"], np.ndarray)  # one input, no targets: x itself


def test_step_receives_three_items_with_sample_weights():
    seen = _seen_by_steps({"y": Y, "sample_weight": np.ones(32, "float32")})
    assert len(seen["train"]) == 3


def test_step_receives_x_itself_without_targets():
    class Unsupervised(keras.Model):
        def train_step(self, data):
            assert isinstance(data, np.ndarray), type(data)
            return {"loss": 0.0}

    inp = keras.Input((4,))
    model = Unsupervised(inp, layers.Dense(1)(inp))
    model.compile("sgd")
    model.fit(X, epochs=1, verbose=0)


def test_pack_and_unpack_follow_keras():
    u = keras.utils
    assert u.pack_x_y_sample_weight(X) is X
    assert u.pack_x_y_sample_weight([X, X]) == ([X, X],)
    assert u.unpack_x_y_sample_weight(u.pack_x_y_sample_weight(X, Y))[1] is Y


HOOKS_WITHOUT_INDEX = {"on_train_begin", "on_train_end", "on_test_begin", "on_test_end"}
HOOKS_WITHOUT_INDEX |= {"on_predict_begin", "on_predict_end"}
ALL_HOOKS = sorted(
    HOOKS_WITHOUT_INDEX
    | {f"on_{p}_batch_{e}" for p in ("train", "test", "predict") for e in ("begin", "end")}
    | {"on_epoch_begin", "on_epoch_end"}
)


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


for _hook in ALL_HOOKS:

    def _make(hook):
        if hook in HOOKS_WITHOUT_INDEX:
            return lambda self, logs=None: self.calls.append((hook, logs))
        return lambda self, index, logs=None: self.calls.append((hook, logs))

    setattr(Recorder, _hook, _make(_hook))


def test_every_hook_gets_a_dict_of_logs():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    rec = Recorder()
    model.fit(X, Y, epochs=1, verbose=0, validation_split=0.25, callbacks=[rec])
    model.evaluate(X, Y, verbose=0, callbacks=[rec])
    model.predict(X, verbose=0, callbacks=[rec])
    called = {hook for hook, _ in rec.calls}
    assert called == set(ALL_HOOKS)
    bad = [(hook, logs) for hook, logs in rec.calls if not isinstance(logs, dict)]
    assert not bad, bad[:3]
    ends = [logs for hook, logs in rec.calls if hook == "on_test_end"]
    assert all("loss" in logs for logs in ends)
    outputs = [logs["outputs"] for hook, logs in rec.calls if hook == "on_predict_batch_end"]
    assert outputs and outputs[0].shape[1] == 1


def test_lambda_callback_with_two_arguments_in_evaluate():
    seen = []
    cb = keras.callbacks.LambdaCallback(on_test_batch_end=lambda i, logs: seen.append(logs))
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.evaluate(X, Y, verbose=0, batch_size=16, callbacks=[cb])
    assert len(seen) == 2 and "loss" in seen[0]


class AddsItsSum(layers.Layer):
    def call(self, x):
        self.add_loss(ops.mean(x))
        return x


def test_losses_hold_the_last_call_only():
    model = keras.Sequential([keras.Input((4,)), AddsItsSum(), layers.Dense(1)])
    model(X)
    model(X)
    assert len(model.losses) == 1
    layer = AddsItsSum()
    layer(X)
    layer(X)
    assert len(layer.losses) == 1


def test_fit_without_trainable_weights_is_an_empty_update():
    model = keras.Sequential([keras.Input((4,)), AddsItsSum()])
    model.compile("adam")
    history = model.fit(X, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    frozen = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    frozen.layers[0].trainable = False
    before = frozen.get_weights()
    frozen.compile("adam", "mse")
    frozen.fit(X, Y, epochs=1, verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)


class TwoInputs(keras.Model):
    def __init__(self):
        super().__init__()
        self.shared = layers.Dense(3)
        self.head = layers.Dense(1)

    def call(self, inputs):
        if isinstance(inputs, dict):
            u, v = inputs["u"], inputs["v"]
        else:
            u, v = inputs
        return self.head(self.shared(u) + self.shared(v))


@pytest.mark.parametrize("as_dict", [True, False])
def test_subclassed_model_taking_a_dict_or_list_fits(as_dict):
    data = {"u": X, "v": X * 2} if as_dict else [X, X * 2]
    model = TwoInputs()
    model.compile("adam", "mse")
    history = model.fit(data, Y, epochs=2, verbose=0, batch_size=8)
    assert len(history.history["loss"]) == 2
    assert model.predict(data, verbose=0).shape == (32, 1)
    assert len(model.trainable_weights) == 4


def test_subclassed_model_builds_from_a_dict_of_shapes():
    model = TwoInputs()
    model.build({"u": (None, 4), "v": (None, 4)})
    assert len(model.weights) == 4


def test_loss_function_gets_labels_shaped_like_the_predictions():
    seen = {}

    def contrastive(y_true, y_pred):
        seen["shapes"] = (tuple(y_true.shape), tuple(y_pred.shape), str(y_true.dtype))
        return ops.mean((1 - y_true) * ops.square(y_pred))

    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", loss=contrastive)
    labels = np.arange(32) % 2  # integer labels (N,) against predictions (N, 1)
    model.fit(X, labels, epochs=1, verbose=0, batch_size=8)
    assert seen["shapes"] == ((8, 1), (8, 1), "float32")
    # the loss is over 8 pairs, not over the 8 x 8 broadcast of (8,) against (8, 1)
    pred = model.predict(X[:8], verbose=0)
    expected = np.mean((1 - labels[:8, None]) * pred**2)
    got = model.evaluate(X[:8], labels[:8], verbose=0, batch_size=8)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
