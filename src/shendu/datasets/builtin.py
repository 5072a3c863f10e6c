"""The data sets shipped in the package (no download, no scikit-learn needed).

- Iris (Fisher, 1936; UCI Machine Learning Repository): 150 flowers, 4 measurements, 3 species.
- Digits (UCI optical recognition of handwritten digits, as in scikit-learn): 1,797 8x8
  images with values 0-16.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def _data_file(name):
    return resources.files("shendu.datasets").joinpath("data", name)


def load_iris():
    """(x, y): x float32 (150, 4) in cm, y int64 (150,) class indices into IRIS_CLASSES."""
    with _data_file("iris.csv.gz").open("rb") as raw, gzip.open(raw, "rt") as f:
        lines = f.read().strip().splitlines()[1:]
    x = np.array([[float(v) for v in line.split(",")[:4]] for line in lines], dtype=np.float32)
    y = np.array([IRIS_CLASSES.index(line.split(",")[4]) for line in lines], dtype=np.int64)
    return x, y


def load_digits():
    """(x, y): x float32 (1797, 8, 8) with values 0-16, y int64 (1797,) digit labels."""
    with _data_file("digits.npz").open("rb") as f, np.load(f) as d:
        return d["images"].astype(np.float32), d["target"].astype(np.int64)


def train_test_split(*arrays, test_size=0.2, seed=None, shuffle=True):
    """Split arrays into train and test parts: returns a_train, a_test, b_train, b_test, ..."""
    if not arrays:
        raise ValueError("train_test_split: expected at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"train_test_split: arrays differ in length: {[len(a) for a in arrays]}")
    if not 0 < test_size < 1:
        raise ValueError(f"train_test_split: `test_size` must be in (0, 1). Received: {test_size}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    n_test = max(1, int(round(n * test_size)))
    test, train = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        a = np.asarray(a)
        out += [a[train], a[test]]
    return out
