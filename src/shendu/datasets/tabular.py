"""CSV files to arrays: the preprocessing of ``shendu train`` and ``load_csv``.

Numeric columns are standardised ((x - mean) / std); string columns are one-hot
encoded; missing values (empty, NA, NaN, ?, null) are imputed with the median
(numeric) or the most frequent value (strings). The fitted preprocessing is a
plain JSON-able config, so it travels inside a saved model.
"""

from __future__ import annotations

import csv
import io
import math
import os

import numpy as np

MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


def read_csv(path):
    """(header, rows) of a CSV file; raises a ValueError for an empty file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"The CSV file {path!r} is empty: expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    data = rows[1:]
    if not data:
        raise ValueError(f"The CSV file {path!r} has a header but no data rows")
    for i, r in enumerate(data):
        if len(r) != len(header):
            raise ValueError(
                f"{path}: row {i + 2} has {len(r)} fields, but the header has {len(header)}"
            )
    return header, data


def _is_missing(v):
    return v.strip().lower() in MISSING


def _as_float(v):
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


class TabularPreprocessor:
    """Fit on columns of strings; transform to a float32 feature matrix.

    Attributes after ``fit``: ``columns`` (name, kind, statistics), ``n_features``,
    ``missing_counts`` (per column, in the fitted data).
    """

    def __init__(self, columns=None):
        self.columns = columns or []

    @property
    def n_features(self):
        return sum(1 if c["kind"] == "numeric" else len(c["categories"]) for c in self.columns)

    @property
    def feature_names(self):
        names = []
        for c in self.columns:
            if c["kind"] == "numeric":
                names.append(c["name"])
            else:
                names.extend(f"{c['name']}={v}" for v in c["categories"])
        return names

    def fit(self, header, rows):
        self.columns = []
        self.missing_counts = {}
        for j, name in enumerate(header):
            values = [r[j] for r in rows]
            present = [v.strip() for v in values if not _is_missing(v)]
            self.missing_counts[name] = len(values) - len(present)
            if not present:
                raise ValueError(f"Column {name!r} has no values (every entry is missing)")
            floats = [_as_float(v) for v in present]
            if all(f is not None for f in floats):
                arr = np.array(floats)
                std = float(arr.std())
                self.columns.append(
                    {
                        "name": name,
                        "kind": "numeric",
                        "median": float(np.median(arr)),
                        "mean": float(arr.mean()),
                        "std": std if std > 0 else 1.0,
                    }
                )
            else:
                cats, counts = np.unique(np.array(present, dtype=str), return_counts=True)
                self.columns.append(
                    {
                        "name": name,
                        "kind": "categorical",
                        "categories": cats.tolist(),
                        "most_frequent": str(cats[np.argmax(counts)]),
                    }
                )
        return self

    def transform(self, header, rows):
        index = {h: i for i, h in enumerate(header)}
        missing_cols = [c["name"] for c in self.columns if c["name"] not in index]
        if missing_cols:
            raise ValueError(
                f"The data is missing columns the model was trained on: {missing_cols}"
            )
        blocks = []
        for c in self.columns:
            j = index[c["name"]]
            if c["kind"] == "numeric":
                col = np.empty(len(rows), dtype=np.float64)
                for i, r in enumerate(rows):
                    v = r[j]
                    f = None if _is_missing(v) else _as_float(v)
                    if f is None and not _is_missing(v):
                        raise ValueError(
                            f"Column {c['name']!r} is numeric, but row {i + 2} holds {v!r}"
                        )
                    col[i] = c["median"] if f is None else f
                blocks.append(((col - c["mean"]) / c["std"])[:, None])
            else:
                cats = {v: k for k, v in enumerate(c["categories"])}
                block = np.zeros((len(rows), len(cats)))
                for i, r in enumerate(rows):
                    v = r[j].strip()
                    v = c["most_frequent"] if _is_missing(v) else v
                    if v in cats:  # an unseen category is all zeros
                        block[i, cats[v]] = 1.0
                blocks.append(block)
        if not blocks:
            return np.zeros((len(rows), 0), np.float32)
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def get_config(self):
        return {"columns": self.columns}

    @classmethod
    def from_config(cls, config):
        return cls(columns=config["columns"])


class TargetEncoder:
    """The target column: class labels to integers (classification) or standardised floats."""

    def __init__(self, name, task, classes=None, mean=0.0, std=1.0):
        self.name, self.task, self.classes, self.mean, self.std = name, task, classes, mean, std

    @classmethod
    def fit(cls, name, values, task="auto"):
        present = [v.strip() for v in values if not _is_missing(v)]
        if len(present) != len(values):
            raise ValueError(
                f"The target column {name!r} has {len(values) - len(present)} missing values; "
                "drop those rows first"
            )
        floats = [_as_float(v) for v in present]
        numeric = all(f is not None for f in floats)
        if task == "auto":
            distinct = len(set(present))
            integral = numeric and all(float(f).is_integer() for f in floats)
            task = (
                "classification"
                if (not numeric or (integral and distinct <= 20))
                else "regression"
            )
        if task == "classification":
            classes = sorted(
                set(present), key=lambda v: (_as_float(v) is None, _as_float(v) or 0, v)
            )
            return cls(name, task, classes=classes)
        if task != "regression":
            raise ValueError(
                f"Expected --task auto, classification or regression. Received: {task!r}"
            )
        if not numeric:
            raise ValueError(f"Regression needs a numeric target; column {name!r} holds strings")
        arr = np.array(floats)
        std = float(arr.std()) or 1.0
        return cls(name, task, mean=float(arr.mean()), std=std)

    def transform(self, values):
        if self.task == "classification":
            index = {c: i for i, c in enumerate(self.classes)}
            unknown = sorted({v.strip() for v in values} - set(index))
            if unknown:
                raise ValueError(f"Target {self.name!r} holds unknown classes {unknown[:5]}")
            return np.array([index[v.strip()] for v in values], dtype=np.int64)
        return ((np.array([float(v) for v in values]) - self.mean) / self.std).astype(np.float32)

    def inverse(self, outputs):
        if self.task == "classification":
            return [self.classes[i] for i in np.asarray(outputs).argmax(-1)]
        return (np.asarray(outputs).reshape(-1) * self.std + self.mean).tolist()

    def get_config(self):
        return {
            "name": self.name,
            "task": self.task,
            "classes": self.classes,
            "mean": self.mean,
            "std": self.std,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def load_csv(path, target, task="auto"):
    """Read a CSV and preprocess it like ``shendu train``.

    Returns (x, y, preprocessor, target_encoder): x float32 features, y integer class
    labels (classification) or standardised float targets (regression).
    """
    header, rows = read_csv(path)
    if target not in header:
        raise ValueError(
            f"Target column {target!r} is not in the CSV. Columns: {', '.join(header)}"
        )
    t = header.index(target)
    feature_header = [h for i, h in enumerate(header) if i != t]
    feature_rows = [[v for i, v in enumerate(r) if i != t] for r in rows]
    pre = TabularPreprocessor().fit(feature_header, feature_rows)
    enc = TargetEncoder.fit(target, [r[t] for r in rows], task)
    return (
        pre.transform(feature_header, feature_rows),
        enc.transform([r[t] for r in rows]),
        pre,
        enc,
    )
