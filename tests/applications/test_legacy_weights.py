"""Keras 2's HDF5 weights files (the format of Keras's ImageNet weights): layers with
weights matched in order, shapes checked, nothing changed on a bad file."""

import numpy as np
import pytest

import shendu as keras

h5py = pytest.importorskip("h5py")


def write_legacy(path, layer_names, weights_of):
    """A Keras 2 weights file: root attr layer_names, per layer attr weight_names and the
    datasets under those names (as Keras's save_weights_to_hdf5_group writes them)."""
    with h5py.File(path, "w") as f:
        # np.asarray, as Keras 2's save_attributes_to_hdf5_group: fixed-length byte strings
        f.attrs["layer_names"] = np.asarray([n.encode() for n in layer_names])
        f.attrs["backend"] = b"tensorflow"
        for name in layer_names:
            group = f.create_group(name)
            arrays = weights_of(name)
            names = [f"{name}/w{i}:0" for i in range(len(arrays))]
            group.attrs["weight_names"] = np.asarray([n.encode() for n in names])
            for n, a in zip(names, arrays):
                group.create_dataset(n, data=a)


def _model():
    return keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, weights=None, include_top=False, pooling="avg"
    )


def test_a_legacy_file_loads_by_layer_order(tmp_path):
    source, target = _model(), _model()
    rng = np.random.default_rng(0)
    for w in source.weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.1 + 1.0)
    by_name = {layer.name: [w.numpy() for w in layer.weights] for layer in source.layers}
    names = [layer.name for layer in source.layers]  # weightless layers listed too
    path = tmp_path / "mobilenet_legacy.h5"
    write_legacy(path, names, lambda n: by_name[n])
    loaded = keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, weights=str(path), include_top=False, pooling="avg"
    )
    for a, b in zip(source.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).random((2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), source.predict(x, verbose=0))
    target.load_weights(str(path))
    np.testing.assert_array_equal(target.get_weights()[0], source.get_weights()[0])


def test_bad_legacy_files_change_nothing(tmp_path):
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    weighted = [layer for layer in model.layers if layer.weights]
    shapes = {layer.name: [w.shape for w in layer.weights] for layer in weighted}
    short = tmp_path / "short.h5"
    write_legacy(
        short,
        [layer.name for layer in weighted[:-1]],
        lambda n: [np.zeros(s, np.float32) for s in shapes[n]],
    )
    with pytest.raises(keras.saving.ModelFileError, match="weights for .* layers; the model has"):
        model.load_weights(str(short))
    wrong = tmp_path / "wrong.h5"
    first = weighted[0].name
    write_legacy(
        wrong,
        [layer.name for layer in weighted],
        lambda n: [np.zeros((1,) + tuple(s) if n == first else s, np.float32) for s in shapes[n]],
    )
    with pytest.raises(keras.saving.ModelFileError, match="expected shape"):
        model.load_weights(str(wrong))
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(keras.saving.ModelFileError, match="no 'layer_names'"):
        model.load_weights(str(plain))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_legacy_file_listing_more_layers_than_it_holds_is_refused_at_once(tmp_path):
    """150,000 layer names over a file of a few groups took 16-39 s to refuse; the counts
    are compared before a name is read."""
    import time

    model = _model()
    path = tmp_path / "many.h5"
    with h5py.File(path, "w", libver="latest") as f:  # dense attributes: a large list
        f.create_group("conv1")
        f.attrs["layer_names"] = np.array([b"conv1"] * 150_000)
    t0 = time.monotonic()
    with pytest.raises(keras.saving.ModelFileError, match="lists 150000 names; at most 1"):
        model.load_weights(str(path))
    assert time.monotonic() - t0 < 5
    repeated = tmp_path / "repeated.h5"
    with h5py.File(repeated, "w") as f:
        for name in ("a", "b"):
            f.create_group(name)
        f.attrs["layer_names"] = np.array([b"a", b"a"])
    with pytest.raises(keras.saving.ModelFileError, match="lists a name twice"):
        model.load_weights(str(repeated))


def test_variable_length_names_are_refused_before_they_are_read(tmp_path):
    """Found by fuzzing: a damaged variable-length string attribute stalled HDF5 for
    minutes; Keras 2 writes fixed-length names, so nothing else is read."""
    model = _model()
    path = tmp_path / "vlen.h5"
    with h5py.File(path, "w") as f:
        f.create_group("conv1")
        f.attrs["layer_names"] = [b"conv1"]  # a list: h5py stores variable-length strings
    with pytest.raises(keras.saving.ModelFileError, match="Keras writes fixed-length names"):
        model.load_weights(str(path))
