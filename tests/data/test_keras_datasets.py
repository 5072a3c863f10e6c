"""keras.datasets: load_data() reads Keras's own files from Keras's cache folder (small
files written here in Keras's formats), splits as Keras does, never downloads, and
refuses the pickled sets."""

import gzip
import json
import struct

import numpy as np
import pytest

import shendu as keras


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


def _idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_and_fashion_mnist(cache):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 255, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 255, (2, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    np.savez(cache / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert x_test.shape == (2, 28, 28) and y_test.dtype == np.uint8
    fashion = cache / "fashion-mnist"
    fashion.mkdir()
    _idx(fashion / "train-images-idx3-ubyte.gz", arrays["x_train"])
    _idx(fashion / "train-labels-idx1-ubyte.gz", arrays["y_train"])
    _idx(fashion / "t10k-images-idx3-ubyte.gz", arrays["x_test"])
    _idx(fashion / "t10k-labels-idx1-ubyte.gz", arrays["y_test"])
    (fx, fy), _ = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(fx, arrays["x_train"])
    np.testing.assert_array_equal(fy, arrays["y_train"])


def test_housing_sets_shuffle_and_split_as_keras(cache):
    x = np.arange(25 * 13, dtype=np.float64).reshape(25, 13)  # Boston's 13 features
    y = np.arange(25, dtype=np.float64)
    np.savez(cache / "boston_housing.npz", x=x, y=y)
    (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data(test_split=0.2)
    order = np.arange(25)
    np.random.RandomState(113).shuffle(order)  # Keras's shuffle
    np.testing.assert_array_equal(y_train, y[order][:20])
    np.testing.assert_array_equal(x_test, x[order][20:])
    np.savez(cache / "california_housing.npz", x=np.zeros((700, 8)), y=np.zeros(700))
    (small_x, _), (small_test, _) = keras.datasets.california_housing.load_data(version="small")
    assert len(small_x) + len(small_test) == 600
    with pytest.raises(ValueError, match="`version` must be 'small' or 'large'"):
        keras.datasets.california_housing.load_data(version="medium")


def test_missing_files_say_where_to_put_them(cache):
    with pytest.raises(FileNotFoundError, match="shendu never downloads.*mnist.npz"):
        keras.datasets.mnist.load_data()


def test_the_pickled_sets_say_where_their_files_go(cache):
    for name in ("cifar10", "cifar100", "imdb", "reuters"):
        with pytest.raises(FileNotFoundError, match="shendu never downloads"):
            getattr(keras.datasets, name).load_data()


def test_object_arrays_are_never_unpickled(cache):
    np.savez(cache / "boston_housing.npz", x=np.array([[1], "a"], dtype=object), y=np.zeros(2))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        keras.datasets.boston_housing.load_data()


def test_word_index_reads_json(cache):
    (cache / "imdb_word_index.json").write_text(json.dumps({"the": 1, "movie": 2}))
    assert keras.datasets.imdb.get_word_index() == {"the": 1, "movie": 2}
