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


@pytest.mark.parametrize(
    "call", [lambda x: keras.ops.exp(x), lambda x: keras.ops.concatenate([x, x])]
)
def test_other_ops_on_symbolic_tensors_say_to_use_a_layer(call):
    x = keras.Input((3,))
    with pytest.raises(TypeError, match=r"symbolic tensor .* Wrap the computation in a layer"):
        call(x)
