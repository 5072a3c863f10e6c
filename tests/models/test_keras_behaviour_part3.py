"""Keras behaviour met in real programs (issue: Keras behaviour, part 3), written as Keras
code; expected figures from Keras 3.15 (JAX) on the same code."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers, testing


class Encoder(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(4)

    def call(self, source, source_mask=None):
        return self.dense(source)


def test_a_layer_called_with_its_tensor_by_keyword():
    inputs = keras.Input((3, 2))
    outputs = Encoder()(source=inputs)  # was KeyError: 'inputs'
    model = keras.Model(inputs, outputs)
    assert model(np.ones((1, 3, 2))).shape == (1, 3, 4)  # Keras 3.15
    assert Encoder()(source=np.ones((2, 3, 2), "float32")).shape == (2, 3, 4)


def test_a_build_without_an_input_shape():
    class Scale(layers.Layer):
        def build(self):  # valid in Keras (keras.io's GRN/VSN)
            self.w = self.add_weight(shape=(3,), initializer="ones")

        def call(self, x):
            return x * self.w

    assert Scale()(np.ones((2, 3), "float32")).shape == (2, 3)  # was TypeError


def test_a_model_from_an_intermediate_tensor():
    inputs = keras.Input((4,))
    middle = layers.Dense(3)(inputs)
    outputs = layers.Dense(2)(middle)
    model = keras.Model(middle, outputs)  # was "Model inputs must come from Input()"
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
    assert model(np.ones((2, 3), "float32")).shape == (2, 2)  # Keras 3.15
    assert keras.Model(inputs, outputs)(np.ones((1, 4), "float32")).shape == (1, 2)


def test_load_weights_from_a_whole_model_file(tmp_path):
    def make():
        inputs = keras.Input((2,))
        return keras.Model(inputs, layers.Dense(1)(inputs))

    saved = make()
    saved.save(tmp_path / "checkpoint.keras")
    other = make()
    other.load_weights(tmp_path / "checkpoint.keras")  # was refused
    for a, b in zip(other.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(a, b)


X = np.arange(8, dtype="float32").reshape(1, 2, 2, 2)


@pytest.mark.parametrize(
    "interpolation, first_row",
    [  # Keras 3.15 (JAX), channel 0
        ("bilinear", [0.0, 0.5, 1.5, 2.0]),
        ("bicubic", [-0.5294, 0.0613, 1.2328, 1.8235]),
        ("lanczos3", [-1.0529, -0.2362, 0.8323, 1.649]),
    ],
)
def test_upsampling_interpolations(interpolation, first_row):
    out = layers.UpSampling2D(interpolation=interpolation)(X).numpy()
    np.testing.assert_allclose(out[0, 0, :, 0], first_row, atol=1e-4)


def test_bilinear_upsampling_shapes_and_gradient():
    layer = layers.UpSampling2D((2, 3), interpolation="bilinear", data_format="channels_first")
    assert layer(X).shape == (1, 2, 4, 6)  # Keras 3.15
    x = keras.tensor(np.random.default_rng(0).random((1, 3, 3, 2)), requires_grad=True)
    assert testing.gradcheck(
        lambda t: keras.ops.image.resize(t, (6, 6), interpolation="bilinear"), [x]
    )
    with pytest.raises(ValueError, match=r"`interpolation` must be one of"):
        layers.UpSampling2D(interpolation="area")


def test_the_history_of_a_resumed_fit_holds_the_epochs_it_ran(tmp_path):
    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 4:
                raise RuntimeError("stop")

    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    x, y = np.ones((8, 2)), np.ones((8, 1))
    backup = keras.callbacks.BackupAndRestore(str(tmp_path))
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=10, verbose=0, callbacks=[backup, Stop()])
    history = model.fit(
        x, y, epochs=10, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path))]
    )
    assert history.epoch == [4, 5, 6, 7, 8, 9]  # Keras 3.15 (shendu reported 10 epochs)
    assert len(history.history["loss"]) == 6


def test_two_losses_compiled_before_a_subclassed_model_is_built():
    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(1), layers.Dense(1)

        def call(self, x):
            return self.a(x), self.b(x)

    model = TwoHeads()
    model.compile("sgd", loss=["mse", "mae"])  # was "expected 1 values"
    x, ya, yb = np.ones((8, 2)), np.ones((8, 1)), np.zeros((8, 1))
    history = model.fit(x, (ya, yb), epochs=2, verbose=0)
    losses = history.history
    np.testing.assert_allclose(
        losses["loss"], np.add(losses["output_0_loss"], losses["output_1_loss"]), rtol=1e-5
    )


def test_discretization_bins_are_keras_approximate_quantiles():
    data = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(data)
    # Keras 3.15's docstring example: boundaries [0.0, 0.5, 1.3], bins below
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.3], rtol=1e-6)
    assert np.asarray(layer(data)).tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]
    evenly = layers.Discretization(num_bins=3)
    evenly.adapt(np.arange(10.0).reshape(-1, 1))
    np.testing.assert_allclose(evenly.bin_boundaries, [2.3333333, 5.6666665], rtol=1e-6)
    normal = layers.Discretization(num_bins=5)
    normal.adapt(np.random.default_rng(0).normal(size=(1000, 1)))
    np.testing.assert_allclose(normal.bin_boundaries, [-0.85, -0.305, 0.176, 0.771], atol=1e-3)


def test_text_layers_take_python_lists_of_strings():
    vectorize = layers.TextVectorization(max_tokens=5000, output_sequence_length=4)
    vectorize.adapt(["foo", "bar", "baz"])
    # Keras 3.15's docstring: known words keep their ids (were mapped to the OOV index 1)
    assert np.asarray(vectorize(["foo qux bar", "qux baz"])).tolist() == [
        [2, 1, 4, 0],
        [1, 3, 0, 0],
    ]
    lookup = layers.StringLookup(vocabulary=["a", "b", "c"])
    assert np.asarray(lookup(["a", "c", "z"])).tolist() == [1, 3, 0]  # Keras 3.15
    assert np.asarray(lookup([["a", "c"], ["b", "z"]])).tolist() == [[1, 3], [2, 0]]
    assert np.asarray(layers.IntegerLookup(vocabulary=[5, 6])([5, 6, 7])).tolist() == [1, 2, 0]


def test_gradients_flow_through_utils_normalize():
    # keras.io's GNN on citations normalises node embeddings with it; shendu computed it in
    # NumPy, which cut the gradient to every layer before it (accuracy 0.21; Keras 0.59)
    class Unit(layers.Layer):
        def call(self, x):
            return keras.utils.normalize(x, axis=-1, order=2)

    inputs = keras.Input((2,))
    kernel = keras.initializers.Constant([[1.0, 2.0], [3.0, 0.0]])
    dense = layers.Dense(2, use_bias=False, kernel_initializer=kernel)
    model = keras.Model(inputs, Unit()(dense(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.train_on_batch(np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]]))
    expected = [[1.005183, 1.981858], [3.010367, -0.036284]]  # Keras 3.15
    np.testing.assert_allclose(dense.kernel.numpy(), expected, atol=1e-5)
    x = keras.ops.convert_to_tensor(np.array([[0.0, 0.0], [3.0, 4.0]], "float32"))
    np.testing.assert_allclose(keras.utils.normalize(x).numpy(), [[0, 0], [0.6, 0.8]])
    array = keras.utils.normalize(np.array([[3.0, 4.0]]))  # NumPy in, NumPy out
    assert isinstance(array, np.ndarray)
