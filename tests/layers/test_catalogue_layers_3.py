"""AdaptiveAverage/MaxPooling1D-3D, layers.dot, ReversibleEmbedding, StackedRNNCells (and
RNN given a list of cells) and Wrapper: values, shapes and weight shapes as Keras 3.15
gives on the same inputs (measured with its JAX backend), configs, training steps."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

R = np.random.default_rng(0)
X3 = R.standard_normal((2, 7, 3)).astype("float32")
X4 = R.standard_normal((2, 5, 7, 3)).astype("float32")
X5 = R.standard_normal((2, 5, 6, 7, 3)).astype("float32")


def _adaptive_reference(x, sizes, reduce):
    """Loops over the adaptive windows [floor(j n / m), ceil((j + 1) n / m)) per axis."""
    out = x
    for axis, m in enumerate(sizes, start=1):
        n = out.shape[axis]
        parts = []
        for j in range(m):
            a, b = (j * n) // m, -((-(j + 1) * n) // m)
            parts.append(reduce(np.take(out, range(a, b), axis=axis), axis=axis, keepdims=True))
        out = np.concatenate(parts, axis=axis)
    return out


@pytest.mark.parametrize(
    "make, x, sizes, reduce, shape",
    [
        (lambda: layers.AdaptiveAveragePooling1D(3), X3, (3,), np.mean, (2, 3, 3)),
        (lambda: layers.AdaptiveMaxPooling1D(4), X3, (4,), np.max, (2, 4, 3)),
        (lambda: layers.AdaptiveAveragePooling2D((2, 3)), X4, (2, 3), np.mean, (2, 2, 3, 3)),
        (lambda: layers.AdaptiveMaxPooling2D(2), X4, (2, 2), np.max, (2, 2, 2, 3)),
        (
            lambda: layers.AdaptiveAveragePooling3D((2, 2, 3)),
            X5,
            (2, 2, 3),
            np.mean,
            (2, 2, 2, 3, 3),
        ),
        (lambda: layers.AdaptiveMaxPooling3D(3), X5, (3, 3, 3), np.max, (2, 3, 3, 3, 3)),
    ],
)
def test_adaptive_pooling(make, x, sizes, reduce, shape):
    layer = make()
    y = layer(x).numpy()
    assert y.shape == shape == layer.compute_output_shape(x.shape)  # Keras 3.15's shapes
    np.testing.assert_allclose(y, _adaptive_reference(x, sizes, reduce), rtol=1e-5, atol=1e-6)
    again = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(again(x).numpy(), y)


def test_adaptive_pooling_channels_first_and_errors():
    y = layers.AdaptiveMaxPooling2D(2, data_format="channels_first")(X4).numpy()
    assert y.shape == (2, 5, 2, 2)  # Keras 3.15: (2, 5, 2, 2)
    with pytest.raises(
        ValueError,
        match=r"`output_size` must be a positive integer or a tuple of 2 positive integers. Received: output_size=\(2, 0\)",
    ):
        layers.AdaptiveAveragePooling2D((2, 0))


def test_dot_function():
    a, b = R.standard_normal((3, 4)).astype("float32"), R.standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(
        layers.dot([a, b], axes=1).numpy(), (a * b).sum(1, keepdims=True), rtol=1e-5
    )
    cos = layers.dot([a, b], axes=-1, normalize=True).numpy()[:, 0]
    ref = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(cos, ref, rtol=1e-5)


def test_reversible_embedding():
    e = layers.ReversibleEmbedding(
        10, 4, tie_weights=False, embeddings_initializer="ones", logit_soft_cap=2.0
    )
    assert e(np.array([[1, 2, 3]])).shape == (1, 3, 4)
    logits = e(np.full((1, 2, 4), 0.1, "float32"), reverse=True).numpy()
    np.testing.assert_allclose(logits, np.full((1, 2, 10), 2 * np.tanh(0.4 / 2)), rtol=1e-6)
    assert [w.shape for w in e.get_weights()] == [(10, 4), (4, 10)]  # as Keras 3.15
    assert e.compute_output_shape((1, 2, 4), reverse=True) == (1, 2, 10)
    tied = layers.ReversibleEmbedding(10, 4)
    vectors = tied(np.array([[1, 5]]))
    assert [w.shape for w in tied.get_weights()] == [(10, 4)]
    np.testing.assert_allclose(
        tied(vectors, reverse=True).numpy(), vectors.numpy() @ tied.get_weights()[0].T, rtol=1e-6
    )
    config = e.get_config()
    assert {"tie_weights", "reverse_dtype", "logit_soft_cap"} <= set(config)
    again = layers.ReversibleEmbedding.from_config(config)
    assert again.tie_weights is False and again.logit_soft_cap == 2.0


def test_embedding_constraint_is_applied():
    model = keras.Sequential(
        [
            keras.Input((3,), dtype="int32"),
            layers.Embedding(5, 2, embeddings_constraint="non_neg"),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    model.compile(keras.optimizers.SGD(1.0), "mse")
    model.fit(np.array([[0, 1, 2]] * 4), np.full((4, 1), -10.0), epochs=3, verbose=0)
    assert (model.layers[0].get_weights()[0] >= 0).all()


def test_stacked_cells_as_keras():
    rnn = layers.RNN(
        [layers.SimpleRNNCell(5), layers.LSTMCell(3), layers.GRUCell(2)],
        return_sequences=True,
        return_state=True,
    )
    seq, *states = rnn(R.standard_normal((2, 4, 6)).astype("float32"))
    assert isinstance(rnn.cell, layers.StackedRNNCells)
    # Keras 3.15: the sequence, then one list of states per cell
    assert seq.shape == (2, 4, 2)
    assert [[s.shape for s in group] for group in states] == [[(2, 5)], [(2, 3), (2, 3)], [(2, 2)]]
    assert [w.shape for w in rnn.get_weights()] == [
        (6, 5),
        (5, 5),
        (5,),
        (5, 12),
        (3, 12),
        (12,),
        (3, 6),
        (2, 6),
        (2, 6),
    ]
    np.testing.assert_allclose(seq.numpy()[:, -1], states[2][0].numpy(), rtol=1e-6)


def test_stacked_cells_train_and_round_trip(tmp_path):
    inp = keras.Input((4, 6))
    out = layers.RNN([layers.SimpleRNNCell(5), layers.LSTMCell(3)])(inp)
    model = keras.Model(inp, layers.Dense(1)(out))
    model.compile("adam", "mse")
    before = [w.copy() for w in model.get_weights()]
    x = R.standard_normal((8, 4, 6)).astype("float32")
    model.fit(x, np.ones((8, 1)), epochs=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    for name in ("m.keras", "m.shendu"):
        model.save(tmp_path / name)
        again = keras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(
            again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
        )
    with pytest.raises(
        ValueError, match=r"StackedRNNCells needs at least one cell. Received: cells=\[\]"
    ):
        layers.StackedRNNCells([])


def test_wrapper_subclass():
    class Doubled(layers.Wrapper):
        def call(self, inputs):
            return 2 * self.layer(inputs)

    inner = layers.Dense(3)
    wrapped = Doubled(inner)
    y = wrapped(np.ones((2, 4), "float32"))
    np.testing.assert_allclose(y.numpy(), 2 * inner(np.ones((2, 4), "float32")).numpy(), rtol=1e-6)
    assert [w.shape for w in wrapped.weights] == [(4, 3), (3,)]
    config = wrapped.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert isinstance(layers.TimeDistributed(layers.Dense(2)), layers.Wrapper)
    with pytest.raises(
        ValueError, match="Layer 3 supplied to Wrapper isn't a supported layer type"
    ):
        Doubled(3)


# one of Keras 3.15's LSTMCell configs, as its .keras files hold it
KERAS_LSTM_CELL = {
    "name": "lstm_cell", "trainable": True, "units": 6, "activation": "tanh",
    "recurrent_activation": "hard_sigmoid", "use_bias": True, "unit_forget_bias": False,
    "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None, "input_axes": None, "output_axes": None}, "registered_name": None},
    "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal", "config": {"seed": None, "gain": 1.0}, "registered_name": None},
    "bias_initializer": {"module": "keras.initializers", "class_name": "RandomNormal", "config": {"seed": None, "mean": 0.0, "stddev": 0.05}, "registered_name": None},
    "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01}, "registered_name": None},
    "recurrent_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
    "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
    "recurrent_dropout": 0.0, "seed": None,
}  # fmt: skip


def test_cells_take_keras_configs():
    cell = layers.LSTMCell.from_config(KERAS_LSTM_CELL)
    assert cell.unit_forget_bias is False and cell.kernel_regularizer is not None
    config = cell.get_config()
    assert set(KERAS_LSTM_CELL) <= set(config) | {"dtype"}
    for cls in (layers.SimpleRNNCell, layers.GRUCell):
        again = cls.from_config(cls(3, dropout=0.1, kernel_constraint="non_neg").get_config())
        assert again.dropout == 0.1 and again.kernel_constraint is not None


def test_cells_equal_the_fused_layers():
    x = R.standard_normal((3, 5, 4)).astype("float32")
    for fused, cell in [
        (layers.LSTM(6), layers.LSTMCell(6)),
        (layers.GRU(5), layers.GRUCell(5)),
        (layers.GRU(5, reset_after=False), layers.GRUCell(5, reset_after=False)),
        (layers.SimpleRNN(4), layers.SimpleRNNCell(4)),
    ]:
        expected = fused(x).numpy()
        rnn = layers.RNN(cell)
        rnn(x)
        rnn.set_weights(fused.get_weights())
        np.testing.assert_allclose(rnn(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_cell_dropout_masks_last_a_sequence():
    cell = layers.LSTMCell(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
    rnn = layers.RNN(cell)
    x = np.ones((2, 6, 3), "float32")
    np.testing.assert_allclose(rnn(x).numpy(), layers.RNN(cell)(x).numpy())  # inference
    rnn(x, training=True)
    masks = dict(cell._dropout_masks)
    assert set(masks) == {"input", "state"} and masks["input"].shape == (2, 3)
    rnn(x, training=True)  # a new sequence draws new masks
    assert not np.array_equal(masks["input"], cell._dropout_masks["input"])
