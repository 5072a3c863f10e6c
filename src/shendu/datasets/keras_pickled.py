"""The four ``keras.datasets`` whose files Keras keeps as pickles: CIFAR-10 and CIFAR-100
(pickled batches in an extracted folder) and IMDB and Reuters (``.npz`` files of object
arrays). They are read with ``restricted_pickle`` (arrays, lists, dicts, strings and
numbers only; no global of the file is ever called) under the size rules of ``checked``,
and returned as Keras returns them: the same shuffles, index shifts, OOV handling and
splits (keras/src/datasets/{cifar10,cifar100,imdb,reuters}.py, Keras 3.15).
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from . import restricted_pickle
from .checked import BOMB_RATIO, DataFileError, check_layout, read_npz

#: the largest pickled batch read (CIFAR's are about 30 MB)
MAX_PICKLE_BYTES = 256 << 20
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def _cached(fname, origin, extract=False):
    from ..utils.file_utils import get_file

    return get_file(fname, origin=origin, cache_subdir="datasets", extract=extract)


def _read_pickle(path):
    with open(path, "rb") as f:
        raw = f.read(MAX_PICKLE_BYTES + 1)
    if len(raw) > MAX_PICKLE_BYTES:
        raise DataFileError(f"{path}: over {MAX_PICKLE_BYTES} bytes, more than a data set batch")
    return restricted_pickle.read_pickled(raw, path)


def load_batch(path, label_key="labels"):
    """(data (n, 3, 32, 32) uint8, labels) of one CIFAR batch file."""
    d = _read_pickle(path)
    if not isinstance(d, dict) or not all(isinstance(k, bytes) for k in d):
        raise DataFileError(f"{path}: not a CIFAR batch (a dict of byte-string keys)")
    d = {k.decode("utf-8", "replace"): v for k, v in d.items()}
    data, labels = d.get("data"), d.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DataFileError(f"{path}: 'data' is not a (n, 3072) uint8 array")
    if data.shape[1] != 3 * 32 * 32:
        raise DataFileError(f"{path}: 'data' has shape {data.shape}; CIFAR's is (n, 3072)")
    if not isinstance(labels, list) or len(labels) != len(data):
        raise DataFileError(f"{path}: {label_key!r} does not list one label per image")
    if not all(type(v) is int and 0 <= v < 256 for v in labels):
        raise DataFileError(f"{path}: {label_key!r} holds values other than class numbers")
    return data.reshape(len(data), 3, 32, 32), labels


def _cifar_folder(target, inner, origin):
    """The extracted folder: Keras 3's ``<target>/<inner>``, or Keras 2's ``<inner>``."""
    try:
        return os.path.join(_cached(target, origin, extract=True), inner)
    except FileNotFoundError as first:
        try:
            return _cached(inner, origin, extract=True)
        except FileNotFoundError:
            raise first from None


def _channels(x):
    from ..backend import image_data_format

    return x.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else x


def cifar10_load_data():
    """((x_train, y_train), (x_test, y_test)): uint8 (50000, 32, 32, 3), labels (50000, 1)."""
    folder = _cifar_folder(
        "cifar-10-batches-py-target",
        "cifar-10-batches-py",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    )
    parts = [load_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([np.asarray(y, np.uint8) for _, y in parts])
    x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    y_train = y_train.reshape(-1, 1)
    y_test = np.asarray(y_test, np.uint8).reshape(-1, 1)
    return (_channels(x_train), y_train), (_channels(x_test), y_test)


def cifar100_load_data(label_mode="fine"):
    """CIFAR-100 with ``label_mode`` "fine" (100 classes) or "coarse" (20)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of "fine", "coarse". Received: label_mode={label_mode}.'
        )
    folder = _cifar_folder(
        "cifar-100-python-target",
        "cifar-100-python",
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    )
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(folder, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(folder, "test"), label_key=key)
    y_train = np.asarray(y_train).reshape(-1, 1)
    y_test = np.asarray(y_test).reshape(-1, 1)
    return (_channels(x_train), y_train), (_channels(x_test), y_test)


def read_sequences_npz(path, keys):
    """The arrays ``keys`` of an ``.npz`` file whose sequences are object arrays (IMDB,
    Reuters): numeric members as ``read_npz`` reads them, object members through
    ``restricted_pickle``, every member's size checked first."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for key in keys:
                info = zf.getinfo(f"{key}.npy") if f"{key}.npy" in zf.namelist() else None
                if info is None:
                    raise DataFileError(f"{path}: no array {key!r}")
                _check_member_size(info, path, key)
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = header(f, max_header_size=10000)
                    if not dtype.hasobject:
                        continue
                    value = restricted_pickle.read_pickled(f.read(), f"{path} ({key})")
                if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
                    raise DataFileError(f"{path}: array {key!r} is not the {shape} it declares")
                out[key] = value
    except DataFileError:
        raise
    except Exception as err:  # noqa: BLE001 (zipfile, zlib and NumPy: any is a damaged file)
        raise DataFileError(
            f"{path}: not a readable .npz file ({type(err).__name__}: {err})"
        ) from None
    numeric = [k for k in keys if k not in out]
    out.update(zip(numeric, read_npz(path, numeric)) if numeric else ())
    for key, value in out.items():
        if value.dtype == object and not all(_is_sequence(s) for s in value.reshape(-1)):
            raise DataFileError(f"{path}: {key!r} holds items other than lists of word indices")
    return [out[k] for k in keys]


def _check_member_size(info, path, key):
    if info.file_size > MAX_PICKLE_BYTES:
        raise DataFileError(f"{path}: array {key!r} holds {info.file_size} bytes, over the limit")
    compressed = info.compress_type != zipfile.ZIP_STORED
    if compressed and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        raise DataFileError(
            f"{path}: array {key!r} expands {info.compress_size} stored bytes to "
            f"{info.file_size} (a decompression bomb)"
        )


def _is_sequence(s):
    return isinstance(s, list) and all(type(w) is int for w in s)


def _shuffled(rng, x, y):
    """``x`` and ``y`` in one order drawn from ``rng`` (Keras's RandomState shuffle)."""
    indices = np.arange(len(x))
    rng.shuffle(indices)
    return x[indices], y[indices]


def _remove_long_seq(maxlen, seq, label):
    pairs = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in pairs], [y for _, y in pairs]


def _index(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def _shift(xs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def imdb_load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    **kwargs,
):
    """IMDB reviews as lists of word indices, shuffled, shifted and cut as Keras does."""
    file = _cached(path, f"{_ORIGIN}imdb.npz")
    keys = ["x_train", "y_train", "x_test", "y_test"]
    x_train, labels_train, x_test, labels_test = read_sequences_npz(file, keys)
    check_layout(
        file,
        {"x_train": x_train, "y_train": labels_train, "x_test": x_test, "y_test": labels_test},
        {"x_train": (), "y_train": (), "x_test": (), "y_test": ()},
        [("x_train", "y_train"), ("x_test", "y_test")],
    )
    rng = np.random.RandomState(seed)
    x_train, labels_train = _shuffled(rng, x_train, labels_train)
    x_test, labels_test = _shuffled(rng, x_test, labels_test)
    x_train = _shift(x_train, start_char, index_from)
    x_test = _shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )
    xs = _index(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return (
        (np.array(xs[:idx], dtype="object"), labels[:idx]),
        (np.array(xs[idx:], dtype="object"), labels[idx:]),
    )


def reuters_load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """Reuters newswires as lists of word indices with topic labels, split as Keras does."""
    file = _cached(path, f"{_ORIGIN}reuters.npz")
    xs, labels = read_sequences_npz(file, ["x", "y"])
    check_layout(file, {"x": xs, "y": labels}, {"x": (), "y": ()}, [("x", "y")])
    xs, labels = _shuffled(np.random.RandomState(seed), xs, labels)
    xs = _shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _remove_long_seq(maxlen, xs, labels)
    xs = _index(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return (
        (np.array(xs[:idx], dtype="object"), np.array(labels[:idx])),
        (np.array(xs[idx:], dtype="object"), np.array(labels[idx:])),
    )
