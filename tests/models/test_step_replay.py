"""The recorded training step (shendu.models.step_replay): replayed steps give the eager
step's results, and every model or batch the rules exclude runs eagerly."""

import numpy as np
import pytest

import shendu
from shendu import layers
from shendu.autograd.capture import active_observer
from shendu.models import Model, Sequential
from shendu.models.step_replay import Recorder, RecorderBusy

RNG = np.random.default_rng(0)


def _mlp():
    return Sequential(
        [
            layers.Dense(6, input_dim=4, activation="relu"),
            layers.Dense(5, activation="tanh"),
            layers.Dense(4, activation="sigmoid"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _activations():
    return Sequential(
        [
            layers.Input((4,)),
            layers.Dense(6),
            layers.LeakyReLU(0.1),
            layers.Dense(6),
            layers.ELU(),
            layers.Dense(6),
            layers.Activation("gelu"),
            layers.Dense(6),
            layers.ReLU(),
            layers.Dense(3),
            layers.Softmax(),
        ]
    )


def _cnn():
    return Sequential(
        [
            layers.Input((6, 6, 1)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _conv1d():
    return Sequential(
        [
            layers.Input((8, 2)),
            layers.Conv1D(3, 3, padding="same"),
            layers.AveragePooling1D(2),
            layers.ZeroPadding1D(1),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _reshapes():
    return Sequential(
        [
            layers.Input((4,)),
            layers.Rescaling(0.5),
            layers.Dense(6),
            layers.Reshape((3, 2)),
            layers.Permute((2, 1)),
            layers.Flatten(),
            layers.RepeatVector(2),
            layers.LayerNormalization(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _functional():
    # one input feeding three branches: gradients summed from several consumers
    inputs = layers.Input((4,))
    a = layers.Dense(5, activation="relu")(inputs)
    b = layers.Dense(5, activation="tanh")(inputs)
    c = layers.Dense(5)(inputs)
    merged = layers.Concatenate()([layers.Add()([a, b]), layers.Multiply()([b, c])])
    normed = layers.LayerNormalization()(merged)
    outputs = layers.Dense(3, activation="softmax")(layers.PReLU()(normed))
    return Model(inputs, outputs)


def _recurrent():
    return Sequential(
        [
            layers.Input((5, 3)),
            layers.LSTM(4, return_sequences=True),
            layers.GRU(4, return_sequences=True, go_backwards=True),
            layers.SimpleRNN(4),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _text():
    return Sequential(
        [
            layers.Input((6,), dtype="int64"),
            layers.Embedding(9, 4),
            layers.LSTM(5),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _attention():
    inputs = layers.Input((5, 4))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.2)(inputs, inputs)
    h = layers.LayerNormalization()(layers.Add()([inputs, attended]))
    causal = layers.MultiHeadAttention(num_heads=2, key_dim=3)(h, h, use_causal_mask=True)
    h = layers.Add()([h, causal])
    outputs = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling1D()(h))
    return Model(inputs, outputs)


def _batchnorm():
    return Sequential(
        [
            layers.Input((6, 6, 2)),
            layers.Conv2D(3, 3),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.GlobalAveragePooling2D(),
            layers.Dense(4),
            layers.BatchNormalization(momentum=0.9),
            layers.Dense(3, activation="softmax"),
        ]
    )


BUILDERS = {
    "mlp": (_mlp, (4,)),
    "activations": (_activations, (4,)),
    "cnn": (_cnn, (6, 6, 1)),
    "conv1d": (_conv1d, (8, 2)),
    "reshapes": (_reshapes, (4,)),
    "functional": (_functional, (4,)),
    "recurrent": (_recurrent, (5, 3)),
    "text": (_text, (6,)),
    "attention": (_attention, (5, 4)),
    "batchnorm": (_batchnorm, (6, 6, 2)),
}
LOSSES = {
    "categorical_crossentropy": lambda n: np.eye(3, dtype=np.float32)[RNG.integers(0, 3, n)],
    "sparse_categorical_crossentropy": lambda n: RNG.integers(0, 3, n),
    "mean_squared_error": lambda n: RNG.normal(size=(n, 3)).astype(np.float32),
}


def _data(shape, n=23, loss="categorical_crossentropy"):
    x = RNG.normal(size=(n, *shape)).astype(np.float32)
    return x, LOSSES[loss](n)


def _build_data(name, **kwargs):
    build, shape = BUILDERS[name]
    x, y = _data(shape, **kwargs)
    if name == "text":
        x = RNG.integers(0, 9, (len(x), *shape))
    return build, x, y


def _train(build, x, y, run_eagerly, loss="categorical_crossentropy", **fit_kwargs):
    shendu.utils.set_random_seed(3)
    model = build()
    model.compile(
        optimizer="adam",
        loss=loss,
        metrics=["accuracy"] if "categorical" in str(getattr(loss, "name", loss)) else [],
        run_eagerly=run_eagerly,
    )
    shendu.utils.set_random_seed(4)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, **fit_kwargs)
    return model, history.history


def _replayed(model):
    """The signatures that have a tape (None marks a signature that stays eager)."""
    replay = model.compiled_step
    return {sig for sig, tape in replay.tapes.items() if tape is not None}


def _assert_same(eager, replayed, rtol=0.0):
    (m1, h1), (m2, h2) = eager, replayed
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=rtol, atol=0)
    for w1, w2 in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_replayed_steps_equal_eager_steps(name):
    build, x, y = _build_data(name)
    eager = _train(build, x, y, run_eagerly=True)
    replayed = _train(build, x, y, run_eagerly=False)
    # both the full batches (8) and the last one (7) are replayed
    assert len(_replayed(replayed[0])) == 2
    # chains give the same bits; the functional model sums gradients from several consumers
    _assert_same(eager, replayed, rtol=1e-5 if name in ("functional", "attention") else 0.0)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_replay_over_the_losses(loss):
    x, y = _data((4,), loss=loss)
    eager = _train(_mlp, x, y, run_eagerly=True, loss=loss)
    replayed = _train(_mlp, x, y, run_eagerly=False, loss=loss)
    assert len(_replayed(replayed[0])) == 2
    _assert_same(eager, replayed)


@pytest.mark.parametrize("seed", [None, 7])
def test_dropout_draws_a_new_mask_at_every_replay(seed):
    def build():
        return Sequential(
            [
                layers.Dense(6, input_dim=4, activation="relu"),
                layers.Dropout(0.5, seed=seed),
                layers.Dense(3, activation="softmax"),
            ]
        )

    x, y = _data((4,))
    eager = _train(build, x, y, run_eagerly=True)
    replayed = _train(build, x, y, run_eagerly=False)
    assert len(_replayed(replayed[0])) == 2
    _assert_same(eager, replayed)  # the same masks, drawn in the same order


def test_layers_that_draw_random_numbers_in_python_stay_eager():
    def build():
        return Sequential(
            [
                layers.Dense(6, input_dim=4, activation="relu"),
                layers.GaussianNoise(0.3),
                layers.Dense(3, activation="softmax"),
            ]
        )

    x, y = _data((4,))
    eager = _train(build, x, y, run_eagerly=True)
    replayed = _train(build, x, y, run_eagerly=False)
    assert replayed[0].compiled_step.replayable is False
    assert "GaussianNoise" in replayed[0].compiled_step.why_eager
    assert not _replayed(replayed[0])
    _assert_same(eager, replayed)


def test_a_custom_layer_keeps_the_model_eager():
    class Doubled(layers.Dense):  # a user's subclass: its call may do anything
        def call(self, inputs):
            return super().call(inputs) * 2.0

    def build():
        return Sequential([Doubled(5, input_dim=4), layers.Dense(3, activation="softmax")])

    x, y = _data((4,))
    model, _ = _train(build, x, y, run_eagerly=False)
    assert model.compiled_step.replayable is False and not _replayed(model)


def test_subclassed_models_and_custom_train_steps_stay_eager():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.dense(inputs)

    class Stepped(Sequential):
        def train_step(self, data):
            return super().train_step(data)

    x, y = _data((4,))
    for build in (Net, lambda: Stepped([layers.Dense(3, activation="softmax")])):
        model, _ = _train(build, x, y, run_eagerly=False)
        assert model.compiled_step.replayable is False


def test_regularisers_keep_the_model_eager():
    def build():
        return Sequential(
            [layers.Dense(3, input_dim=4, activation="softmax", kernel_regularizer="l2")]
        )

    x, y = _data((4,))
    eager = _train(build, x, y, run_eagerly=True)
    replayed = _train(build, x, y, run_eagerly=False)
    assert replayed[0].compiled_step.replayable is False
    _assert_same(eager, replayed)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight"])
def test_sample_weights_are_replayed(reduction):
    x, y = _data((4,))
    w = RNG.uniform(0.5, 2.0, len(x))  # float64: the loss casts them with an op
    loss = shendu.losses.CategoricalCrossentropy(reduction=reduction)
    eager = _train(_mlp, x, y, run_eagerly=True, loss=loss, sample_weight=w)
    replayed = _train(_mlp, x, y, run_eagerly=False, loss=loss, sample_weight=w)
    assert len(_replayed(replayed[0])) == 2, replayed[0].compiled_step.why_eager
    _assert_same(eager, replayed)


def test_class_weights_are_replayed():
    x, y = _data((4,))
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    eager = _train(_mlp, x, y, run_eagerly=True, class_weight=weights)
    replayed = _train(_mlp, x, y, run_eagerly=False, class_weight=weights)
    assert len(_replayed(replayed[0])) == 2
    _assert_same(eager, replayed)


@pytest.mark.parametrize(
    "case", ["int labels, binary_crossentropy", "(n,) targets, mse", "float64 one-hot"]
)
def test_targets_the_loss_converts_are_replayed(case):
    # the loss casts the targets and aligns their rank with ops, which the tape holds
    x, _ = _data((4,))
    if case.startswith("int"):
        y, loss, units, act = RNG.integers(0, 2, len(x)), "binary_crossentropy", 1, "sigmoid"
    elif case.startswith("(n,)"):
        y, loss, units, act = RNG.normal(size=len(x)), "mse", 1, None
    else:
        y, loss, units, act = (
            _data((4,))[1].astype(np.float64),
            "categorical_crossentropy",
            3,
            "softmax",
        )

    def build():
        return Sequential(
            [layers.Dense(5, input_dim=4, activation="relu"), layers.Dense(units, activation=act)]
        )

    def train(run_eagerly):
        shendu.utils.set_random_seed(3)
        model = build()
        model.compile(optimizer="adam", loss=loss, run_eagerly=run_eagerly)
        for start in (0, 8, 0, 8, 0, 8):
            model.train_step((x[start : start + 8], y[start : start + 8]))
        return model

    eager, replayed = train(True), train(False)
    assert len(_replayed(replayed)) == 1, replayed.compiled_step.why_eager
    for a, b in zip(eager.get_weights(), replayed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_targets_changed_by_array_code_keep_the_step_eager():
    # the percentage error's denominator max(|y|, eps) is made in NumPy: an array the tape
    # cannot hold
    x, _ = _data((4,))
    y = RNG.normal(size=(len(x), 1)).astype(np.float32)
    model = Sequential([layers.Dense(1, input_dim=4)])
    model.compile(optimizer="adam", loss="mean_absolute_percentage_error")
    for _ in range(3):
        model.train_step((x[:8], y[:8]))
    assert not _replayed(model)
    assert "made in Python" in model.compiled_step.why_eager


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_losses_that_branch_on_target_values_keep_the_model_eager(loss):
    # labels in {0, 1} are mapped to {-1, 1}, others kept: a tape would keep one branch
    x, _ = _data((4,))
    y = RNG.choice([-1.0, 1.0], (len(x), 1)).astype(np.float32)
    model = Sequential([layers.Dense(1, input_dim=4, activation="tanh")])
    model.compile(optimizer="adam", loss=loss)
    for _ in range(3):
        model.train_step((x[:8], y[:8]))
    assert not _replayed(model)
    assert model.compiled_step.why_eager.endswith("branches on the targets' values")


def test_changing_trainable_drops_the_tapes_and_matches_eager():
    x, y = _data((4,))
    results = []
    for run_eagerly in (True, False):
        shendu.utils.set_random_seed(3)
        model = _mlp()
        model.compile(optimizer="sgd", loss="categorical_crossentropy", run_eagerly=run_eagerly)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        frozen = model.layers[0].get_weights()
        model.layers[0].trainable = False
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        for a, b in zip(frozen, model.layers[0].get_weights()):
            np.testing.assert_array_equal(a, b)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_run_eagerly_switch():
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert model.run_eagerly is False
    model.run_eagerly = True
    assert model.run_eagerly is True and model.compiled_step is None
    model.compile(optimizer="adam", loss="categorical_crossentropy", run_eagerly=True)
    assert model.run_eagerly is True
    x, y = _data((4,))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # runs without a replay object


def test_recorder_is_per_context_and_not_nested():
    with Recorder() as recorder:
        assert active_observer() is recorder
        shendu.ops.relu(shendu.tensor(np.ones(3, np.float32), requires_grad=True))
        with pytest.raises(RecorderBusy, match="this context records a step already"):
            Recorder().__enter__()
    assert active_observer() is None and len(recorder.entries) == 1

    import threading

    with Recorder() as recorder:
        worker = threading.Thread(target=lambda: shendu.ops.relu(np.ones(3, np.float32)))
        worker.start()
        worker.join()
    assert recorder.entries == []


def test_an_error_while_recording_leaves_no_recorder_behind():
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = _data((4,))
    model.train_step((x[:8], y[:8]))  # the first step of a signature is not recorded
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        model.train_step((x[:8], y[:8, :2]))
    assert active_observer() is None
    model.train_step((x[:8], y[:8]))  # the recorded step
    assert len(_replayed(model)) == 1


def test_masks_made_in_python_keep_the_step_eager():
    def build():
        return Sequential(
            [
                layers.Input((6,), dtype="int64"),
                layers.Embedding(9, 4, mask_zero=True),
                layers.LSTM(5),
                layers.Dense(3, activation="softmax"),
            ]
        )

    _, x, y = _build_data("text")
    x[:, -2:] = 0  # padding
    eager = _train(build, x, y, run_eagerly=True)
    replayed = _train(build, x, y, run_eagerly=False)
    assert not _replayed(replayed[0])
    assert "LSTM keeps a ndarray (mask)" in replayed[0].compiled_step.why_eager
    _assert_same(eager, replayed)


def test_a_replayed_step_still_checks_embedding_indices():
    build, x, y = _build_data("text")
    model = build()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    for _ in range(3):
        model.train_step((x[:8], y[:8]))
    assert len(_replayed(model)) == 1
    bad = x[:8].copy()
    bad[0, 0] = 9
    with pytest.raises(ValueError, match=r"Layer 'embedding\w*': indices must be in \[0, 9\)"):
        model.train_step((bad, y[:8]))


def test_a_layer_that_adds_a_loss_keeps_the_step_eager():
    class Penalised(layers.Dense):  # posing as a built-in, replay_safe layer
        __module__ = "shendu.layers.fake"
        replay_safe = True

        def call(self, inputs):
            out = super().call(inputs)
            self.add_loss(shendu.ops.mean(out * out))
            return out

    x, y = _data((4,))
    model = Sequential([Penalised(3, input_dim=4, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    for _ in range(3):
        model.train_step((x[:8], y[:8]))
    assert not _replayed(model)
    assert model.compiled_step.why_eager == "a layer added a loss during the step (add_loss)"


def test_many_signatures_keep_a_bounded_number_of_tapes(monkeypatch):
    from shendu.models import compiled_step

    monkeypatch.setattr(compiled_step, "MAX_SEEN", 4)
    x, y = _data((4,), n=40)
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    for _ in range(3):  # twelve batch sizes, each seen three times
        for n in range(2, 14):
            model.train_step((x[:n], y[:n]))
    replay = model.compiled_step
    assert len(replay.tapes) <= compiled_step.MAX_TAPES and len(replay.seen) <= 4


def test_metrics_get_a_tensor_from_a_replayed_step_as_from_an_eager_one():
    seen = []

    class Kinds(shendu.metrics.Metric):
        def update_state(self, y_true, y_pred, sample_weight=None):
            seen.append(type(y_pred))
            self.total = float(y_pred.numpy().sum())

        def result(self):
            return self.total

        def reset_state(self):
            self.total = 0.0

    x, y = _data((4,))
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=[Kinds()])
    for _ in range(3):  # eager (builds), eager and recorded, replayed
        model.train_step((x[:8], y[:8]))
    assert len(_replayed(model)) == 1
    assert seen == [shendu.Tensor] * 3


def test_a_replayed_backward_frees_each_node_after_its_backward(monkeypatch):
    import gc
    import weakref

    from shendu.ops import linalg

    x, y = _data((4,))
    model = Sequential(
        [
            layers.Dense(64, input_dim=4, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    for _ in range(3):  # built, recorded, checked: the next step is replayed
        model.train_step((x[:8], y[:8]))
    outputs, alive = [], []
    forward, backward = linalg.Linear.forward, linalg.Linear.backward

    def tracking_forward(self, *args):
        out = forward(self, *args)
        outputs.append(weakref.ref(out))
        return out

    def tracking_backward(self, gy):
        gc.collect()
        alive.append([ref() is not None for ref in outputs])
        return backward(self, gy)

    monkeypatch.setattr(linalg.Linear, "forward", tracking_forward)
    monkeypatch.setattr(linalg.Linear, "backward", tracking_backward)
    model.train_step((x[:8], y[:8]))
    assert len(_replayed(model)) == 1
    # when the first layer's backward runs, the second layer's output is gone; the third's
    # (the logits behind the softmax) lives on with the prediction, as in the eager step,
    # where a cross-entropy metric would use them
    assert alive[-1] == [True, False, True]


def test_a_normalization_layer_replays_with_the_statistics_in_force():
    x, y = _data((4,))
    x[::5, 1] = np.nan  # missing values, imputed by the layer
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    results = []
    for run_eagerly in (True, False):
        shendu.utils.set_random_seed(3)
        norm = layers.Normalization(impute_nan=True)
        norm.adapt(x)
        model = Sequential([layers.Input((4,)), norm, layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", run_eagerly=run_eagerly)
        shendu.utils.set_random_seed(4)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, class_weight=weights)
        norm.adapt(x * 3.0 + 1.0)  # new statistics: the recorded step reads them
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, class_weight=weights)
        if not run_eagerly:
            assert len(_replayed(model)) == 2, model.compiled_step.why_eager
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_two_inputs_replay():
    x_a, y = _data((4,))
    x_b = RNG.normal(size=(len(x_a), 3)).astype(np.float32)

    def build():
        a_in, b_in = layers.Input((4,)), layers.Input((3,))
        joined = layers.Concatenate()([layers.Dense(5)(a_in), layers.Dense(5)(b_in)])
        return Model([a_in, b_in], layers.Dense(3, activation="softmax")(joined))

    eager = _train(build, [x_a, x_b], y, run_eagerly=True)
    replayed = _train(build, [x_a, x_b], y, run_eagerly=False)
    assert len(_replayed(replayed[0])) == 2
    _assert_same(eager, replayed)


@pytest.mark.parametrize("as_dict", [False, True], ids=["list", "dict"])
def test_multi_task_models_replay_with_their_per_output_losses(as_dict):
    x, y_class = _data((4,))
    y_value = RNG.normal(size=(len(x), 1)).astype(np.float32)

    def build():
        inputs = layers.Input((4,))
        shared = layers.Dense(6, activation="relu")(inputs)
        kind = layers.Dense(3, activation="softmax", name="kind")(shared)
        value = layers.Dense(1, name="value")(shared)
        return Model(inputs, {"kind": kind, "value": value} if as_dict else [kind, value])

    def train(run_eagerly):
        shendu.utils.set_random_seed(3)
        model = build()
        model.compile(
            optimizer="adam",
            loss={"kind": "categorical_crossentropy", "value": "mse"},
            loss_weights={"kind": 1.0, "value": 0.5},
            metrics={"kind": ["accuracy"], "value": ["mae"]},
            run_eagerly=run_eagerly,
        )
        targets = {"kind": y_class, "value": y_value} if as_dict else [y_class, y_value]
        history = model.fit(x, targets, epochs=3, batch_size=8, verbose=0)
        return model, history.history

    eager, replayed = train(True), train(False)
    assert len(_replayed(replayed[0])) == 2, replayed[0].compiled_step.why_eager
    assert {"kind_loss", "value_loss"} <= set(replayed[1])
    _assert_same(eager, replayed)


def test_a_step_records_while_another_thread_records_its_own():
    """Captures are per context: a thread recording its step does not stop this one's."""
    import threading

    x, y = _data((4,))
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.train_step((x[:8], y[:8]))
    entered, leave = threading.Event(), threading.Event()
    seen = []

    def other_thread():
        with Recorder() as recorder:
            entered.set()
            leave.wait(10)
        seen.append(recorder.entries)

    worker = threading.Thread(target=other_thread)
    worker.start()
    entered.wait(10)
    model.train_step((x[:8], y[:8]))  # recorded here, not in the other thread's capture
    model.train_step((x[:8], y[:8]))
    leave.set()
    worker.join()
    assert seen == [[]]
    assert len(_replayed(model)) == 1


@pytest.mark.parametrize("call", ["train_step", "predict"])
def test_a_step_inside_a_recorded_step_runs_eagerly(monkeypatch, call):
    """A model's step called while this context records (a step inside a step) is not
    recorded on its own: it runs eagerly and leaves the outer capture in place."""
    from shendu.models.compiled_step import CompiledStep

    x, y = _data((4,))
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    monkeypatch.setattr(CompiledStep, "_tape_for", staticmethod(lambda *args: True))
    with Recorder() as outer:
        if call == "train_step":
            model.train_step((x[:8], y[:8]))
            assert not model.compiled_step.tapes
        else:
            out = model.predict(x[:8], verbose=0)
            assert out.shape == (8, 3) and not model.compiled_step.inference_tapes
        assert active_observer() is outer and outer.entries
    assert active_observer() is None


class _Counting(layers.Layer):
    """Posing as a built-in, replay_safe layer, but its output depends on a Python counter
    that a tape records as a constant: only the check against the eager step finds out."""

    replay_safe = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x * float(self.calls)


_Counting.__module__ = "shendu.layers.counting"


def _counting_model():
    model = Sequential([layers.Input((4,)), _Counting(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def test_a_tape_that_differs_from_the_eager_step_is_dropped_with_the_reason():
    x, y = _data((4,))
    results = []
    for run_eagerly in (True, False):
        shendu.utils.set_random_seed(1)
        model = _counting_model()
        model.run_eagerly = run_eagerly
        for _ in range(5):
            model.train_step((x[:8], y[:8]))
        results.append(model.get_weights())
    assert not _replayed(model) and model.compiled_step.verified == set()
    assert model.compiled_step.why_eager.startswith(
        "the replayed step differed from the eager step: loss: largest difference"
    )
    for a, b in zip(*results):  # every step was the eager one
        np.testing.assert_array_equal(a, b)


def test_an_inference_tape_that_differs_from_the_eager_call_is_dropped():
    x, _ = _data((4,))
    model = _counting_model()
    outputs = [model.predict(x[:8], verbose=0) for _ in range(5)]
    assert not any(model.compiled_step.inference_tapes.values())
    assert model.compiled_step.why_eager_inference.startswith(
        "the replayed call differed from the eager call: prediction"
    )
    assert not np.allclose(outputs[3], outputs[4])  # each call used the layer's new count


def test_a_checked_tape_replays_from_then_on():
    x, y = _data((4,))
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    for _ in range(2):
        model.train_step((x[:8], y[:8]))
    assert len(model.compiled_step.tapes) == 1 and not model.compiled_step.verified
    model.train_step((x[:8], y[:8]))  # the check
    assert len(model.compiled_step.verified) == 1 and model.compiled_step.why_eager is None
