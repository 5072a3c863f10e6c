"""Writing Keras 3 files: ``model.save("m.keras")``, ``save_weights("w.weights.h5")`` and
``ModelCheckpoint`` under Keras's names; shendu reads them back equal, and (where Keras is
installed) real Keras 3 loads them and predicts the same."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import shendu as keras
from shendu import layers as L

pytest.importorskip("h5py")

RNG = np.random.default_rng(0)


def _sequential():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(8, activation="relu", kernel_regularizer="l2"),
            L.BatchNormalization(),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x = RNG.standard_normal((16, 6)).astype("float32")
    model.fit(x, RNG.integers(0, 3, 16), epochs=2, verbose=0)
    return model, x


def _functional():
    """Every kind of nested weight Keras stores apart: cell, forward/backward layers, the
    attention's four dense parts, TimeDistributed's layer; a layer called on two tensors."""
    keras.utils.set_random_seed(1)
    inp = keras.Input((5,), dtype="int32")
    e = L.Embedding(20, 8)(inp)
    a = L.Bidirectional(L.LSTM(4, return_sequences=True))(e)
    b = L.MultiHeadAttention(2, 3)(a, a)
    c = L.TimeDistributed(L.Dense(3))(b)
    d = L.LayerNormalization()(L.GRU(3, return_sequences=True)(c))
    f = L.Conv1D(2, 2, padding="same")(d)
    out = L.Dense(2)(L.GlobalAveragePooling1D()(L.Concatenate()([f, d])))
    model = keras.Model(inp, out)
    model.compile("rmsprop", "mse")
    return model, RNG.integers(0, 20, (3, 5))


def _wide():
    """A functional model of 40 layers of most kinds (convolutions, pooling, cropping and
    padding, recurrent, attention, embedding, Normalization adapted, regularisers,
    constraints, activations layers), four inputs."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    img = keras.Input((8, 8, 3))
    x = L.Rescaling(1 / 2.0)(img)
    x = L.Conv2D(4, 3, padding="same", kernel_regularizer="l2", kernel_constraint="max_norm")(x)
    x = L.BatchNormalization()(x)
    x = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.SeparableConv2D(4, 3, padding="same")(x)
    x = L.LeakyReLU()(x)
    x = L.ZeroPadding2D(1)(x)
    x = L.Cropping2D(((1, 1), (1, 1)))(x)
    x = L.MaxPooling2D()(x)
    x = L.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    x = L.UpSampling2D()(x)
    x = L.AveragePooling2D(pool_size=2)(x)
    x = L.PReLU()(x)
    x = L.SpatialDropout2D(0.1)(x)
    a = L.GlobalAveragePooling2D()(x)
    b = L.Flatten()(L.MaxPooling2D(4)(x))
    seq = keras.Input((6, 5))
    s = L.LayerNormalization()(seq)
    s = L.SimpleRNN(4, return_sequences=True)(s)
    s2 = L.GRU(4, return_sequences=True)(s)
    att = L.Attention()([s2, s])
    att = L.AdditiveAttention()([att, s2])
    s3 = L.Permute((2, 1))(att)
    s3 = L.Reshape((24,))(s3)
    tok = keras.Input((5,), dtype="int32")
    e = L.Embedding(10, 3)(tok)
    e = L.GlobalMaxPooling1D()(L.Conv1D(3, 2)(e))
    num = keras.Input((3,))
    n = L.Normalization()
    n.adapt(rng.standard_normal((20, 3)).astype("float32") * 3 + 1)
    n2 = L.Dense(4, activation="elu", bias_regularizer="l1")(n(num))
    merged = L.Concatenate()([a, b, s3, e, n2])
    merged = L.Dropout(0.2)(L.UnitNormalization()(merged))
    out = L.Dense(3)(L.ELU()(L.Dense(6)(merged)))
    out = L.Softmax()(out)
    m = keras.Model([img, seq, tok, num], out)
    xs = [
        rng.random((2, 8, 8, 3)).astype("float32"),
        rng.random((2, 6, 5)).astype("float32"),
        rng.integers(0, 10, (2, 5)).astype("int32"),
        rng.random((2, 3)).astype("float32"),
    ]
    m.compile("adam", "categorical_crossentropy")
    return m, xs


@pytest.mark.parametrize(
    "make", [_sequential, _functional, _wide], ids=["sequential", "functional", "wide"]
)
def test_keras_file_round_trip(make, tmp_path):
    model, x = make()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
    assert config["module"] in ("keras", "keras.src.models.functional")
    assert all("module" in entry for entry in config["config"]["layers"])
    back = keras.saving.load_model(path)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.compiled and type(back.optimizer) is type(model.optimizer)
    assert not keras.saving.load_model(path, compile=False).compiled


def test_weights_h5_round_trip(tmp_path):
    model, x = _sequential()
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(8, activation="relu"),
            L.BatchNormalization(),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]
    )
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_weights_h5_layout_is_keras(tmp_path):
    import h5py

    model, _ = _functional()
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as h5:
        names = []
        h5.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    assert "layers/bidirectional/forward_layer/cell/vars/0" in names
    assert "layers/bidirectional/backward_layer/cell/vars/2" in names
    assert "layers/multi_head_attention/output_dense/vars/0" in names
    assert "layers/time_distributed/layer/vars/1" in names
    assert "layers/gru/cell/vars/2" in names
    with h5py.File(tmp_path / "w.weights.h5") as h5:
        assert h5["layers/multi_head_attention/query_dense/vars/0"].shape == (8, 2, 3)
        assert h5["layers/multi_head_attention/output_dense/vars/0"].shape == (2, 3, 8)


def test_checkpoints_under_keras_names(tmp_path):
    model, x = _sequential()
    y = RNG.integers(0, 3, 16)
    best = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss")
    weights = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt.weights.h5"), save_weights_only=True, monitor="loss"
    )
    model.fit(x, y, epochs=2, verbose=0, callbacks=[best, weights])
    assert keras.saving.load_model(tmp_path / "best.keras").predict(x, verbose=0).shape == (16, 3)
    model.load_weights(tmp_path / "ckpt.weights.h5")


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = L.Dense(2)

    def call(self, x):
        return self.dense(x)


def test_subclassed_model_is_refused_before_writing(tmp_path):
    model = Subclassed()
    model(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="subclassed model has no config Keras can rebuild"):
        model.save(tmp_path / "s.keras")
    assert not (tmp_path / "s.keras").exists()
    model.save_weights(tmp_path / "s.weights.h5")  # weights work for any model
    other = Subclassed()
    other(np.ones((1, 3), "float32"))
    other.load_weights(tmp_path / "s.weights.h5")
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def test_unknown_suffix_names_both_formats(tmp_path):
    model, _ = _sequential()
    with pytest.raises(ValueError, match=r"'\.shendu'.*'\.keras'"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"'\.weights\.safetensors' or '\.weights\.h5'"):
        model.save_weights(tmp_path / "m.weights.bin")


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    from shendu.saving import keras_writer

    model, _ = _sequential()

    def broken(model):
        raise OSError("disk full")

    monkeypatch.setattr(keras_writer, "_weights_h5_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.keras")
    assert os.listdir(tmp_path) == []


def test_missing_h5py_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['h5py'] = None\n"
        "import shendu\n"
        "m = shendu.Sequential([shendu.Input((2,)), shendu.layers.Dense(1)])\n"
        f"m.save_weights({str(tmp_path / 'w.weights.h5')!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "pip install 'shendu[keras-files]'" in result.stderr


KERAS_CHECK = """
import os, sys
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras, numpy as np
folder = sys.argv[1]
for name in ("sequential", "functional", "wide"):
    model = keras.saving.load_model(os.path.join(folder, name + ".keras"))
    x = np.load(os.path.join(folder, name + "_x.npy"), allow_pickle=False)
    if name == "wide":
        x = [np.load(os.path.join(folder, f"wide_x{i}.npy")) for i in range(4)]
    got = np.asarray(model.predict(x, verbose=0))
    print(name, float(np.abs(got - np.load(os.path.join(folder, name + "_y.npy"))).max()))
"""


def test_real_keras_loads_what_shendu_wrote(tmp_path):
    """Optional oracle: runs where a Python with Keras 3 is named by SHENDU_KERAS_PYTHON
    (or Keras is importable here)."""
    python = os.environ.get("SHENDU_KERAS_PYTHON")
    if python is None:
        pytest.importorskip("keras")
        python = sys.executable
    for name, make in (("sequential", _sequential), ("functional", _functional), ("wide", _wide)):
        model, x = make()
        model.save(tmp_path / f"{name}.keras")
        if name == "wide":
            for i, part in enumerate(x):
                np.save(tmp_path / f"wide_x{i}.npy", part)
            np.save(tmp_path / "wide_x.npy", np.zeros(1))
        else:
            np.save(tmp_path / f"{name}_x.npy", x)
        np.save(tmp_path / f"{name}_y.npy", model.predict(x, verbose=0))
    result = subprocess.run(
        [python, "-c", KERAS_CHECK, str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    diffs = dict(line.split() for line in result.stdout.strip().splitlines())
    assert {k: float(v) < 1e-5 for k, v in diffs.items()} == {
        "sequential": True,
        "functional": True,
        "wide": True,
    }, diffs


def test_shendu_only_settings_are_left_out_or_refused(tmp_path):
    inp = keras.Input((3,))
    norm = L.Normalization(mean=[0.0, 1.0, 2.0], variance=[1.0, 1.0, 4.0])
    model = keras.Model(inp, L.Dense(1)(norm(inp)))
    model.save(tmp_path / "ok.keras")
    with zipfile.ZipFile(tmp_path / "ok.keras") as zf:
        config = json.loads(zf.read("config.json"))
    entry = next(e for e in config["config"]["layers"] if e["class_name"] == "Normalization")
    assert "impute_nan" not in entry["config"]
    imputing = L.Normalization(mean=[0.0] * 3, variance=[1.0] * 3, impute_nan=True)
    model = keras.Model(inp, L.Dense(1)(imputing(inp)))
    with pytest.raises(ValueError, match="impute_nan=True has no Keras equivalent"):
        model.save(tmp_path / "no.keras")
    assert not (tmp_path / "no.keras").exists()
