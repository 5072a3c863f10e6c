"""Models end to end: the seed program, functional and subclassed models, fit/evaluate/predict."""

import os
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu import layers, ops
from shendu.models import Model, Sequential

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


@pytest.mark.parametrize("seed", range(5))
def test_seed_program_reaches_keras_accuracy(seed):
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "examples", "iris_seed.py"),
            "--seed",
            str(seed),
            "--verbose",
            "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    accuracy = float(out.strip().split("test_accuracy=")[1])
    assert accuracy >= 0.93, out


def _toy_classification(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def test_two_seeded_runs_give_bit_identical_weights():
    x, y = _toy_classification()
    weights = []
    for _ in range(2):
        shendu.set_random_seed(7)
        shendu.naming.reset_names()
        model = Sequential(
            [
                layers.Input((4,)),
                layers.Dense(8, activation="relu"),
                layers.Dropout(0.3),
                layers.Dense(2, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        assert np.array_equal(a, b)


def test_fit_returns_history_with_validation_and_evaluate_predict():
    x, y = _toy_classification()
    model = Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(4,)),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=5, batch_size=20, validation_split=0.25, verbose=0)
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(h.history["loss"]) == 5 and h.history["loss"][-1] < h.history["loss"][0]
    assert model.history is h
    loss, acc = model.evaluate(x, y, verbose=0)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert d == {"loss": loss, "accuracy": acc}
    p = model.predict(x, verbose=0)
    assert p.shape == (200, 2) and isinstance(p, np.ndarray)
    np.testing.assert_allclose(p[:5], model.predict(x[:5], verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:3]), p[:3], rtol=1e-6)
    logs = model.train_on_batch(x[:10], y[:10], return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert len(model.test_on_batch(x[:10], y[:10])) == 2


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10, dtype=np.float32)[:, None]
    seen = []

    class Spy(Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(x)

        def test_step(self, data):
            seen.append(np.asarray(data[0]).ravel().tolist())
            return super().test_step(data)

    m = Spy()
    m.compile("sgd", "mse")
    m.fit(x, y, epochs=1, validation_split=0.3, verbose=0)
    assert seen == [[7.0, 8.0, 9.0]]


def test_functional_multi_input_multi_output_with_dict_losses():
    rng = np.random.default_rng(0)
    a_in = layers.Input((3,), name="a")
    b_in = layers.Input((2,), name="b")
    shared = layers.Dense(8, activation="relu")
    h = layers.Concatenate()([shared(a_in), layers.Dense(8)(b_in)])
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    model = Model(inputs={"a": a_in, "b": b_in}, outputs=[reg, cls])
    model.compile(
        optimizer="adam",
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 0.5, "cls": 1.0},
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
    )
    xa, xb = rng.standard_normal((64, 3)), rng.standard_normal((64, 2))
    y_reg, y_cls = xa.sum(1, keepdims=True), (xa[:, 0] > 0).astype(int) + (xb[:, 0] > 0)
    h1 = model.fit(
        {"a": xa, "b": xb}, {"reg": y_reg, "cls": y_cls}, epochs=30, batch_size=16, verbose=0
    )
    assert {"loss", "reg_loss", "cls_loss", "cls_accuracy", "reg_mae"} <= set(h1.history)
    assert h1.history["loss"][-1] < h1.history["loss"][0]
    preds = model.predict({"a": xa, "b": xb}, verbose=0)
    assert [p.shape for p in preds] == [(64, 1), (64, 3)]
    assert model.get_layer("reg").units == 1
    config = model.get_config()
    clone = Model.from_config(config)
    clone.set_weights(model.get_weights())
    for p, q in zip(preds, clone.predict({"a": xa, "b": xb}, verbose=0)):
        np.testing.assert_allclose(p, q, rtol=1e-5)


def test_nested_models_and_shared_layers():
    inner = Sequential([layers.Input((4,)), layers.Dense(3)])
    x = layers.Input((4,))
    out = layers.Add()([inner(x), inner(x)])
    model = Model(x, out)
    data = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(
        model.predict(data, verbose=0), 2 * inner.predict(data, verbose=0), rtol=1e-6
    )
    assert len(model.trainable_weights) == 2


def test_subclassed_model_with_custom_train_step_vae():
    class VAE(Model):
        def __init__(self):
            super().__init__()
            self.enc = layers.Dense(8, activation="relu")
            self.mu = layers.Dense(2)
            self.logvar = layers.Dense(2)
            self.dec = layers.Dense(6)

        def call(self, x, training=None):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h)
            eps = np.random.default_rng(0).standard_normal(mu.shape).astype(np.float32)
            z = mu + ops.exp(0.5 * logvar) * eps if training else mu
            return self.dec(z), mu, logvar

        def train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            for v in self.trainable_weights:
                v.grad = None
            recon, mu, logvar = self(x, training=True)
            rec = ops.mean(ops.sum(ops.square(recon - x), axis=-1))
            kl = -0.5 * ops.mean(ops.sum(1 + logvar - ops.square(mu) - ops.exp(logvar), axis=-1))
            loss = rec + kl
            loss.backward()
            self.optimizer.apply([v.grad for v in self.trainable_weights], self.trainable_weights)
            return {"loss": loss.item(), "kl": kl.item()}

    rng = np.random.default_rng(1)
    z = rng.standard_normal((128, 2))
    x = np.concatenate([z, z**2, z[:, :1] * z[:, 1:], -z[:, :1]], axis=1).astype(np.float32)
    vae = VAE()
    vae.compile(optimizer=shendu.optimizers.Adam(0.01))

    def recon_error():
        with shendu.no_grad():
            return float(((vae(x)[0].numpy() - x) ** 2).sum(1).mean())

    before = recon_error()
    h = vae.fit(x, epochs=40, batch_size=32, verbose=0)
    assert recon_error() < 0.5 * before
    assert "kl" in h.history and len(h.history["loss"]) == 40


def test_plain_pytorch_style_loop():
    x, y = _toy_classification()
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(2)])
    opt = shendu.optimizers.SGD(0.1, params=model.trainable_variables)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = ops.mean(ops.sparse_categorical_crossentropy(y, model(x), from_logits=True))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_generator_input_and_steps_per_epoch():
    x, y = _toy_classification()

    def batches():
        while True:
            for i in range(0, 200, 50):
                yield x[i : i + 50], y[i : i + 50]

    model = Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(batches(), epochs=2, steps_per_epoch=4, verbose=0)
    assert len(h.history["loss"]) == 2
    assert model.evaluate(iter([(x, y)]), verbose=0)[0] > 0


def test_summary_layout_matches_keras(capsys):
    shendu.naming.reset_names()
    model = Sequential([layers.Input((4,)), layers.Dense(10, activation="relu"), layers.Dense(3)])
    model.summary()
    text = capsys.readouterr().out
    expected = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 10)             │            50 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 3)              │            33 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 83 (332.00 B)
 Trainable params: 83 (332.00 B)
 Non-trainable params: 0 (0.00 B)
"""
    assert text == expected


def test_sequential_api_pop_get_layer_clone():
    model = Sequential([layers.Dense(4, input_dim=3), layers.Dense(2)])
    assert len(model.layers) == 2
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and len(model.layers) == 1
    model.add(layers.Dense(5, name="last"))
    assert model.get_layer("last").units == 5 and model.output_shape == (None, 5)
    clone = shendu.models.clone_model(model)
    assert clone.get_config()["layers"][1:] != [] and clone.count_params() == model.count_params()
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(TypeError, match="Sequential.add: expected a Layer instance"):
        model.add("dense")


def test_progress_bar_formats(capsys):
    x, y = _toy_classification(40)
    model = Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=10, verbose=1)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert "\r" not in out  # not a terminal: no carriage-return spam
    import re

    assert re.fullmatch(
        r"4/4 ━{20} \d+s \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", lines[1]
    ), lines[1]
    model.fit(x, y, epochs=1, batch_size=10, verbose=2)
    line = capsys.readouterr().out.strip().splitlines()[1]
    assert re.fullmatch(
        r"4/4 - \d+s - \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", line
    ), line


def test_class_weight_and_sample_weight_change_the_loss():
    x, y = _toy_classification()
    model = Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    w0 = model.get_weights()
    base = model.evaluate(x, y, verbose=0)
    weighted = model.evaluate(x, y, sample_weight=np.where(y == 1, 2.0, 0.0), verbose=0)
    assert weighted != pytest.approx(base)
    model.fit(x, y, class_weight={0: 1.0, 1: 5.0}, epochs=1, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(w0, model.get_weights()))


def test_regularizer_losses_are_added():
    x, y = _toy_classification()
    model = Sequential(
        [layers.Input((4,)), layers.Dense(2, kernel_regularizer=shendu.regularizers.L2(10.0))]
    )
    model.compile("sgd", "mse")
    plain = Sequential([layers.Input((4,)), layers.Dense(2)])
    plain.compile("sgd", "mse")
    plain.set_weights(model.get_weights())
    y2 = np.eye(2)[y]
    assert model.evaluate(x, y2, verbose=0) > plain.evaluate(x, y2, verbose=0) + 1.0


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_per_output_losses_are_weighted_by_batch_size_as_keras_does(run_eagerly):
    """Keras 3.15, same model, zero weights, y = 0..4, batches of 4 and 1: a_loss = 6.0
    (the mean over samples), not 9.75 (the mean over batches)."""
    inp = shendu.Input((2,))
    model = Model(inp, [layers.Dense(1, name="a")(inp), layers.Dense(1, name="b")(inp)])
    model.compile("sgd", ["mse", "mse"], run_eagerly=run_eagerly)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    x = np.arange(10, dtype="float32").reshape(5, 2)
    y = np.arange(5, dtype="float32")
    for _ in range(3):  # eager, recorded, checked and replayed when not eager
        logs = model.evaluate(x, [y, y], batch_size=4, verbose=0, return_dict=True)
    assert logs == {"loss": 12.0, "a_loss": 6.0, "b_loss": 6.0}
