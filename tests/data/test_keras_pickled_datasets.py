"""cifar10, cifar100, imdb and reuters from Keras's cached files (pickles, and ``.npz``
files of object arrays), read with shendu's restricted reader: what Keras returns (the
figures below were measured with Keras 3.15 on the same files), and crafted files that
try to reach other globals, declare more than they hold, or hold other things, refused
with ``DataFileError`` before anything of theirs runs."""

import os
import pickle
import tracemalloc

import numpy as np
import pytest

import shendu as keras
from shendu.datasets import restricted_pickle
from shendu.datasets.checked import DataFileError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


def _batch(path, n, seed, protocol=2, label_keys=("labels",)):
    rng = np.random.default_rng(seed)
    d = {b"batch_label": b"batch", b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8)}
    for key in label_keys:
        d[key.encode()] = rng.integers(0, 10, n).tolist()
    path.write_bytes(pickle.dumps(d, protocol=protocol))
    return d


def test_cifar10_reads_keras_3s_extracted_folder(cache):
    folder = cache / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = [_batch(folder / f"data_batch_{i}", 3, i, protocol=2 + i % 2) for i in range(1, 6)]
    test = _batch(folder / "test_batch", 2, 9)
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8
    first = batches[0][b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(x_train[0], first)
    np.testing.assert_array_equal(y_train[:3, 0], batches[0][b"labels"])
    np.testing.assert_array_equal(y_test[:, 0], test[b"labels"])
    assert x_test.shape == (2, 32, 32, 3)


def test_cifar100_label_modes(cache):
    folder = cache / "cifar-100-python"  # Keras 2's layout is found too
    folder.mkdir()
    keys = ("fine_labels", "coarse_labels")
    train = _batch(folder / "train", 4, 1, label_keys=keys)
    _batch(folder / "test", 2, 2, label_keys=keys)
    (_, y_fine), _ = keras.datasets.cifar100.load_data()
    (_, y_coarse), _ = keras.datasets.cifar100.load_data(label_mode="coarse")
    np.testing.assert_array_equal(y_fine[:, 0], train[b"fine_labels"])
    np.testing.assert_array_equal(y_coarse[:, 0], train[b"coarse_labels"])
    with pytest.raises(ValueError, match="`label_mode` must be one of"):
        keras.datasets.cifar100.load_data(label_mode="medium")


def _sequences(rng, n):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = rng.integers(1, 30, rng.integers(2, 9)).tolist()
    return out


@pytest.fixture
def text_files(cache):
    rng = np.random.default_rng(0)
    np.savez(
        cache / "imdb.npz",
        x_train=_sequences(rng, 12),
        y_train=rng.integers(0, 2, 12),
        x_test=_sequences(rng, 7),
        y_test=rng.integers(0, 2, 7),
    )
    np.savez(cache / "reuters.npz", x=_sequences(rng, 15), y=rng.integers(0, 5, 15))
    return cache


def test_imdb_as_keras_returns_it(text_files):
    (x_train, y_train), (x_test, _) = keras.datasets.imdb.load_data()
    assert x_train.dtype == object and len(x_train) == 12 and len(x_test) == 7
    assert x_train[0] == [1, 28, 20, 4, 26] and x_train[1] == [1, 31, 12, 27, 23, 4]
    assert list(y_train[:4]) == [0, 1, 1, 0] and x_test[0] == [1, 23, 13]
    (x_train, _), (x_test, _) = keras.datasets.imdb.load_data(num_words=20, skip_top=2, maxlen=7)
    assert len(x_train) == 7 and len(x_test) == 5
    assert x_train[0] == [2, 2, 2, 4, 2] and x_test[0] == [2, 2, 13]


def test_reuters_as_keras_returns_it(text_files):
    (x_train, y_train), (x_test, _) = keras.datasets.reuters.load_data(test_split=0.3)
    assert len(x_train) == 10 and len(x_test) == 5
    assert x_train[0] == [1, 2, 30, 23, 2, 29, 4, 7] and list(y_train[:4]) == [1, 0, 4, 3]
    (x_train, _), _ = keras.datasets.reuters.load_data(
        test_split=0.3, num_words=15, start_char=None, oov_char=None, index_from=0
    )
    assert x_train[0] == [1, 4] and x_train[1] == [11, 1, 14]


class _Gadget:
    """A pickle that calls a function of its choosing when loaded."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


@pytest.mark.parametrize(
    "payload, name",
    [
        (_Gadget(eval, "1 + 1"), "(__builtin__|builtins).eval"),
        (_Gadget(print, "reached"), "(__builtin__|builtins).print"),
        (_Gadget(np.zeros, (10**12,)), "numpy"),
        ({b"data": _Gadget(os.system, "echo reached")}, "(posix|os|nt).system"),
    ],
)
def test_pickles_reaching_other_globals_are_refused(payload, name, capsys):
    raw = pickle.dumps(payload, protocol=2)
    with pytest.raises(DataFileError, match=rf"refused the pickle's global {name}"):
        restricted_pickle.read_pickled(raw, "crafted")
    assert "reached" not in capsys.readouterr().out


class _ArrayClaiming:
    """Pickles as a NumPy array whose state declares ``shape`` over 4 bytes of data."""

    def __init__(self, shape):
        self.shape = shape

    def __reduce__(self):
        fn, args, state = np.zeros(4, np.uint8).__reduce__()
        return fn, args, (state[0], self.shape, *state[2:])


@pytest.mark.parametrize("shape, match", [((10**12,), "over the limit"), ((8,), "holds 4")])
def test_an_array_declaring_more_than_its_data_is_refused_before_allocating(shape, match):
    crafted = pickle.dumps(_ArrayClaiming(shape), protocol=2)
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=match):
            restricted_pickle.read_pickled(crafted, "crafted")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_object_arrays_of_other_things_and_other_batches_are_refused(cache, tmp_path):
    items = np.empty(2, dtype=object)
    items[0], items[1] = [1, 2], {"not": "a sequence"}
    np.savez(cache / "reuters.npz", x=items, y=np.zeros(2, np.int64))
    with pytest.raises(DataFileError, match="other than lists of word indices"):
        keras.datasets.reuters.load_data()
    folder = cache / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DataFileError, match="not a CIFAR batch"):
        keras.datasets.cifar10.load_data()


def test_a_truncated_pickle_names_the_file(tmp_path):
    raw = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}, protocol=2)
    with pytest.raises(DataFileError, match="batch_x: not a readable data set pickle"):
        restricted_pickle.read_pickled(raw[: len(raw) // 2], "batch_x")


def test_a_pickle_naming_far_more_than_it_holds_is_refused_quickly():
    """Found by fuzzing: BYTEARRAY8 declaring 18 GB in a 2 KB file (the pure-Python reader
    allocates the declared length first), a memo index of a billion (the C reader allocates
    a table that large), and a tuple nested in itself 60 times (2**60 leaves)."""
    import struct
    import time

    bytearray8 = b"\x80\x05\x96" + struct.pack("<Q", 18 << 30) + b"abc."
    memo = b"\x80\x02K\x01r" + struct.pack("<I", 1_265_918_837) + b"."
    laughs = b"\x80\x02K\x01" + b"q\x00h\x00h\x00\x86" * 60 + b"."
    t0 = time.monotonic()
    with pytest.raises(DataFileError, match="a byte array of 19327352832 bytes"):
        restricted_pickle.read_pickled(bytearray8, "bytearray8")
    assert restricted_pickle.read_pickled(memo, "memo") == 1  # a dict memo: nothing allocated
    value = restricted_pickle.read_pickled(laughs, "laughs")
    assert isinstance(value, tuple) and value[0] is value[1]  # shared, as in the file
    assert time.monotonic() - t0 < 2
