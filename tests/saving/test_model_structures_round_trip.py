"""Every input and output structure Keras has (one tensor, a list, a list of one, a dict,
dict keys other than the Inputs' names) survives save and load in both formats: a
checkpoint of a dict-in dict-out model was unloadable (``KeyError: 0``) before."""

import numpy as np
import pytest

import shendu as keras

pytest.importorskip("h5py")
pytest.importorskip("safetensors")


def _single():
    x = keras.Input((3,), name="x")
    return keras.Model(x, keras.layers.Dense(2)(x)), np.ones((2, 3), "float32")


def _list_of_one():
    x = keras.Input((3,), name="x")
    return keras.Model([x], [keras.layers.Dense(2)(x)]), [np.ones((2, 3), "float32")]


def _lists():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = keras.layers.Concatenate()([a, b])
    outputs = [keras.layers.Dense(1)(h), keras.layers.Dense(2)(h)]
    return keras.Model([a, b], outputs), [np.ones((2, 3), "float32"), np.ones((2, 2), "float32")]


def _dicts():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = keras.layers.Concatenate()([a, b])
    outputs = {"y1": keras.layers.Dense(1, name="y1")(h), "y2": keras.layers.Dense(2)(h)}
    x = {"a": np.ones((2, 3), "float32"), "b": np.full((2, 2), 2.0, "float32")}
    return keras.Model({"a": a, "b": b}, outputs), x


def _dict_keys_other_than_names():
    a = keras.Input((3,), name="input_a")
    model = keras.Model({"first": a}, {"out": keras.layers.Dense(2)(a)})
    return model, {"first": np.ones((2, 3), "float32")}


def _nested():
    x = keras.Input((3,), name="x")
    outputs = {
        "a": [keras.layers.Dense(1)(x), keras.layers.Dense(2)(x)],
        "b": keras.layers.Dense(3)(x),
    }
    return keras.Model(x, outputs), np.ones((2, 3), "float32")


CASES = {
    f.__name__[1:]: f
    for f in (_single, _list_of_one, _lists, _dicts, _dict_keys_other_than_names, _nested)
}


def _same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("suffix", [".keras", ".shendu"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_structures_survive_save_and_load(tmp_path, name, suffix):
    model, x = CASES[name]()
    want = model.predict(x, verbose=0)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    back = keras.models.load_model(path)
    _same(want, back.predict(x, verbose=0))


def test_a_checkpoint_of_a_dict_model_loads(tmp_path):
    model, x = _dicts()
    model.compile("adam", {"y1": "mse", "y2": "mse"})
    y = {"y1": np.zeros((2, 1), "float32"), "y2": np.zeros((2, 2), "float32")}
    path = tmp_path / "ck.keras"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(str(path))])
    back = keras.models.load_model(path)
    _same(model.predict(x, verbose=0), back.predict(x, verbose=0))


def test_real_keras_reads_every_structure(tmp_path):
    """Optional: where Keras 3 is installed (the oracle environment), it loads each file
    and predicts what shendu predicts."""
    import os
    import subprocess

    python = os.environ.get("SHENDU_KERAS_PYTHON")
    if not python:
        pytest.skip("set SHENDU_KERAS_PYTHON to a Python with Keras 3 to run this check")
    for name, make in CASES.items():
        model, x = make()
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.npy", np.asarray(_flat(model.predict(x, verbose=0))))
        if isinstance(x, dict):
            np.savez(tmp_path / f"{name}.x.npz", **{f"d:{k}": v for k, v in x.items()})
        elif isinstance(x, list):
            np.savez(tmp_path / f"{name}.x.npz", **{f"l:{i}": v for i, v in enumerate(x)})
        else:
            np.savez(tmp_path / f"{name}.x.npz", s=x)
    script = f"""
import os, numpy as np
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras
def flat(v):
    if isinstance(v, dict): return [u for k in v for u in flat(v[k])]
    if isinstance(v, list): return [u for w in v for u in flat(w)]
    return [np.ravel(v)]
for name in {sorted(CASES)!r}:
    m = keras.models.load_model(os.path.join({str(tmp_path)!r}, name + ".keras"))
    f = np.load(os.path.join({str(tmp_path)!r}, name + ".x.npz"))
    keys = list(f.keys())
    if keys == ["s"]: x = f["s"]
    elif keys[0].startswith("d:"): x = {{k[2:]: f[k] for k in keys}}
    else: x = [f[k] for k in sorted(keys, key=lambda k: int(k[2:]))]
    got = np.concatenate(flat(m.predict(x, verbose=0)))
    want = np.load(os.path.join({str(tmp_path)!r}, name + ".npy"))
    assert np.allclose(got, want, rtol=1e-5), name
print("ok")
"""
    r = subprocess.run([python, "-c", script], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]


def _flat(v):
    if isinstance(v, dict):
        return np.concatenate([_flat(v[k]) for k in v])
    if isinstance(v, list):
        return np.concatenate([_flat(u) for u in v])
    return np.ravel(v)
