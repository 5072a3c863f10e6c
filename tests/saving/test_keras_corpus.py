"""Crafted Keras files (.weights.h5 and .keras): HDF5 features that reach outside the file,
sizes the file does not hold, corrupt members, other Keras versions. Each is refused with
ModelFileError before any weight is read, and never copies another file's bytes in."""

import io
import json
import os
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import shendu  # noqa: E402
from shendu import layers as L  # noqa: E402
from shendu.saving import ModelFileError, load_keras_weights, load_model  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "keras_files")
SECRET = b"top secret bytes: the loader must never copy these into a model " * 4


def _model():
    """The fixture mlp's architecture (weights: dense (4, 5), (5,); batch norm 4 x (5,);
    dense_1 (5, 3), (3,))."""
    return shendu.Sequential(
        [
            L.Input((4,)),
            L.Dense(5, activation="relu"),
            L.BatchNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )


def _copy_fixture(dst):
    with h5py.File(os.path.join(HERE, "mlp.weights.h5"), "r") as src, h5py.File(dst, "w") as out:
        for key in src:
            src.copy(key, out)


def _replace_var(path, edit):
    """Copy the fixture, then let ``edit(file, vars_group)`` replace dense/vars/0."""
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        group = f["layers/dense/vars"]
        del group["0"]
        edit(f, group)


def _secret_file(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(SECRET)
    return secret


def external_link(tmp, path):
    other = tmp / "other.h5"
    with h5py.File(other, "w") as f:
        f["kernel"] = np.arange(20, dtype=np.float32).reshape(4, 5)
    _replace_var(path, lambda f, g: g.__setitem__("0", h5py.ExternalLink(str(other), "/kernel")))


def external_group_link(tmp, path):
    other = tmp / "other.h5"
    _copy_fixture(other)
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        del f["layers"]
        f["layers"] = h5py.ExternalLink(str(other), "/layers")


def soft_link(tmp, path):
    def edit(f, g):
        f["stash"] = np.zeros((4, 5), np.float32)
        g["0"] = h5py.SoftLink("/stash")

    _replace_var(path, edit)


def external_storage(tmp, path):
    secret = _secret_file(tmp)
    _replace_var(
        path,
        lambda f, g: g.create_dataset(
            "0", shape=(4, 5), dtype="float32", external=[(str(secret), 0, 80)]
        ),
    )


def virtual_dataset(tmp, path):
    other = tmp / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.ones((4, 5), np.float32)

    def edit(f, g):
        layout = h5py.VirtualLayout(shape=(4, 5), dtype="float32")
        layout[:] = h5py.VirtualSource(str(other), "data", shape=(4, 5))
        g.create_virtual_dataset("0", layout)

    _replace_var(path, edit)


def fill_value_giant(tmp, path):
    """A dataset of 512 MiB (under the per-tensor ceiling) with no storage: h5py would hand
    back 512 MiB of fill value from a file of a few KiB."""
    _replace_var(path, lambda f, g: g.create_dataset("0", shape=(1 << 27,), dtype="float32"))


def beyond_ceiling(tmp, path):
    """A dataset of 16 GiB: more than the loader's per-tensor ceiling."""
    _replace_var(path, lambda f, g: g.create_dataset("0", shape=(1 << 32,), dtype="float32"))


def fill_value_small(tmp, path):
    """Unallocated storage even at the right shape: declared bytes the file does not hold."""
    _replace_var(
        path, lambda f, g: g.create_dataset("0", shape=(4, 5), dtype="float32", fillvalue=7.0)
    )


def compression_bomb(tmp, path):
    def edit(f, g):
        ds = g.create_dataset(
            "0", shape=(1 << 26,), dtype="float32", chunks=(1 << 20,), compression="gzip"
        )
        ds[: 1 << 20] = 0.0  # one chunk stored: 256 MiB declared from a few KiB

    _replace_var(path, edit)


def string_dtype(tmp, path):
    _replace_var(path, lambda f, g: g.create_dataset("0", data=np.array([b"x" * 20] * 4)))


def object_reference(tmp, path):
    _replace_var(
        path,
        lambda f, g: g.create_dataset("0", data=[f["layers"].ref], dtype=h5py.ref_dtype),
    )


def deep_groups(tmp, path):
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        g = f
        for i in range(60):
            g = g.create_group(f"g{i}")


def many_objects(tmp, path):
    """More objects than a weights file needs (the limit is lowered to 2,000 for the test:
    walking costs about 80 us an object, linear in the file's size)."""
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        g = f.create_group("many")
        for i in range(2_100):
            g.create_group(str(i))


@pytest.fixture(autouse=True)
def _small_object_limit(monkeypatch):
    from shendu.saving import keras_files

    monkeypatch.setattr(keras_files, "MAX_H5_OBJECTS", 2_000)


def hard_link_cycle(tmp, path):
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        f["layers/dense/loop"] = f["layers"]


def shared_dataset(tmp, path):
    """One dataset reached by 32 hard links: counted per link it would multiply the bytes
    the file declares (a 16 MB dataset linked from 32 layers loaded as 512 MiB)."""
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        for i in range(32):
            f[f"layers/dense_{i + 10}/vars/0"] = f["layers/dense/vars/0"]


def shared_between_variables(tmp, path):
    """dense_1's kernel slot holding dense's kernel object: two variables, one dataset."""
    _copy_fixture(path)
    with h5py.File(path, "a") as f:
        f["layers/batch_normalization/vars/4"] = f["layers/batch_normalization/vars/0"]


def wrong_var_names(tmp, path):
    _replace_var(path, lambda f, g: g.__setitem__("kernel", np.zeros((4, 5), np.float32)))


def corrupt_bytes(tmp, path):
    _copy_fixture(path)
    data = bytearray(path.read_bytes())
    for i in range(600, min(len(data), 2600)):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def truncated(tmp, path):
    _copy_fixture(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def not_hdf5(tmp, path):
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)


H5_CASES = {
    f.__name__: f
    for f in [
        external_link,
        external_group_link,
        soft_link,
        external_storage,
        virtual_dataset,
        fill_value_giant,
        beyond_ceiling,
        fill_value_small,
        compression_bomb,
        string_dtype,
        object_reference,
        deep_groups,
        many_objects,
        hard_link_cycle,
        shared_dataset,
        shared_between_variables,
        wrong_var_names,
        corrupt_bytes,
        truncated,
        not_hdf5,
    ]
}


def _check_refused(load, path, name, peak_margin=64 << 20):
    model = _model()
    model.build((None, 4))
    before = [w.copy() for w in model.get_weights()]
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            load(model, str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < os.path.getsize(path) + peak_margin, f"{name}: peak {peak} bytes"
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing assigned before the refusal
    return info.value


@pytest.mark.parametrize("name", sorted(H5_CASES))
def test_crafted_weights_h5_is_refused(name, tmp_path):
    path = tmp_path / "crafted.weights.h5"
    H5_CASES[name](tmp_path, path)
    _check_refused(load_keras_weights, path, name)


def _keras_zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _fixture_members():
    with zipfile.ZipFile(os.path.join(HERE, "mlp.keras")) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize("name", sorted(H5_CASES))
def test_crafted_weights_inside_a_keras_file_are_refused(name, tmp_path):
    h5_path = tmp_path / "w.h5"
    H5_CASES[name](tmp_path, h5_path)
    members = _fixture_members()
    members["model.weights.h5"] = h5_path.read_bytes()
    path = tmp_path / "crafted.keras"
    path.write_bytes(_keras_zip(members))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            load_model(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < os.path.getsize(path) + (64 << 20)


def _edit_config(edit):
    members = _fixture_members()
    cfg = json.loads(members["config.json"])
    edit(cfg)
    members["config.json"] = json.dumps(cfg).encode()
    return members


def _first_dense(cfg):
    return next(e for e in cfg["config"]["layers"] if e["class_name"] == "Dense")


KERAS_CASES = {
    "keras 2 file": lambda: {
        **_fixture_members(),
        "metadata.json": b'{"keras_version": "2.15.0"}',
    },
    "keras 4 file": lambda: {**_fixture_members(), "metadata.json": b'{"keras_version": "4.0.0"}'},
    "invalid keras version": lambda: {
        **_fixture_members(),
        "metadata.json": b'{"keras_version": "x.y"}',
    },
    "missing weights member": lambda: {
        k: v for k, v in _fixture_members().items() if k != "model.weights.h5"
    },
    "unexpected member": lambda: {**_fixture_members(), "payload.pkl": b"\x80\x04."},
    "dotdot member": lambda: {**_fixture_members(), "../escape": b""},
    "config nested 100000 deep": lambda: {
        **_fixture_members(),
        "config.json": b"[" * 100000 + b"]" * 100000,
    },
    "config not json": lambda: {**_fixture_members(), "config.json": b"{nope"},
    "config is a list": lambda: {**_fixture_members(), "config.json": b"[1, 2]"},
    "dense of 10**12 units": lambda: _edit_config(
        lambda c: _first_dense(c)["config"].update(units=10**12)
    ),
    "input of 10**10 elements": lambda: _edit_config(
        lambda c: c["config"]["layers"][0]["config"].update(batch_shape=[None, 10**10])
    ),
    "layers of the wrong type": lambda: _edit_config(lambda c: c["config"].update(layers=7)),
    "module path as class": lambda: _edit_config(
        lambda c: _first_dense(c).update(class_name="os.system")
    ),
    "dtype policy without a name (fuzz finding: KeyError)": lambda: _edit_config(
        lambda c: _first_dense(c)["config"].update(
            dtype={"class_name": "DTypePolicy", "config": {}}
        )
    ),
    "lambda layer in safe mode": lambda: _edit_config(
        lambda c: _first_dense(c).update(
            class_name="Lambda", config={"name": "l", "function": "eval"}
        )
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_CASES))
def test_crafted_keras_file_is_refused(name, tmp_path):
    path = tmp_path / "crafted.keras"
    path.write_bytes(_keras_zip(KERAS_CASES[name]()))
    with pytest.raises(ModelFileError) as info:
        load_model(str(path))
    assert str(path) in str(info.value)


def test_keras_corpus_size():
    assert len(H5_CASES) * 2 + len(KERAS_CASES) >= 45


def test_no_secret_reaches_the_weights_even_when_refusal_is_bypassed(tmp_path):
    """The check runs before any read: with it, the secret file's bytes never appear."""
    path = tmp_path / "w.weights.h5"
    external_storage(tmp_path, path)
    model = _model()
    model.build((None, 4))
    with pytest.raises(ModelFileError, match="external files"):
        load_keras_weights(model, str(path))
    flat = b"".join(w.tobytes() for w in model.get_weights())
    assert SECRET[:16] not in flat


def test_messages_name_the_feature(tmp_path):
    cases = {
        "external_link": "ExternalLink",
        "soft_link": "SoftLink",
        "virtual_dataset": "virtual dataset",
        "fill_value_giant": "declares 536870912 bytes but the file holds 0",
        "beyond_ceiling": "exceeds the loader's limit of 1073741824 bytes per tensor",
        "compression_bomb": "decompression bomb",
        "string_dtype": "non-numeric dtype",
        "shared_dataset": "vars/0' is the same HDF5 object as '/layers/dense",
        "shared_between_variables": "(hard links share it)",
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.weights.h5"
        H5_CASES[name](tmp_path, path)
        err = _check_refused(load_keras_weights, path, name)
        assert text in str(err), (name, str(err))


def test_newer_keras_minor_loads_with_a_warning(tmp_path):
    members = _fixture_members()
    members["metadata.json"] = b'{"keras_version": "3.99.0"}'
    path = tmp_path / "newer.keras"
    path.write_bytes(_keras_zip(members))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(str(path))
    assert any("Keras 3.99.0" in str(w.message) for w in caught)
    data = np.load(os.path.join(HERE, "mlp.npz"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-5)


def test_a_keras_file_whose_layers_share_one_dataset_is_refused(tmp_path):
    """The unsafe hole of hardening round 3: one kernel dataset hard-linked as the kernel
    of every layer passed every per-dataset check and loaded as many copies (a 16 MB
    dataset from 32 layers: 512 MiB). Counted by object, the file is refused before any
    weight is read."""
    model = shendu.Sequential([L.Input((64,))] + [L.Dense(64) for _ in range(8)])
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    weights = tmp_path / "w.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "a") as f:
        names = sorted(k for k in f["layers"] if k.startswith("dense"))
        first = f[f"layers/{names[0]}/vars/0"]
        for name in names[1:]:
            del f[f"layers/{name}/vars/0"]
            f[f"layers/{name}/vars/0"] = first
    members["model.weights.h5"] = weights.read_bytes()
    crafted = tmp_path / "crafted.keras"
    crafted.write_bytes(_keras_zip(members))
    with pytest.raises(ModelFileError, match=r"the same HDF5 object .*hard links share it"):
        load_model(str(crafted))
