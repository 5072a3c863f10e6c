"""MNIST-style data from local files: IDX (optionally gzipped) or ``.npz``. Never downloads."""

from __future__ import annotations

import os

from .checked import read_idx, read_npz

__all__ = ["load_fashion_mnist", "load_mnist", "read_idx"]


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
        x_train, y_train, x_test, y_test = read_npz(
            path, ["x_train", "y_train", "x_test", "y_test"]
        )
        return (x_train, y_train), (x_test, y_test)
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
