"""The symbolic-shape table: functional graphs on Inputs with unknown sizes
(``keras_symbolic_cases.py``: convolutions and pooling on unknown lengths and image sizes,
recurrent and attention layers, a text CNN, a user layer that reads ``ops.shape``, ops on
KerasTensors, ten applications on ``(None, None, 3)``), each output's shape and dtype
against Keras 3.15's (recorded by ``tools/record_keras_dtypes.py`` into
``fixtures/keras_symbolic_shapes.json``). Unknown sizes must stay unknown, as in Keras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import shendu

from .keras_symbolic_cases import SYMBOLIC_CASES

KERAS = json.loads(
    (Path(__file__).parent / "fixtures" / "keras_symbolic_shapes.json").read_text()
)["symbolic"]


def _specs(outputs):
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [[list(o.shape), shendu.backend.standardize_dtype(o.dtype)] for o in outs]


@pytest.mark.parametrize("name", sorted(SYMBOLIC_CASES))
def test_symbolic_outputs_match_keras(name):
    want = KERAS[name]
    assert not isinstance(want, str), f"Keras could not build {name}: {want}"
    _, outputs = SYMBOLIC_CASES[name](shendu)
    got = [[[d for d in shape], dtype] for shape, dtype in _specs(outputs)]
    assert got == want, f"{name}: shendu {got}, Keras {want}"


def test_user_layer_with_ops_shape_runs_on_any_length():
    inputs, outputs = SYMBOLIC_CASES["user layer with ops.shape"](shendu)
    model = shendu.Model(inputs, outputs)
    for length in (3, 50):
        x = np.ones((2, length, 4), "float32")
        np.testing.assert_allclose(model.predict(x, verbose=0), np.ones((2, 4)), rtol=1e-6)


def test_fully_convolutional_head_runs_at_two_image_sizes():
    """A head on include_top=False features of unknown size (keras.io's fine-tuning idiom)."""
    base = shendu.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(None, None, 3), alpha=0.35
    )
    x = shendu.layers.GlobalAveragePooling2D()(base.output)
    model = shendu.Model(base.input, shendu.layers.Dense(3)(x))
    assert model.output.shape == (None, 3)
    for size in (32, 48):
        out = model.predict(np.zeros((1, size, size, 3), "float32"), verbose=0)
        assert out.shape == (1, 3)


def test_text_cnn_on_unknown_length_trains():
    keras = shendu
    inputs, outputs = SYMBOLIC_CASES["text CNN"](keras)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(1, 100, (64, 40))
    y = (x[:, :5].mean(axis=1) > 50).astype("float32")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(rng.integers(1, 100, (2, 70)), verbose=0).shape == (2, 1)
