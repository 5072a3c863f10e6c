"""ConvLSTM1D/2D/3D: outputs as Keras 3.15 computes them with the same weights (sums
below measured with its JAX backend), shapes, channels_first, states, configs, a training
step, .keras round trip."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers as L

# (layer, input shape, Keras 3.15's output shape and sum; each weight 0.3 N(0, 1) drawn by
# a fresh np.random.default_rng(1), the input by np.random.default_rng(0))
CASES = [
    (lambda: L.ConvLSTM2D(3, 3, return_sequences=True), (2, 4, 6, 7, 2), (2, 4, 4, 5, 3), 12.387293815612793),
    (lambda: L.ConvLSTM2D(2, (3, 2), strides=2, padding="same", go_backwards=True), (2, 3, 7, 6, 2), (2, 4, 3, 2), 1.0534708499908447),
    (lambda: L.ConvLSTM1D(2, 3, strides=2, padding="same", recurrent_activation="hard_sigmoid"), (2, 3, 9, 4), (2, 5, 2), 0.15831562876701355),
    (lambda: L.ConvLSTM3D(2, 2), (1, 3, 4, 5, 4, 2), (1, 3, 4, 3, 2), 0.8520138263702393),
]  # fmt: skip


def _with_weights(layer, shape):
    layer.build(shape)
    layer.set_weights(
        [
            np.random.default_rng(1).standard_normal(w.shape).astype("float32") * 0.3
            for w in layer.get_weights()
        ]
    )
    return layer


@pytest.mark.parametrize("make, shape, out_shape, keras_sum", CASES)
def test_outputs_as_keras(make, shape, out_shape, keras_sum):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    layer = _with_weights(make(), shape)
    y = layer(x).numpy()
    assert y.shape == out_shape == layer.compute_output_shape(shape)
    np.testing.assert_allclose(y.sum(), keras_sum, rtol=1e-4)
    again = type(layer).from_config(layer.get_config())
    again.build(shape)
    again.set_weights(layer.get_weights())
    np.testing.assert_allclose(again(x).numpy(), y, rtol=1e-6)


def test_channels_first_and_states():
    shape = (2, 3, 2, 6, 7)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    layer = _with_weights(
        L.ConvLSTM2D(2, 3, data_format="channels_first", return_state=True), shape
    )
    out, h, c = (t.numpy() for t in layer(x))
    assert out.shape == h.shape == c.shape == (2, 2, 4, 5)
    np.testing.assert_allclose(
        out.sum() + h.sum() + c.sum(), 24.449100494384766, rtol=1e-4
    )  # Keras
    np.testing.assert_allclose(out, h)


def test_weights_and_errors():
    layer = L.ConvLSTM2D(3, 3)
    layer.build((None, 4, 6, 7, 2))
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 2, 12), (3, 3, 3, 12), (12,)]
    np.testing.assert_array_equal(
        layer.get_weights()[2], np.r_[np.zeros(3), np.ones(3), np.zeros(6)]
    )
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        L.ConvLSTM2D(2, 3)(np.zeros((2, 4, 6, 7)))
    with pytest.raises(ValueError, match="Expected 'valid' or 'same'. Received: padding='causal'"):
        L.ConvLSTM2D(2, 3, padding="causal")


def test_trains_and_round_trips(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((4, 8, 8, 1)),
            L.ConvLSTM2D(
                4, 3, padding="same", return_sequences=True, dropout=0.1, recurrent_dropout=0.1
            ),
            L.ConvLSTM2D(2, 3, padding="same"),
            L.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((6, 4, 8, 8, 1)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, (rng.random((6, 8, 8, 1)) > 0.5).astype("float32"), epochs=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
