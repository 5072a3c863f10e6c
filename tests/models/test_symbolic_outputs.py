"""``layer.input`` / ``layer.output`` of the layers of a built model: Keras's feature
extraction pattern ``Model(model.inputs, [l.output for l in model.layers])``."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

X = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")


def _check_features(model):
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    features = extractor(X)
    assert len(features) == len(model.layers)
    np.testing.assert_allclose(features[-1].numpy(), model(X).numpy(), rtol=1e-6)
    hidden = model.layers[0](X)
    np.testing.assert_allclose(features[0].numpy(), hidden.numpy(), rtol=1e-6)


def test_sequential_with_input():
    _check_features(keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)]))


def test_sequential_built_later():
    model = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    model.build((None, 4))
    _check_features(model)


def test_sequential_rebuilt_keeps_one_call_per_layer():
    model = keras.Sequential([layers.Dense(3), layers.Dense(2)])
    model.build((None, 4))
    model.add(layers.Dense(1))  # rebuilds the stack's graph
    _check_features(model)


def test_functional_layers_input_and_output():
    inp = keras.Input((4,), name="x")
    hidden = layers.Dense(3, name="h")(inp)
    out = layers.Dense(2, name="o")(hidden)
    model = keras.Model(inp, out)
    assert model.get_layer("h").input is inp
    assert model.get_layer("h").output is hidden
    assert model.get_layer("o").input is hidden
    assert model.input is inp and model.output is out
    assert model.layers[0].output is inp  # the InputLayer
    extractor = keras.Model(model.input, model.get_layer("h").output)
    assert extractor(X).shape == (5, 3)


def test_model_input_keeps_the_structure_given():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    out = layers.Add()([layers.Dense(2)(a), layers.Dense(2)(b)])
    model = keras.Model({"a": a, "b": b}, [out])
    assert model.input == {"a": a, "b": b}
    assert model.output == [out]


def test_layer_never_called_symbolically_has_no_output():
    dense = layers.Dense(2)
    dense(X)  # an eager call records nothing
    with pytest.raises(AttributeError, match="never been called on symbolic inputs"):
        _ = dense.output
    with pytest.raises(AttributeError, match="no defined input"):
        _ = dense.input


def test_shared_layer_output_is_ambiguous():
    shared = layers.Dense(2)
    a, b = keras.Input((4,)), keras.Input((4,))
    shared(a)
    shared(b)
    with pytest.raises(AttributeError, match="called 2 times on symbolic inputs"):
        _ = shared.output
