"""Layers and variables held in lists, dicts and tuples, added later, or set before
``super().__init__()`` are trained and saved, as in Keras (figures from Keras 3.15 on JAX)."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

X = np.ones((3, 4), "float32")


class ListModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = []
        self.blocks.append(layers.Dense(2))
        self.blocks.append(layers.Dense(2))

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x


class DictModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.proj = {"a": layers.Dense(2)}

    def call(self, x):
        return self.proj["a"](x)


class SetBeforeInit(layers.Layer):
    def __init__(self):
        self.dense = layers.Dense(2)
        super().__init__()

    def call(self, x):
        return self.dense(x)


class Nested(layers.Layer):
    def __init__(self):
        super().__init__()
        self.stages = [[layers.Dense(2)], {"x": [layers.Dense(2)]}]
        self.extra = []

    def build(self, input_shape):
        self.extra.append(self.add_weight(shape=(2,), name="extra"))

    def call(self, x):
        return self.stages[1]["x"][0](self.stages[0][0](x)) + self.extra[0]


class VariableAttributes(layers.Layer):
    def __init__(self):
        super().__init__()
        self.scale = keras.Variable(np.ones(4, "float32"))
        self.table = {}
        self.table["x"] = layers.Dense(2)
        self.table.update({"y": layers.Dense(2)})

    def call(self, x):
        return self.table["y"](self.table["x"](x * self.scale))


@pytest.mark.parametrize(
    "cls, weights",
    [(ListModel, 4), (DictModel, 2), (SetBeforeInit, 2), (Nested, 5), (VariableAttributes, 5)],
)
def test_every_weight_is_found(cls, weights):
    layer = cls()
    layer(X)
    assert len(layer.weights) == weights  # Keras 3.15: 4, 2, 2, 5, 5
    assert len(layer.trainable_weights) == weights


def test_layers_appended_to_a_list_are_trained():
    model = ListModel()
    model.compile("sgd", "mse")
    history = model.fit(X, np.zeros((3, 2)), epochs=3, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]  # before: the loss never moved (no weights trained)


def test_taking_a_layer_out_of_a_list_untracks_it():
    model = ListModel()
    model(X)
    model.blocks.pop()
    assert len(model.weights) == 2  # Keras 3.15: 2
    model.blocks[0] = layers.Dense(3)  # Keras keeps tracking what an index replaces
    assert len(model.weights) == 2
    other = ListModel()
    other(X)
    del other.blocks[0]
    assert len(other.weights) == 2


def test_a_tracked_list_is_a_list_and_pickles_as_one():
    import pickle

    model = ListModel()
    assert isinstance(model.blocks, list)
    assert type(pickle.loads(pickle.dumps([1, 2]))) is list
    plain = pickle.loads(pickle.dumps(type(model.blocks)(model, [1, 2])))
    assert type(plain) is list and plain == [1, 2]


def test_a_list_of_tensors_stays_a_plain_list():
    layer = layers.Layer()
    layer.states = [keras.ops.ones((2,))]
    assert type(layer.states) is list


def test_weights_in_lists_round_trip_through_a_file(tmp_path):
    @keras.saving.register_keras_serializable(package="tracking_test")
    class Blocks(ListModel):
        pass

    model = Blocks()
    model(X)
    model.compile("sgd", "mse")
    model.fit(X, np.ones((3, 2)), epochs=2, verbose=0)
    path = tmp_path / "blocks.shendu"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0), 1e-6)
