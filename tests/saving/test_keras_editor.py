"""KerasFileEditor: inspect, compare, rename, delete and add weights of a Keras file, and
save the edit; the edited file loads into the model it now matches."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers as L

pytest.importorskip("h5py")


def _model(width=3):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), L.Dense(width), L.Dense(2)])


def test_summary_and_compare(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    editor = keras.saving.KerasFileEditor(tmp_path / "m.keras")
    lines = []
    editor.summary(print_fn=lines.append)
    assert "layers/dense: 0: (4, 3) float32, 1: (3,) float32" in lines
    assert editor.compare(model) == {"status": "success", "error_count": 0, "match_count": 4}
    other = _model(width=5)
    report = editor.compare(other, print_fn=lambda *_: None)
    assert report["status"] == "error" and report["error_count"] == 3


def test_edit_and_save_loads_into_the_matching_model(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "w.weights.h5")
    editor = keras.saving.KerasFileEditor(tmp_path / "w.weights.h5")
    editor.delete_weight("dense_1", "1")
    editor.add_weights("dense_1", {"1": np.full(2, 7.0, "float32")})
    editor.rename_object("dense", "dense_renamed")
    with pytest.raises(ValueError, match="No object 'dense'"):
        editor.delete_object("dense")
    editor.rename_object("dense_renamed", "dense")
    editor.add_object("layers/extra", [np.ones(3)])
    editor.delete_object("extra")
    editor.save(tmp_path / "edited.weights.h5")
    fresh = _model()
    fresh.load_weights(tmp_path / "edited.weights.h5")
    np.testing.assert_array_equal(fresh.layers[1].bias.numpy(), np.full(2, 7.0))
    np.testing.assert_array_equal(fresh.layers[0].kernel.numpy(), model.layers[0].kernel.numpy())


def test_keras_file_keeps_its_config(tmp_path):
    model = _model()
    model.compile("adam", "mse")
    model.save(tmp_path / "m.keras")
    editor = keras.saving.KerasFileEditor(tmp_path / "m.keras")
    editor.delete_weight("dense", "1")
    editor.add_weights("dense", {"1": np.zeros(3, "float32")})
    editor.save(tmp_path / "edited.keras")
    back = keras.saving.load_model(tmp_path / "edited.keras")
    assert back.compiled and not back.layers[0].bias.numpy().any()


def test_bad_names_are_refused(tmp_path):
    _model().save_weights(tmp_path / "w.weights.h5")
    editor = keras.saving.KerasFileEditor(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="An object 'layers/dense_1' already exists"):
        editor.rename_object("dense", "dense_1")
    with pytest.raises(ValueError, match="No weight '5' in 'dense'"):
        editor.delete_weight("dense", 5)
    with pytest.raises(ValueError, match="reads '.keras' and '.weights.h5' files"):
        keras.saving.KerasFileEditor(tmp_path / "w.bin")
    with pytest.raises(ValueError, match="save\\(\\) writes a '.keras' file"):
        editor.save(tmp_path / "x.keras")


def test_a_group_where_a_variable_belongs_is_a_model_file_error(tmp_path):
    import h5py

    model = _model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        name = next(iter(f["layers"]))
        del f[f"layers/{name}/vars/0"]
        f.create_group(f"layers/{name}/vars/0")
    with pytest.raises(keras.saving.ModelFileError, match=r"vars/0 is a group where a variable"):
        keras.saving.KerasFileEditor(path)
    with h5py.File(path, "a") as f:
        del f[f"layers/{name}/vars"]
        f[f"layers/{name}/vars"] = np.zeros(3)
    with pytest.raises(keras.saving.ModelFileError, match=r"vars' is a dataset"):
        keras.saving.KerasFileEditor(path)
