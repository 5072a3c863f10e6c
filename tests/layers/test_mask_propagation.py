"""Masks flow through the layers Keras 3 propagates them through, and stop where Keras
stops them (the table was read from Keras 3.15 on its torch backend: an Embedding with
``mask_zero=True`` followed by each layer, eager)."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

TOKENS = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
KEEPS = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], dtype=bool)

PROPAGATE = {
    "Dense": lambda: layers.Dense(4),
    "Activation": lambda: layers.Activation("relu"),
    "Dropout": lambda: layers.Dropout(0.1),
    "LayerNormalization": lambda: layers.LayerNormalization(),
    "BatchNormalization": lambda: layers.BatchNormalization(),
    "GroupNormalization": lambda: layers.GroupNormalization(groups=3),
    "UnitNormalization": lambda: layers.UnitNormalization(),
    "TimeDistributed": lambda: layers.TimeDistributed(layers.Dense(4)),
    "LSTM return_sequences": lambda: layers.LSTM(4, return_sequences=True),
    "GRU return_sequences": lambda: layers.GRU(4, return_sequences=True),
    "SimpleRNN return_sequences": lambda: layers.SimpleRNN(4, return_sequences=True),
    "Bidirectional": lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True)),
    "SpatialDropout1D": lambda: layers.SpatialDropout1D(0.1),
    "GaussianNoise": lambda: layers.GaussianNoise(0.1),
    "GaussianDropout": lambda: layers.GaussianDropout(0.1),
    "AlphaDropout": lambda: layers.AlphaDropout(0.1),
    "ReLU": lambda: layers.ReLU(),
    "LeakyReLU": lambda: layers.LeakyReLU(),
    "PReLU": lambda: layers.PReLU(),
    "ELU": lambda: layers.ELU(),
    "ActivityRegularization": lambda: layers.ActivityRegularization(),
    "Identity": lambda: layers.Identity(),
}
STOP = {
    "Conv1D": lambda: layers.Conv1D(4, 1),
    "LSTM last step": lambda: layers.LSTM(4),
    "GlobalAveragePooling1D": lambda: layers.GlobalAveragePooling1D(),
    "GlobalMaxPooling1D": lambda: layers.GlobalMaxPooling1D(),
    "Reshape": lambda: layers.Reshape((-1, 3)),
    "Flatten": lambda: layers.Flatten(),
    "Lambda": lambda: layers.Lambda(lambda t: t * 2),
    "Permute": lambda: layers.Permute((2, 1)),
    "Cropping1D": lambda: layers.Cropping1D(1),
    "ZeroPadding1D": lambda: layers.ZeroPadding1D(1),
    "UpSampling1D": lambda: layers.UpSampling1D(2),
}


def _embedded():
    return layers.Embedding(10, 3, mask_zero=True)(TOKENS)


@pytest.mark.parametrize("name", sorted(PROPAGATE))
def test_layer_propagates_the_mask(name):
    out = PROPAGATE[name]()(_embedded())
    assert out._keras_mask is not None, name
    np.testing.assert_array_equal(np.asarray(out._keras_mask), KEEPS)


def test_masking_makes_its_own_mask_from_the_values():
    x = np.ones((2, 5, 3), "float32")
    x[0, 3:] = 0.0
    out = layers.Masking(mask_value=0.0)(x)
    np.testing.assert_array_equal(out._keras_mask, [[1, 1, 1, 0, 0], [1] * 5])


@pytest.mark.parametrize("name", sorted(STOP))
def test_layer_stops_the_mask(name):
    out = STOP[name]()(_embedded())
    assert out._keras_mask is None, name


@pytest.mark.parametrize("merge", [layers.Add, layers.Multiply, layers.Average, layers.Subtract])
def test_merge_keeps_a_step_every_masked_input_keeps(merge):
    a = _embedded()
    b = layers.Embedding(10, 3, mask_zero=True)(np.array([[1, 2, 0, 0, 0], [4, 5, 6, 0, 0]]))
    out = merge()([a, b])
    np.testing.assert_array_equal(out._keras_mask, KEEPS & np.array([[1, 1, 0, 0, 0]] * 2, bool))


def test_merge_of_an_unmasked_input_keeps_the_other_mask():
    a = _embedded()
    out = layers.Add()([a, a * 1.0])  # an op's result carries no mask
    np.testing.assert_array_equal(out._keras_mask, KEEPS)


def test_concatenate_mask_is_keras_any_over_the_last_axis():
    a = _embedded()
    b = layers.Embedding(10, 3, mask_zero=True)(np.array([[0, 0, 0, 0, 7], [0, 0, 0, 0, 0]]))
    out = layers.Concatenate()([a, b])
    expected = KEEPS | np.array([[0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], bool)
    np.testing.assert_array_equal(out._keras_mask, expected)
    time_concat = layers.Concatenate(axis=1)([a, b])
    np.testing.assert_array_equal(
        time_concat._keras_mask, np.concatenate([KEEPS, expected ^ KEEPS], axis=1)
    )


def test_dot_drops_the_mask():
    a = _embedded()
    assert layers.Dot(axes=-1)([a, a])._keras_mask is None


class PassThrough(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x):
        return x * 1.0


class Opaque(layers.Layer):
    def call(self, x):
        return x * 1.0


def _lstm_after(custom):
    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), dtype="int32")
    hidden = custom()(layers.Embedding(10, 3, mask_zero=True)(inp))
    return keras.Model(inp, layers.LSTM(2)(hidden))


def test_custom_layer_with_supports_masking_passes_the_mask_on():
    model = _lstm_after(PassThrough)
    padded = model.predict(TOKENS, verbose=0)
    trimmed = model.predict(TOKENS[:, :3], verbose=0)
    np.testing.assert_allclose(padded, trimmed, atol=1e-6)


def test_custom_layer_without_supports_masking_stops_the_mask():
    model = _lstm_after(Opaque)
    padded = model.predict(TOKENS, verbose=0)
    trimmed = model.predict(TOKENS[:, :3], verbose=0)
    assert np.abs(padded - trimmed).max() > 1e-4  # the padded steps are read
