"""Saved models come back identical and keep training on the same trajectory."""

import os

import numpy as np
import pytest

pytest.importorskip("safetensors")

import shendu  # noqa: E402
from shendu import layers  # noqa: E402
from shendu.saving import load_model  # noqa: E402

X = np.random.default_rng(0).standard_normal((32, 4)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.float32)


def _continue(model, epochs=2):
    model.fit(X, Y, epochs=epochs, batch_size=8, shuffle=False, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("opt", ["adam", "sgd", "rmsprop", "nadam", "adagrad"])
def test_sequential_roundtrip_resumes_exactly(opt, tmp_path):
    m = shendu.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(6, activation="relu"),
            layers.Dropout(0.0),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    m.compile(opt, "binary_crossentropy", metrics=["accuracy"])
    _continue(m, 1)
    path = str(tmp_path / "m.shendu")
    m.save(path)
    m2 = load_model(path)
    assert m2.optimizer.iterations == m.optimizer.iterations
    for a, b in zip(_continue(m), _continue(m2)):
        np.testing.assert_array_equal(a, b)


def test_functional_and_weights_files(tmp_path):
    a = layers.Input((4,), name="a")
    h = layers.Dense(5, activation="tanh")(a)
    out = layers.Add()([layers.Dense(1)(h), layers.Dense(1)(h)])
    m = shendu.Model(a, out)
    m.compile("adam", "mse")
    _continue(m, 1)
    path = str(tmp_path / "f.shendu")
    m.save(path, include_optimizer=False)
    m2 = load_model(path)
    np.testing.assert_allclose(m.predict(X, verbose=0), m2.predict(X, verbose=0))
    wpath = str(tmp_path / "f.weights.safetensors")
    m.save_weights(wpath)
    m3 = shendu.models.clone_model(m)
    m3.load_weights(wpath)
    np.testing.assert_allclose(m.predict(X, verbose=0), m3.predict(X, verbose=0))
    with pytest.raises(ValueError, match="must end in '.shendu'"):
        m.save(str(tmp_path / "f.h5"))


def test_registered_subclassed_model(tmp_path):
    @shendu.saving.register_serializable()
    class Tiny(shendu.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    m = Tiny(units=2)
    m.compile("sgd", "mse")
    m.fit(X, np.zeros((32, 2)), epochs=1, verbose=0)
    path = str(tmp_path / "t.shendu")
    m.save(path)
    m2 = load_model(path)
    assert isinstance(m2, Tiny) and m2.units == 2
    np.testing.assert_allclose(m.predict(X, verbose=0), m2.predict(X, verbose=0))


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    m = shendu.Sequential([layers.Input((4,)), layers.Dense(1)])
    path = str(tmp_path / "m.shendu")
    m.save(path)
    with open(path, "rb") as f:
        before = f.read()
    import zipfile

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        m.save(path)
    with open(path, "rb") as f:
        assert f.read() == before
    assert [p for p in os.listdir(tmp_path)] == ["m.shendu"]


def test_model_checkpoint_stores_the_training_state(tmp_path):
    import json
    import zipfile

    m = shendu.Sequential([layers.Input((4,)), layers.Dense(1)])
    m.compile("adam", "mse")
    ck = shendu.callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch}.shendu"), monitor="loss")
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[ck])
    with zipfile.ZipFile(tmp_path / "ck-2.shendu") as zf:
        state = json.loads(zf.read("config.json"))["training_state"]
    assert state["epoch"] == 1 and "rng" in state and len(state["history"]["loss"]) == 1
    assert load_model(str(tmp_path / "ck-2.shendu")).optimizer.iterations == 2  # 1 step an epoch
