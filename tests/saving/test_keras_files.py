"""Models and weights written by real Keras 3 (fixtures made by keras_files/make_fixtures.py)
load into shendu and predict the same values."""

import os
import zipfile

import numpy as np
import pytest

pytest.importorskip("h5py")

import shendu  # noqa: E402
from shendu.saving import ModelFileError, load_keras_weights, load_model  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "keras_files")


@pytest.mark.parametrize("name", ["mlp", "functional", "cnn", "rnn"])
def test_keras_model_predicts_like_keras(name):
    model = load_model(os.path.join(HERE, f"{name}.keras"))
    data = np.load(os.path.join(HERE, f"{name}.npz"))
    np.testing.assert_allclose(
        model.predict(data["x"], verbose=0), data["y"], rtol=1e-5, atol=1e-5
    )


def test_keras_weights_into_a_shendu_model():
    from shendu import layers as L

    model = shendu.Sequential(
        [
            L.Input((4,)),
            L.Dense(5, activation="relu"),
            L.BatchNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )
    load_keras_weights(model, os.path.join(HERE, "mlp.weights.h5"))
    data = np.load(os.path.join(HERE, "mlp.npz"))
    np.testing.assert_allclose(
        model.predict(data["x"], verbose=0), data["y"], rtol=1e-5, atol=1e-6
    )
    wrong = shendu.Sequential([L.Input((4,)), L.Dense(6), L.BatchNormalization(), L.Dense(3)])
    with pytest.raises(ModelFileError, match=r"expected shape \(4, 6\). Received: shape \(4, 5\)"):
        load_keras_weights(wrong, os.path.join(HERE, "mlp.weights.h5"))


def test_keras_file_naming_an_unknown_class_is_refused(tmp_path):
    src = os.path.join(HERE, "mlp.keras")
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["config.json"] = members["config.json"].replace(b'"Dense"', b'"EvilLayer"', 1)
    path = tmp_path / "evil.keras"
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    with pytest.raises(ModelFileError, match="Unknown layer class: 'EvilLayer'"):
        load_model(str(path))
