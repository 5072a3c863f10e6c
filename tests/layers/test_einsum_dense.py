"""EinsumDense: kernel and bias shapes read off the equation as Keras reads them (the
shapes below are Keras 3.15's for the same arguments), outputs against numpy.einsum,
errors, a config round trip, saving and a training step."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

CASES = [
    ("ab,bc->ac", 5, "c", (2, 4), [[4, 5], [5]], [2, 5]),
    ("abc,cd->abd", (None, 6), "d", (2, 3, 4), [[4, 6], [6]], [2, 3, 6]),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 3, 4), [[4, 2, 3], [2, 3]], [2, 3, 2, 3]),
    ("...b,bc->...c", 5, "c", (2, 3, 4), [[4, 5], [5]], [2, 3, 5]),
    ("...b,bc->...c", 5, None, (2, 7, 3, 4), [[4, 5]], [2, 7, 3, 5]),
    ("abc,cd->abd", (3, 6), "bd", (2, 3, 4), [[4, 6], [3, 6]], [2, 3, 6]),
    ("abcd,cde->abe", (3, 5), "e", (2, 3, 4, 6), [[4, 6, 5], [5]], [2, 3, 5]),
]


@pytest.mark.parametrize("equation, out, bias, shape, weights, result", CASES)
def test_shapes_and_values(equation, out, bias, shape, weights, result):
    layer = layers.EinsumDense(equation, out, bias_axes=bias, activation="relu")
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    y = layer(x).numpy()
    assert [list(w.shape) for w in layer.get_weights()] == weights
    assert list(y.shape) == result
    expected = np.einsum(equation, x, layer.kernel.numpy())
    if bias is not None:
        expected = expected + layer.bias.numpy()
    np.testing.assert_allclose(y, np.maximum(expected, 0), rtol=1e-5, atol=1e-6)
    assert list(layer.compute_output_shape(shape)) == result


def test_errors_name_the_equation_part():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", 3)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Bias dimension 'z' was requested"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="z")(np.ones((2, 3)))
    with pytest.raises(ValueError, match="do not match at shared dimension 'b'"):
        layers.EinsumDense("abc,cd->abd", (5, 2))(np.ones((2, 3, 4)))


def test_config_save_and_train(tmp_path):
    pytest.importorskip("safetensors")
    keras.utils.set_random_seed(0)
    inp = keras.Input((3, 4))
    x = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de")(inp)
    out = layers.Dense(1)(layers.Flatten()(x))
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    data = np.random.default_rng(1).standard_normal((16, 3, 4)).astype("float32")
    history = model.fit(data, data.sum((1, 2))[:, None], epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "e.shendu")
    back = keras.saving.load_model(tmp_path / "e.shendu")
    np.testing.assert_allclose(back.predict(data, verbose=0), model.predict(data, verbose=0))
    config = model.layers[1].get_config()
    assert config["equation"] == "abc,cde->abde" and config["output_shape"] == [None, 2, 3]
