"""Offline data sets: Iris and 8x8 digits ship inside the package; CSV loading."""

from .builtin import load_digits, load_iris, train_test_split
from .external import load_breast_cancer, load_co2, load_diabetes, load_sunspots, load_wine
from .idx import load_fashion_mnist, load_mnist, read_idx
from .keras_cache import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from .tabular import TabularPreprocessor, TargetEncoder, load_csv, read_csv, split_target

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
    "TabularPreprocessor",
    "TargetEncoder",
    "load_breast_cancer",
    "load_co2",
    "load_csv",
    "load_diabetes",
    "load_sunspots",
    "load_wine",
    "load_digits",
    "load_fashion_mnist",
    "load_iris",
    "load_mnist",
    "read_csv",
    "split_target",
    "read_idx",
    "train_test_split",
]
