"""``keras.datasets``: each module's ``load_data()`` reads Keras's own file from Keras's
cache folder (``~/.keras/datasets``, or ``$KERAS_HOME/datasets``) with Keras's arguments
and return shapes. shendu never downloads: a missing file raises an error naming it and
where to put it. The files Keras keeps as Python pickles (CIFAR-10/100, IMDB, Reuters)
are read by ``keras_pickled`` with a restricted reader that calls nothing of the file.
"""

from __future__ import annotations

import os
import types

import numpy as np

from . import keras_pickled
from .checked import DataFileError, check_layout, read_idx, read_npz

_MAX_WORD_INDEX = 64 << 20

_MNIST = {"x_train": (28, 28), "y_train": (), "x_test": (28, 28), "y_test": ()}
_MNIST_PAIRS = (("x_train", "y_train"), ("x_test", "y_test"))


def _cached(fname, origin):
    from ..utils.file_utils import get_file

    return get_file(fname, origin=origin, cache_subdir="datasets")


def _checked_npz(path, layout, pairs=()):
    """The arrays of ``layout`` from a cached ``.npz`` file, sizes and shapes checked."""
    arrays = dict(zip(layout, read_npz(path, list(layout))))
    check_layout(path, arrays, layout, pairs)
    return [arrays[k] for k in layout]


def _mnist_load_data(path="mnist.npz"):
    """((x_train, y_train), (x_test, y_test)) of MNIST: uint8 (60000, 28, 28), labels."""
    file = _cached(path, "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz")
    x_train, y_train, x_test, y_test = _checked_npz(file, _MNIST, _MNIST_PAIRS)
    return (x_train, y_train), (x_test, y_test)


def _fashion_mnist_load_data():
    """Fashion-MNIST from Keras's cache folder ``fashion-mnist`` (four gzipped IDX files)."""
    names = [
        "train-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
    ]
    origin = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    files = [_cached(os.path.join("fashion-mnist", n), origin + n) for n in names]
    y_train, x_train, y_test, x_test = (read_idx(f) for f in files)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    check_layout(os.path.dirname(files[0]), arrays, _MNIST, _MNIST_PAIRS)
    return (x_train, y_train), (x_test, y_test)


def _split(x, y, test_split, seed):
    """Keras's shuffle (a seeded RandomState permutation) and split."""
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))


def _boston_housing_load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Boston housing prices: x (506, 13), y (506,), shuffled and split as Keras does."""
    file = _cached(
        path, "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
    )
    x, y = _checked_npz(file, {"x": (13,), "y": ()}, [("x", "y")])
    return _split(x, y, test_split, seed)


def _california_housing_load_data(
    version="large", path="california_housing.npz", test_split=0.2, seed=113
):
    """California housing: x (20640, 8), y (20640,); ``version="small"`` keeps the first
    600 samples, as Keras does."""
    if version not in ("small", "large"):
        raise ValueError(f"`version` must be 'small' or 'large'. Received: version={version!r}")
    file = _cached(
        path, "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
    )
    x, y = _checked_npz(file, {"x": (8,), "y": ()}, [("x", "y")])
    if version == "small":
        x, y = x[:600], y[:600]
    return _split(x, y, test_split, seed)


def _word_index(name):
    def get_word_index(path=f"{name}_word_index.json"):
        """The word -> index dict of the data set (a JSON file in Keras's cache), read
        under the loader's rules: at most 64 MiB, nesting bounded, words to integers."""
        from ..saving.checks import ModelFileError, parse_json

        origin = f"https://storage.googleapis.com/tensorflow/tf-keras-datasets/{path}"
        file = _cached(path, origin)
        with open(file, "rb") as f:
            raw = f.read(_MAX_WORD_INDEX + 1)
        if len(raw) > _MAX_WORD_INDEX:
            raise DataFileError(f"{file}: a word index over {_MAX_WORD_INDEX} bytes")
        try:
            index = parse_json(raw, file, what="the word index")
        except ModelFileError as err:
            raise DataFileError(str(err)) from None
        if not isinstance(index, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in index.items()
        ):
            raise DataFileError(f"{file}: a word index maps words to integers")
        return index

    return get_word_index


def _module(name, load_data, **extra):
    module = types.ModuleType(f"shendu.datasets.{name}", f"keras.datasets.{name}")
    setattr(module, "load_data", load_data)  # noqa: B010  (a module made at run time)
    for key, value in extra.items():
        setattr(module, key, value)
    return module


mnist = _module("mnist", _mnist_load_data)
fashion_mnist = _module("fashion_mnist", _fashion_mnist_load_data)
boston_housing = _module("boston_housing", _boston_housing_load_data)
california_housing = _module("california_housing", _california_housing_load_data)
cifar10 = _module("cifar10", keras_pickled.cifar10_load_data)
cifar100 = _module("cifar100", keras_pickled.cifar100_load_data)
imdb = _module("imdb", keras_pickled.imdb_load_data, get_word_index=_word_index("imdb"))
reuters = _module(
    "reuters", keras_pickled.reuters_load_data, get_word_index=_word_index("reuters")
)
