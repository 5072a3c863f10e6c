"""Plots (matplotlib, the [plot] extra) and the model graph."""

import numpy as np
import pytest

import shendu
from shendu import layers as L

pytest.importorskip("matplotlib")


def test_plot_history_and_confusion_matrix(tmp_path):
    m = shendu.Sequential([L.Input((2,)), L.Dense(3, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).standard_normal((30, 2)).astype("float32")
    y = np.arange(30) % 3
    h = m.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    shendu.utils.plot_history(h, tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 1000
    _, matrix = shendu.utils.plot_confusion_matrix(y, m.predict(x, verbose=0), tmp_path / "c.png")
    assert matrix.sum() == 30 and matrix.shape == (3, 3)


def test_plot_model_dot_text_and_message(tmp_path, monkeypatch):
    a = L.Input((2,), name="a")
    out = L.Add()([L.Dense(2, name="d1")(a), L.Dense(2, name="d2")(a)])
    m = shendu.Model(a, out)
    path = shendu.utils.plot_model(m, str(tmp_path / "m.dot"))
    with open(path) as f:
        text = f.read()
    assert '"a" -> "d1"' in text and '"d2" -> "add' in text
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="apt-get install graphviz"):
        shendu.utils.plot_model(m, str(tmp_path / "m.png"))
