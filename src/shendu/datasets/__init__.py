"""Offline data sets: Iris and 8x8 digits ship inside the package; CSV loading."""

from .builtin import load_digits, load_iris, train_test_split
from .tabular import TabularPreprocessor, TargetEncoder, load_csv, read_csv

__all__ = [
    "TabularPreprocessor",
    "TargetEncoder",
    "load_csv",
    "load_digits",
    "load_iris",
    "read_csv",
    "train_test_split",
]
