"""Crafted and damaged data set files (hardening round 3): every size an ``.npz`` or IDX
file declares is checked against the bytes it holds and a ceiling before anything is
allocated, gzip is read no further than the header declares, and the shapes must be the
data set's. Each file is refused with ``DataFileError`` naming the file, at a peak memory
near the file's size."""

import gzip
import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import shendu as keras
from shendu.datasets import read_idx
from shendu.datasets.checked import DataFileError, read_npz


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


def _npy_bytes(shape, dtype="uint8", data=b""):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + data


def _npz(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, raw in members.items():
            zf.writestr(f"{name}.npy", raw)


def _mnist_members(**override):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 255, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 255, (2, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    arrays.update(override)
    out = {}
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        out[name] = buf.getvalue()
    return out


def _refused(load, match, path_size):
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=match) as info:
            load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < path_size + (16 << 20), f"peak {peak} bytes"
    return info.value


def test_a_tiny_npz_declaring_a_trillion_elements_is_refused_before_allocating(cache):
    members = _mnist_members()
    members["x_train"] = _npy_bytes((10**6, 10**3, 10**3), data=b"\0" * 64)
    _npz(cache / "mnist.npz", members)
    err = _refused(keras.datasets.mnist.load_data, r"over the limit of \d+ bytes per array", 1)
    assert "mnist.npz" in str(err) and "x_train" in str(err)


def test_a_compressed_member_that_expands_into_zeros_is_refused(cache):
    members = _mnist_members(x_train=np.zeros((40000, 28, 28), np.uint8))  # 31 MB of zeros
    _npz(cache / "mnist.npz", members, zipfile.ZIP_DEFLATED)
    size = (cache / "mnist.npz").stat().st_size
    assert size < 200_000
    _refused(keras.datasets.mnist.load_data, "a decompression bomb", size)


def test_a_member_declaring_more_than_it_holds_is_refused(cache):
    members = _mnist_members()
    members["x_train"] = _npy_bytes((6, 28, 28), data=b"\1" * 100)
    _npz(cache / "mnist.npz", members)
    _refused(keras.datasets.mnist.load_data, r"declares shape \(6, 28, 28\) \(4704 bytes\)", 1)


@pytest.mark.parametrize(
    "override, match",
    [
        (
            {"x_train": np.zeros((6, 28), np.uint8)},
            r"x_train has shape \(6, 28\); .* \(n, 28, 28\)",
        ),
        ({"y_train": np.zeros(5, np.uint8)}, "x_train holds 6 samples and y_train 5"),
    ],
)
def test_wrong_shapes_and_mismatched_lengths_are_refused(cache, override, match):
    _npz(cache / "mnist.npz", _mnist_members(**override))
    with pytest.raises(DataFileError, match=match):
        keras.datasets.mnist.load_data()


def test_a_damaged_cache_file_names_its_path(cache):
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFileError, match=r"mnist.npz: not a readable .npz file"):
        keras.datasets.mnist.load_data()


def test_boston_housing_with_other_features_is_refused(cache):
    np.savez(cache / "boston_housing.npz", x=np.zeros((5, 2)), y=np.zeros(5))
    with pytest.raises(DataFileError, match=r"x has shape \(5, 2\); this data set's is \(n, 13\)"):
        keras.datasets.boston_housing.load_data()


def test_a_gzip_idx_bomb_is_read_no_further_than_its_header(tmp_path):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 0x08, 1, 4) + b"\1\2\3\4")
        f.write(b"\0" * (64 << 20))  # 64 MiB of zeros past the declared 4 bytes
    size = path.stat().st_size
    assert size < 200_000
    _refused(lambda: read_idx(path), "holds more than 4 bytes", size)


def test_an_idx_header_over_the_ceiling_is_refused_before_reading(tmp_path):
    path = tmp_path / "giant-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 60000, 40000, 40000) + b"\0" * 16)
    _refused(lambda: read_idx(path), "over the limit", path.stat().st_size)


def test_read_npz_refuses_object_members(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(DataFileError, match="allow_pickle=False"):
        read_npz(path, ["a"])


def test_a_deeply_nested_word_index_is_refused_with_its_path(cache):
    (cache / "imdb_word_index.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataFileError, match=r"imdb_word_index.json: the word index is nested"):
        keras.datasets.imdb.get_word_index()
    (cache / "imdb_word_index.json").write_text('{"the": "one"}')
    with pytest.raises(DataFileError, match="maps words to integers"):
        keras.datasets.imdb.get_word_index()
