"""Operators on KerasTensors in a functional model (``x + inputs``, ``x * 2.0``,
``x[:, 0]``, ``1.0 - x``), recorded as Keras records them and saved in both formats."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

X = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")


def _model():
    keras.utils.set_random_seed(0)
    inp = keras.Input((4, 3))
    dense = layers.Dense(3)
    h = dense(inp)
    out = 1.0 - (-((h + inp) * 2.0)[:, 0]) / 4.0
    out = abs(out) ** 2 + out @ np.eye(3, dtype="float32") - 3.0 * out
    return keras.Model(inp, out), dense


def _reference(dense):
    h = dense(X).numpy()
    out = 1.0 - (-((h + X) * 2.0)[:, 0]) / 4.0
    return np.abs(out) ** 2 + out @ np.eye(3) - 3.0 * out


def test_operators_compute_like_numpy():
    model, dense = _model()
    np.testing.assert_allclose(model.predict(X, verbose=0), _reference(dense), rtol=1e-5)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("TensorOperation") == 12


def test_operations_train():
    model, _ = _model()
    model.compile("adam", "mse")
    history = model.fit(X, np.zeros((2, 3), "float32"), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("suffix", [".shendu", ".keras"])
def test_operations_save_and_load(tmp_path, suffix):
    pytest.importorskip("h5py" if suffix == ".keras" else "safetensors")
    model, dense = _model()
    model.save(tmp_path / f"m{suffix}")
    back = keras.saving.load_model(tmp_path / f"m{suffix}")
    np.testing.assert_allclose(back.predict(X, verbose=0), _reference(dense), rtol=1e-5)


def test_unknown_operation_is_refused():
    from shendu.layers.operations import TensorOperation

    with pytest.raises(ValueError, match="unknown operation 'Eval'"):
        TensorOperation("Eval")


def test_numpy_functions_on_symbolic_tensors_say_what_takes_them():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match=r"has no values: only keras.ops functions, operators"):
        np.asarray(x)


def _ops_model():
    """keras.ops functions on KerasTensors, as keras.io's wide & deep and TabTransformer
    programs write them (Keras 3 records each as an operation node)."""
    tokens = keras.Input((5,), dtype="int32")
    features = keras.Input((5, 3))
    mask = keras.ops.cast(tokens != 0, "float32")  # a comparison, then a cast
    h = keras.ops.concatenate([features, keras.ops.expand_dims(mask, -1)], axis=-1)
    h = keras.ops.nn.relu(h) if hasattr(keras.ops.nn, "relu") else keras.ops.relu(h)
    h = keras.ops.sigmoid(layers.Dense(2)(h))
    pooled = keras.ops.sum(h * keras.ops.expand_dims(mask, -1), axis=1)
    pooled = pooled / keras.ops.maximum(keras.ops.sum(mask, axis=1, keepdims=True), 1.0)
    return keras.Model([tokens, features], pooled)


def test_ops_on_symbolic_tensors_record_nodes_with_keras_shapes():
    model = _ops_model()
    assert model.output.shape == (None, 2)
    assert keras.ops.shape(keras.Input((None, 4))) == (None, None, 4)
    tokens = np.array([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]], "int32")
    features = np.ones((2, 5, 3), "float32")
    out = model.predict([tokens, features], verbose=0)
    assert out.shape == (2, 2) and np.isfinite(out).all()


def test_ops_nodes_save_and_load_in_shendu_files(tmp_path):
    pytest.importorskip("safetensors")
    model = _ops_model()
    tokens = np.array([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]], "int32")
    features = np.random.default_rng(1).standard_normal((2, 5, 3)).astype("float32")
    model.save(tmp_path / "m.shendu")
    back = keras.saving.load_model(tmp_path / "m.shendu")
    np.testing.assert_allclose(
        back.predict([tokens, features], verbose=0),
        model.predict([tokens, features], verbose=0),
        rtol=1e-6,
    )


def test_ops_nodes_save_and_load_in_keras_files(tmp_path):
    """Keras keeps an operation's non-tensor arguments in its config (``Sum(axis=1)``) and
    its tensors in the call; shendu writes and reads them there (checked with Keras 3.15:
    it loads such a file and predicts the same, and shendu reads Keras's)."""
    pytest.importorskip("h5py")
    model = _ops_model()
    tokens = np.array([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]], "int32")
    features = np.random.default_rng(1).standard_normal((2, 5, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        back.predict([tokens, features], verbose=0),
        model.predict([tokens, features], verbose=0),
        rtol=1e-6,
    )
    back.save(tmp_path / "again.keras")  # read from a Keras file, written back as Keras
    again = keras.saving.load_model(tmp_path / "again.keras")
    np.testing.assert_allclose(
        again.predict([tokens, features], verbose=0),
        model.predict([tokens, features], verbose=0),
        rtol=1e-6,
    )


def test_an_operation_keras_has_no_class_for_is_refused_by_the_keras_writer(tmp_path):
    """``ops.linear`` (a shendu addition: x @ w + b in one node) has no Keras class."""
    pytest.importorskip("h5py")
    x = keras.Input((3,))
    model = keras.Model(x, keras.ops.linear(x, np.ones((3, 2), "float32")))
    with pytest.raises(ValueError, match=r"LinearOp|Linear \(.*\) has no Keras operation class"):
        model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.shendu")  # shendu's own format holds it


def test_a_tensor_computed_before_the_graph_is_a_constant_of_it():
    # keras.io's position embeddings: Embedding(...)(ops.arange(...)) added to an Input
    inputs = keras.Input((4, 3))
    positions = keras.layers.Embedding(4, 3)(keras.ops.arange(0, 4, 1))
    x = keras.layers.Flatten()(inputs + positions)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 4, 3)), np.ones((8, 1)), epochs=3, batch_size=4, verbose=0)
    assert len(model.trainable_weights) == 2  # Keras 3.15: 2 (the Dense's)
    losses = history.history["loss"]
    assert losses[2] < losses[0]  # was: "backward through the graph a second time"
