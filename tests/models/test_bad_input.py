"""Every user-facing error path of the training API: raised before any weight changes,
with a message naming what was expected and what came in. The model keeps training
correctly afterwards."""

import numpy as np
import pytest

import shendu
from shendu import layers
from shendu.models import Sequential

X = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
Y_INT = np.random.default_rng(1).integers(0, 3, 20)
Y_HOT = np.eye(3, dtype=np.float32)[Y_INT]


def _model(loss="categorical_crossentropy"):
    m = Sequential(
        [
            layers.Input((4,)),
            layers.Dense(5, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    m.compile("adam", loss, metrics=["accuracy"])
    return m


CASES = [
    (
        "sample counts differ",
        lambda m: m.fit(X, Y_HOT[:10], verbose=0),
        ValueError,
        r"Data cardinality is ambiguous.*'x' sizes: 20.*'y' sizes: 10",
    ),
    (
        "wrong feature count",
        lambda m: m.fit(X[:, :3], Y_HOT, verbose=0),
        ValueError,
        r"expected axis -1 of input shape to have value 4, but received input with shape \(None, 3\)",
    ),
    (
        "wrong feature count in predict",
        lambda m: m.predict(np.ones((2, 5)), verbose=0),
        ValueError,
        r"expected axis -1 of input shape to have value 4, but received input with shape \(None, 5\)",
    ),
    (
        "NaN in x",
        lambda m: m.fit(np.where(X > 1.5, np.nan, X), Y_HOT, verbose=0),
        ValueError,
        r"`x` contains NaN",
    ),
    (
        "inf in y",
        lambda m: m.fit(X, np.where(Y_HOT > 0, np.inf, 0), verbose=0),
        ValueError,
        r"`y` contains inf",
    ),
    (
        "integer labels with categorical_crossentropy",
        lambda m: m.fit(X, Y_INT, verbose=0),
        ValueError,
        r"categorical_crossentropy: expected one-hot labels.*use sparse_categorical_crossentropy",
    ),
    (
        "one-hot labels with the sparse loss",
        lambda m: (
            m.compile("adam", "sparse_categorical_crossentropy"),
            m.fit(X, Y_HOT, verbose=0),
        ),
        ValueError,
        r"look one-hot encoded; use categorical_crossentropy",
    ),
    (
        "unknown loss",
        lambda m: m.compile("adam", "categorical_crossentropyy"),
        ValueError,
        r"Unknown loss: 'categorical_crossentropyy'. Did you mean 'categorical_crossentropy'",
    ),
    (
        "unknown metric",
        lambda m: m.compile("adam", "mse", metrics=["acuracy"]),
        ValueError,
        r"Unknown metric: 'acuracy'. Did you mean 'accuracy'",
    ),
    (
        "unknown optimizer",
        lambda m: m.compile("adamm", "mse"),
        ValueError,
        r"Unknown optimizer: 'adamm'. Did you mean 'adam'",
    ),
    (
        "class_weight negative",
        lambda m: m.fit(X, Y_HOT, class_weight={0: 1, 1: -2}, verbose=0),
        ValueError,
        r"`class_weight` values must be finite non-negative numbers. Received: \{1: -2\}",
    ),
    (
        "validation_split = 1",
        lambda m: m.fit(X, Y_HOT, validation_split=1.0, verbose=0),
        ValueError,
        r"`validation_split` must be a float in \[0, 1\). Received: validation_split=1.0",
    ),
    (
        "validation_split < 0",
        lambda m: m.fit(X, Y_HOT, validation_split=-0.1, verbose=0),
        ValueError,
        r"Received: validation_split=-0.1",
    ),
    (
        "negative units",
        lambda m: layers.Dense(-3),
        ValueError,
        r"Received an invalid value for `units`, expected a positive integer. Received: units=-3",
    ),
    ("zero units", lambda m: layers.Dense(0), ValueError, r"Received: units=0"),
    (
        "batch_size 0",
        lambda m: m.fit(X, Y_HOT, batch_size=0, verbose=0),
        ValueError,
        r"Expected `batch_size` as a positive integer. Received: batch_size=0",
    ),
    (
        "negative epochs",
        lambda m: m.fit(X, Y_HOT, epochs=-1, verbose=0),
        ValueError,
        r"Expected `epochs` as a non-negative integer",
    ),
    (
        "string data",
        lambda m: m.fit(np.array([["a"] * 4] * 20, dtype=object), Y_HOT, verbose=0),
        TypeError,
        r"`x` must hold numbers",
    ),
    (
        "fit before compile",
        lambda m: Sequential([layers.Dense(2)]).fit(X, Y_HOT, verbose=0),
        RuntimeError,
        r"You must call compile\(\) before fit",
    ),
    (
        "loss_weights length",
        lambda m: m.compile("adam", "mse", loss_weights=[1.0, 2.0]),
        ValueError,
        r"expected 1 loss weights",
    ),
    (
        "labels out of range",
        lambda m: (
            m.compile("adam", "sparse_categorical_crossentropy"),
            m.fit(X, Y_INT + 3, verbose=0),
        ),
        ValueError,
        r"labels must be in \[0, 3\)",
    ),
    (
        "generator with y",
        lambda m: m.fit(iter([(X, Y_HOT)]), Y_HOT, verbose=0),
        ValueError,
        r"When `x` is a generator or dataset, `y` must be None",
    ),
    (
        "clip arguments together",
        lambda m: shendu.optimizers.SGD(clipnorm=1, clipvalue=1),
        ValueError,
        r"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set",
    ),
    (
        "unknown activation",
        lambda m: layers.Dense(3, activation="sigmod"),
        ValueError,
        r"Unknown activation: 'sigmod'. Did you mean 'sigmoid'",
    ),
]


@pytest.mark.parametrize("name,action,exc,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_before_any_weight_changes(name, action, exc, message):
    model = _model()
    before = model.get_weights()
    with pytest.raises(exc, match=message):
        action(model)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(X, Y_HOT, epochs=30, batch_size=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_at_least_20_cases():
    assert len(CASES) >= 20


def test_nan_in_x_is_allowed_when_a_layer_imputes_it():
    norm = shendu.layers.Normalization(impute_nan=True)
    x = np.where(X > 1.5, np.nan, X)
    norm.adapt(x)
    m = Sequential([layers.Input((4,)), norm, layers.Dense(3, activation="softmax")])
    m.compile("adam", "categorical_crossentropy")
    h = m.fit(x, Y_HOT, epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
