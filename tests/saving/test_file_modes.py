"""Saved files get the mode a plain open() gives: new files the umask's (0o644 under the
usual 0o022), an overwritten file keeps its own (0o640 stays 0o640). Every save left 0o600
before, so another account serving the model could not read the next checkpoint."""

import os
import stat

import numpy as np
import pytest

import shendu as keras


def _model():
    x = keras.Input((3,))
    return keras.Model(x, keras.layers.Dense(2)(x))


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("name", ["m.shendu", "m.keras", "w.weights.h5"])
def test_new_files_follow_the_umask_and_overwrites_keep_their_mode(tmp_path, umask_022, name):
    pytest.importorskip("h5py" if name.endswith((".keras", ".h5")) else "safetensors")
    model, path = _model(), tmp_path / name
    save = model.save_weights if name.endswith(".weights.h5") else model.save
    save(path)
    assert _mode(path) == 0o644
    os.chmod(path, 0o640)
    save(path)
    assert _mode(path) == 0o640
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".shendu-tmp-")]


def test_a_checkpoint_callback_keeps_the_mode(tmp_path, umask_022):
    pytest.importorskip("safetensors")
    model = _model()
    model.compile("sgd", "mse")
    path = tmp_path / "ck.shendu"
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(str(path))])
    os.chmod(path, 0o640)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(str(path))])
    assert _mode(path) == 0o640
