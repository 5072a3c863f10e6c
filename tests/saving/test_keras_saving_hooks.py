"""Keras's saving hooks and registered subclassed models in .keras files, both ways:
shendu keeps what save_own_variables/save_assets/get_build_config write (it lost them:
extra state 3.0 came back as 7.0, a vocabulary as None), writes a registered subclassed
model (it was refused), and reads the files Keras 3.15 wrote (fixtures in keras_files/)."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import shendu as keras

from .keras_hook_classes import define, hooks_model, subclassed_model

pytest.importorskip("h5py")
import h5py  # noqa: E402

FILES = Path(__file__).parent / "keras_files"
CLASSES = define(keras, package="hooks_test")
X = np.random.default_rng(0).random((2, 4)).astype("float32")


def _groups(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
        found = []
        h5.visit(found.append)
    return names, sorted(found)


def test_hook_state_survives_a_round_trip(tmp_path):
    model = hooks_model(keras, CLASSES)
    expected = model.predict(X, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    extra, vocab = again.layers[1], again.layers[2]
    assert extra.extra == 3.0  # was 7.0: the value at construction
    assert vocab.vocab == ["a", "b", "c"]  # was None
    np.testing.assert_allclose(again.predict(X, verbose=0), expected, rtol=1e-6)


def test_hook_state_is_stored_where_keras_stores_it(tmp_path):
    model = hooks_model(keras, CLASSES)
    model.save(tmp_path / "m.keras")
    names, groups = _groups(tmp_path / "m.keras")
    keras_names, keras_groups = _groups(FILES / "hooks.keras")
    assert "assets/layers/vocab/vocab.txt" in names and names == keras_names
    assert "layers/extra/vars/extra" in groups
    assert groups == keras_groups


def test_a_file_keras_wrote_with_hooks_loads():
    model = keras.saving.load_model(FILES / "hooks.keras")
    assert model.layers[1].extra == 3.0 and model.layers[2].vocab == ["a", "b", "c"]
    data = np.load(FILES / "hooks.npz")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-5)


def test_a_registered_subclassed_model_round_trips(tmp_path):
    model = subclassed_model(keras, CLASSES, X)
    expected = model.predict(X, verbose=0)
    model.save(tmp_path / "s.keras")  # was refused
    again = keras.saving.load_model(tmp_path / "s.keras")
    assert type(again) is CLASSES["Blocks"] and again.units == 2
    np.testing.assert_allclose(again.predict(X, verbose=0), expected, rtol=1e-6)
    assert again.optimizer is not None  # compiled as saved
    _, groups = _groups(tmp_path / "s.keras")
    _, keras_groups = _groups(FILES / "subclassed.keras")
    # Keras also writes its optimizer's variables (shendu's .keras files do not: the
    # module docstring of saving.keras_writer)
    assert groups == [g for g in keras_groups if not g.startswith("optimizer")]


def test_a_subclassed_model_keras_wrote_loads():
    model = keras.saving.load_model(FILES / "subclassed.keras")
    assert type(model) is CLASSES["Blocks"]
    data = np.load(FILES / "subclassed.npz")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-5)


def test_an_unregistered_subclassed_model_is_refused_with_the_way_out(tmp_path):
    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Plain()
    model(X)
    with pytest.raises(ValueError, match=r"unless its class is registered"):
        model.save(tmp_path / "p.keras")
    assert not (tmp_path / "p.keras").exists()


def test_a_file_naming_an_unknown_subclass_is_refused(tmp_path):
    model = subclassed_model(keras, CLASSES, X)
    model.save(tmp_path / "s.keras")
    with zipfile.ZipFile(tmp_path / "s.keras") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["config.json"] = members["config.json"].replace(b"Blocks", b"Unknown")
    with zipfile.ZipFile(tmp_path / "u.keras", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(Exception, match=r"'Unknown' is neither shendu's nor registered"):
        keras.saving.load_model(tmp_path / "u.keras")


def test_an_asset_path_leaving_its_folder_is_refused(tmp_path):
    model = hooks_model(keras, CLASSES)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["assets/layers/vocab/../../../evil.txt"] = b"x"
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(Exception, match=r"not a plain path|unexpected member|member"):
        keras.saving.load_model(tmp_path / "bad.keras")
    assert not (tmp_path / "evil.txt").exists()
