"""Dataset pipelines, time-series windows, IDX/npz MNIST loaders (on small files written
here) and the text tokenizer."""

import gzip
import struct

import numpy as np
import pytest

import shendu
from shendu import layers as L
from shendu.data import Dataset, timeseries_windows
from shendu.datasets import load_mnist, read_idx
from shendu.preprocessing import Tokenizer, pad_sequences


def test_dataset_batches_shuffles_maps_and_feeds_fit():
    x = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(seed=1).batch(4)
    assert len(ds) == 3
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in batches]).tolist()) == list(range(10))
    assert [b[1].tolist() for b in batches] != [b[1].tolist() for b in ds]  # new order
    doubled = list(Dataset.from_tensor_slices((x, y)).batch(5).map(lambda a, b: (a * 2, b)))
    np.testing.assert_array_equal(doubled[0][0].ravel(), [0, 2, 4, 6, 8])
    m = shendu.Sequential([L.Input((1,)), L.Dense(2, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    h = m.fit(Dataset.from_tensor_slices((x, y % 2)).shuffle(seed=0).batch(4), epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    with pytest.raises(ValueError, match="all arrays need the same number of samples"):
        Dataset.from_tensor_slices((x, y[:5]))


def test_timeseries_windows():
    x, y = timeseries_windows(np.arange(10), window=3, horizon=2)
    np.testing.assert_array_equal(x[0], [0, 1, 2])
    assert y[0] == 4 and len(x) == 6
    with pytest.raises(ValueError, match="too short"):
        timeseries_windows(np.arange(3), window=3)


def _write_idx(path, array, gz=False):
    kinds = {np.uint8: 0x08}
    header = bytes([0, 0, kinds[array.dtype.type], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data = header + array.tobytes()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def test_mnist_idx_and_npz_loaders(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5).astype(np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, gz=True)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, gz=True)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs[:2])
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:2])
    (xtr, ytr), (xte, yte) = load_mnist(tmp_path)
    np.testing.assert_array_equal(xtr, imgs)
    np.testing.assert_array_equal(yte, labels[:2])
    np.savez(tmp_path / "mnist.npz", x_train=imgs, y_train=labels, x_test=imgs, y_test=labels)
    (a, _), _ = load_mnist(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(a, imgs)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    with pytest.raises(FileNotFoundError, match="shendu never downloads"):
        load_mnist(tmp_path / "nowhere")


def test_tokenizer_and_padding():
    tok = Tokenizer(num_words=5).fit_on_texts(["the cat sat", "the dog sat down", "The end"])
    assert tok.word_index["the"] == 2 and tok.word_index["sat"] == 3
    seqs = tok.texts_to_sequences(["the cat ran"])
    assert seqs == [[2, tok.word_index.get("cat", 1), 1]]
    np.testing.assert_array_equal(pad_sequences([[1, 2], [3]], maxlen=3), [[0, 1, 2], [0, 0, 3]])
