"""MNIST-style data from local files: IDX (optionally gzipped) or ``.npz``. Never downloads."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

_IDX_TYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """An IDX file (the MNIST format) as a NumPy array; ``.gz`` files are decompressed."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    kind, ndim = data[2], data[3]
    if kind not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{kind:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_TYPES[kind])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: IDX data holds {len(data) - header} bytes; dimensions {dims} need {expected}"
        )
    return (
        np.frombuffer(data, dtype=dtype, offset=header)
        .reshape(dims)
        .astype(dtype.newbyteorder("="))
    )


def _find(folder, stem):
    for suffix in ("", ".gz"):
        for name in (stem, stem.replace("-idx", ".idx")):
            p = os.path.join(folder, name + suffix)
            if os.path.exists(p):
                return p
    raise FileNotFoundError(
        f"{stem}[.gz] not found in {folder}: download the files yourself and pass their folder "
        "(shendu never downloads)"
    )


def load_mnist(path):
    """((x_train, y_train), (x_test, y_test)) from a folder of the four IDX files or an
    ``mnist.npz`` file (Keras's layout: x_train, y_train, x_test, y_test)."""
    path = os.fspath(path)
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as d:
            return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])
    return (
        (
            read_idx(_find(path, "train-images-idx3-ubyte")),
            read_idx(_find(path, "train-labels-idx1-ubyte")),
        ),
        (
            read_idx(_find(path, "t10k-images-idx3-ubyte")),
            read_idx(_find(path, "t10k-labels-idx1-ubyte")),
        ),
    )


def load_fashion_mnist(path):
    """Fashion-MNIST: the same files and layout as MNIST."""
    return load_mnist(path)
