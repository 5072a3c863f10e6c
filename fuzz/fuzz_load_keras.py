"""Coverage-guided fuzzing of the Keras-file readers with atheris (by hand, not in CI).

    pip install atheris && python fuzz/fuzz_load_keras.py -max_total_time=300 fuzz/corpus_keras

``load_model("x.keras")``, ``saving.load_keras_weights`` and the Keras 2 (legacy ``.h5``)
reader must refuse every malformed file with ``ModelFileError``; any other exception is a
finding. Structure-aware: the first byte picks raw bytes as a .keras file, a valid .keras
archive whose config.json, metadata.json or model.weights.h5 is the fuzzed bytes, fuzzed
bytes as a .weights.h5 file, or as a legacy .h5 file; the seed corpus is the Keras 3
fixtures of the test suite and a legacy file written as Keras 2 writes them.
"""

import io
import os
import sys
import tempfile
import zipfile

import atheris
import numpy as np

with atheris.instrument_imports():
    import shendu
    import shendu.saving.keras_files  # noqa: F401 (imported lazily by load_model)
    from shendu.saving import ModelFileError, load_keras_weights, load_model
    from shendu.saving.keras_files import load_legacy_h5_weights

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "saving", "keras_files")
TMP = tempfile.mkdtemp()
KERAS_PATH = os.path.join(TMP, "fuzz.keras")
H5_PATH = os.path.join(TMP, "fuzz.weights.h5")
LEGACY_PATH = os.path.join(TMP, "fuzz_legacy.h5")
MODES = 6
with zipfile.ZipFile(os.path.join(FIXTURES, "mlp.keras")) as _zf:
    GOOD = {n: _zf.read(n) for n in _zf.namelist()}
MEMBERS = ["config.json", "metadata.json", "model.weights.h5"]


def _model():
    layers = shendu.layers
    model = shendu.Sequential(
        [layers.Input((4,)), layers.Dense(5), layers.BatchNormalization(), layers.Dense(3)]
    )
    return model


def seed_corpus(folder):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "raw-mlp"), "wb") as f:
        f.write(b"\x00" + open(os.path.join(FIXTURES, "mlp.keras"), "rb").read())
    for i, name in enumerate(MEMBERS):
        with open(os.path.join(folder, f"member-{name}"), "wb") as f:
            f.write(bytes([i + 1]) + GOOD[name])
    with open(os.path.join(folder, "weights-h5"), "wb") as f:
        f.write(b"\x04" + open(os.path.join(FIXTURES, "mlp.weights.h5"), "rb").read())
    with open(os.path.join(folder, "legacy-h5"), "wb") as f:
        f.write(b"\x05" + _legacy_bytes())


def _legacy_bytes():
    """The fixture model's weights as Keras 2 writes them (layer_names, weight_names)."""
    import h5py

    model = _model()
    model.build((None, 4))
    path = os.path.join(TMP, "seed_legacy.h5")
    with h5py.File(path, "w") as f:
        layers = [layer for layer in model.layers if layer.weights]
        f.attrs["layer_names"] = np.asarray([layer.name.encode() for layer in layers])
        for layer in layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/w{i}:0" for i in range(len(layer.weights))]
            group.attrs["weight_names"] = np.asarray([n.encode() for n in names])
            for n, w in zip(names, layer.weights):
                group.create_dataset(n, data=w.numpy())
    return open(path, "rb").read()


def test_one(data: bytes):
    if not data:
        return
    mode, body = data[0] % MODES, data[1:]
    try:
        if mode in (4, 5):
            path = H5_PATH if mode == 4 else LEGACY_PATH
            with open(path, "wb") as f:
                f.write(body)
            model = _model()
            model.build((None, 4))
            (load_keras_weights if mode == 4 else load_legacy_h5_weights)(model, path)
            return
        if mode == 0:
            raw = body
        else:
            members = dict(GOOD)
            members[MEMBERS[mode - 1]] = body
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                for name, member in members.items():
                    zf.writestr(name, member)
            raw = buf.getvalue()
        with open(KERAS_PATH, "wb") as f:
            f.write(raw)
        load_model(KERAS_PATH)
    except ModelFileError:
        pass


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")  # the newer-version warning is not a finding
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(corpus[0])
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
