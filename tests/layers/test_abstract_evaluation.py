"""A user layer called on KerasTensors is evaluated on shapes and dtypes alone (MetaArrays):
no arithmetic, nothing allocated, no state changed; code that needs values runs on zeros."""

import tracemalloc

import numpy as np
import pytest

import shendu as keras
from shendu import layers, ops
from shendu.layers import symbolic
from shendu.meta_array import FALLBACKS, MetaArray


class Route(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.expert = layers.Dense(6)

    def call(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        tokens = ops.reshape(x, (-1, x.shape[-1]))
        routed = ops.softmax(self.expert(tokens), axis=-1)
        routed = ops.reshape(routed, (batch, length, 6))
        return ops.concatenate([routed, ops.max(x, axis=-1, keepdims=True)], axis=-1)


def _counts():
    return dict(symbolic.EVALUATIONS), dict(FALLBACKS)


def test_a_user_layer_is_evaluated_without_running():
    (evaluations, fallbacks) = _counts()
    inputs = keras.Input((None, 4))
    out = Route()(inputs)
    assert out.shape == (None, None, 7) and out.dtype == np.float32
    assert symbolic.EVALUATIONS["meta"] == evaluations.get("meta", 0) + 1
    assert symbolic.EVALUATIONS["zeros"] == evaluations.get("zeros", 0)
    assert dict(FALLBACKS) == fallbacks
    model = keras.Model(inputs, out)
    assert model(np.ones((3, 5, 4), "float32")).shape == (3, 5, 7)


class Wide(layers.Layer):
    def call(self, x):
        scores = ops.matmul(x, ops.transpose(x, (0, 2, 1)))  # (batch, n, n)
        return ops.sum(ops.exp(scores - ops.max(scores, axis=-1, keepdims=True)), axis=-1)


def test_the_evaluation_allocates_nothing():
    inputs = keras.Input((None, 256))  # a dry run on zeros: two (2, 89, 89) products
    tracemalloc.start()
    out = Wide()(inputs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert out.shape == (None, None)
    assert peak < 1 << 20  # zeros of (2, 89, 256) alone would be 182 KB, each product more


class Counting(layers.Layer):
    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, x):
        self.calls.assign_add(1.0)
        return x * 2.0


def test_building_changes_no_variable():
    layer = Counting()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layer(inputs))
    assert float(layer.calls.numpy()) == 0.0  # Keras: compute_output_spec is stateless
    model(np.ones((2, 3), "float32"))
    assert float(layer.calls.numpy()) == 1.0


class Branching(layers.Layer):
    def call(self, x):
        if ops.convert_to_numpy(ops.any(x > 0)):  # needs values
            return x + 1.0
        return ops.concatenate([x, x], axis=-1)


def test_code_that_needs_values_computes_on_zeros():
    before = FALLBACKS["np.asarray (zeros)"]
    out = Branching()(keras.Input((None, 2)))
    assert out.shape == (None, None, 4)  # the branch zeros take, as the dry runs did
    assert FALLBACKS["np.asarray (zeros)"] > before


class Truthy(layers.Layer):
    def call(self, x):
        return x if x.data.any() else -x  # a truth value: MetaArray has none


def test_a_truth_value_sends_the_call_to_zeros():
    before = symbolic.EVALUATIONS["zeros"]
    assert Truthy()(keras.Input((None, 2))).shape == (None, None, 2)
    assert symbolic.EVALUATIONS["zeros"] == before + 1


class BadReshape(layers.Layer):
    def call(self, x):
        return ops.reshape(x, (-1, 7))


def test_an_error_in_call_is_the_one_a_real_call_raises():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape an input of shape \(1, 6\)"):
        BadReshape()(keras.Input((6,), batch_size=1))


class KeepsLast(layers.Layer):
    def call(self, x):
        self.last = x * 1.0
        return self.last


def test_a_tensor_kept_by_the_layer_is_never_shape_only():
    layer = KeepsLast()
    layer(keras.Input((3,)))
    assert not isinstance(layer.last.data, MetaArray)


def test_an_operation_on_keras_tensors_is_evaluated_the_same_way():
    before = symbolic.EVALUATIONS["meta"]
    inputs = keras.Input((None, 3))
    out = ops.expand_dims(ops.square(inputs), -1)
    assert out.shape == (None, None, 3, 1)
    assert symbolic.EVALUATIONS["meta"] == before + 2


def test_a_model_with_user_layers_round_trips(tmp_path):
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(Route(name="route")(inputs)))
    model.compile("adam", "mse")
    x, y = np.random.default_rng(0).normal(size=(8, 5, 4)).astype("float32"), np.zeros((8, 7))
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path, custom_objects={"Route": Route})
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), 1e-6)


class FixedTokens(layers.Layer):
    """keras.io's Switch Transformer: tokens flattened to a fixed count (batch x length)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.expert = layers.Dense(8)

    def call(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        routed = self.expert(ops.reshape(x, [5 * 10, 8]))
        return ops.reshape(routed, [batch, length, 8])


def test_a_known_batch_size_reaches_a_user_layer():
    inputs = keras.Input((10,), batch_size=5)
    x = FixedTokens()(layers.Embedding(20, 8)(inputs))
    outputs = layers.Dense(1)(layers.GlobalAveragePooling1D()(x))
    assert x.shape == (5, 10, 8) and outputs.shape == (5, 1)  # Keras 3.15: the same
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.integers(0, 20, (50, 10)), np.zeros((50, 1)), batch_size=5, verbose=0)
