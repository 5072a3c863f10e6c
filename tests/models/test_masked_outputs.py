"""A model whose output carries a mask (Embedding(mask_zero=True) upstream): compiled losses
and metrics count the kept steps only, as Keras's. Figures from Keras 3.15 (JAX) on the same
program."""

import numpy as np
import pytest

import shendu as keras

TOKENS = np.array([[1, 2, 0, 0]])


def _model():
    inputs = keras.Input((4,), dtype="int32")
    x = keras.layers.Embedding(10, 3, mask_zero=True, embeddings_initializer="ones")(inputs)
    outputs = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")(x)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse", metrics=["mae"])
    return model


def test_masked_steps_do_not_count_in_loss_or_metrics():
    y = np.array([[[3.0], [3.0], [100.0], [-100.0]]])
    logs = _model().evaluate(TOKENS, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(0.0)  # Keras 3.15: 0.0; shendu was 5004.5
    assert logs["mae"] == pytest.approx(0.0)  # Keras 3.15: 0.0; shendu was 50.0


def test_the_mean_is_over_the_kept_steps():
    y = np.array([[[2.0], [4.0], [100.0], [-100.0]]])
    model = _model()
    logs = model.evaluate(TOKENS, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(1.0, rel=1e-6)  # Keras 3.15: 1.0 (was 5005.0)
    assert logs["mae"] == pytest.approx(1.0, rel=1e-6)  # Keras 3.15: 1.0 (was 50.5)
    history = model.fit(TOKENS, y, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(1.0, rel=1e-6)  # Keras: 1.0


def test_sample_weights_combine_with_the_mask():
    y = np.array([[[2.0], [5.0], [100.0], [-100.0]]])
    weights = np.array([[1.0, 0.5, 1.0, 1.0]])
    logs = _model().evaluate(TOKENS, y, sample_weight=weights, verbose=0, return_dict=True)
    # kept errors 1 and 4, weighted 1 and 0.5: sum 3 over 2 kept steps (Keras 3.15: 1.5)
    assert logs["loss"] == pytest.approx(1.5, rel=1e-6)
    assert logs["mae"] == pytest.approx(1.5, rel=1e-6)  # Keras 3.15: 1.5


def test_a_loss_called_directly_on_a_masked_tensor():
    pred = keras.ops.convert_to_tensor(np.array([[[1.0], [9.0]]], "float32"))
    pred._keras_mask = np.array([[True, False]])
    loss = keras.losses.MeanAbsoluteError(reduction="sum_over_batch_size")
    value = loss(np.array([[[0.0], [0.0]]]), pred)
    assert float(value) == pytest.approx(1.0, rel=1e-6)
