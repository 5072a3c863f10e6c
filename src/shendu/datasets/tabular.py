"""CSV files to arrays: the preprocessing of ``shendu train`` and ``load_csv``.

Each column is typed the way a user reading the file would type it, and every decision
is reported (``TabularPreprocessor.report``):

- numeric: every present value is a number. Missing values are empty cells and the
  tokens of ``MISSING`` (NA, n/a, null, ?, a lone -, ...); in a numeric column the
  non-finite numbers (inf, -inf) are missing values too. Numbers are standardised,
  (x - mean) / std, missing ones imputed with the median; a column whose values are too
  large to scale in float64 is refused, naming it.
- categorical: strings with few distinct values, one-hot encoded, missing ones imputed
  with the most frequent value.
- dropped, with the reason: dates (most values look like 2024-01-31 or 31/01/2024),
  free text and identifiers (nearly one distinct string per row, which one-hot encoding
  would turn into thousands of features), and row numbers (distinct consecutive
  integers). ``keep`` names columns to keep regardless.

The fitted preprocessing is a plain JSON-able config, so it travels inside a saved model.
"""

from __future__ import annotations

import collections
import csv
import io
import math
import os
import re

import numpy as np

MISSING = {"", "na", "nan", "n/a", "null", "none", "?", "-", "--"}
NON_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_DATE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*$"
)
#: Columns with at least this many rows are checked for identifiers and free text.
MIN_ROWS_FOR_ID = 20
CSV_FIELD_LIMIT = 64 * 1024 * 1024


def read_csv(path):
    """(header, rows) of a CSV file; raises a ValueError for an empty file, rows of the wrong
    length, repeated column names, or text that is not CSV (naming the row)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file not found: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory, not a CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    rows = _parse(text, path)
    if not rows:
        raise ValueError(f"The CSV file {path!r} is empty: expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    repeated = sorted(h for h, n in collections.Counter(header).items() if n > 1)
    if repeated:
        raise ValueError(f"{path}: the header repeats column names {repeated}")
    data = rows[1:]
    if not data:
        raise ValueError(f"The CSV file {path!r} has a header but no data rows")
    for i, r in enumerate(data):
        if len(r) != len(header):
            raise ValueError(
                f"{path}: row {i + 2} has {len(r)} fields, but the header has {len(header)}"
            )
    return header, data


def _parse(text, path):
    """Rows of ``text``; fields up to CSV_FIELD_LIMIT characters (the csv module's limit is
    raised for this call only and put back)."""
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text))
    rows = []
    try:
        for r in reader:
            if any(c.strip() for c in r):
                rows.append(r)
    except csv.Error as err:
        raise ValueError(f"{path}: line {reader.line_num} is not valid CSV ({err})") from None
    finally:
        csv.field_size_limit(previous)
    return rows


def _is_missing(v):
    return v.strip().lower() in MISSING


def _as_float(v):
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _describe_missing(tokens):
    """'2 empty, 1 'inf'' from a Counter of the raw missing tokens."""
    parts = []
    for token, n in sorted(tokens.items(), key=lambda kv: (-kv[1], kv[0])):
        parts.append(f"{n} empty" if not token.strip() else f"{n} {token.strip()!r}")
    return ", ".join(parts)


def _profile(name, values, keep):
    """The column's kind and statistics, and the raw tokens read as missing."""
    present: list = []
    missing: collections.Counter = collections.Counter()
    for v in values:
        if _is_missing(v):
            missing[v] += 1
        else:
            present.append(v.strip())
    numeric_missing = collections.Counter(v for v in present if v.lower() in NON_FINITE)
    numbers = [v for v in present if v.lower() not in NON_FINITE]
    floats = [_as_float(v) for v in numbers]
    if numbers and all(f is not None for f in floats):
        return _numeric(name, np.array(floats, dtype=np.float64), len(values), keep), (
            missing + numeric_missing
        )
    if not present:
        raise ValueError(f"Column {name!r} has no values (every entry is missing)")
    if name not in keep:
        dates = sum(1 for v in present if _DATE.match(v))
        if dates >= 0.9 * len(present):
            return {"name": name, "kind": "dropped", "reason": "dates"}, missing
        distinct = len(set(present))
        if len(values) >= MIN_ROWS_FOR_ID and distinct >= 0.9 * len(present):
            text = np.median([len(v) for v in present]) > 20 or sum(
                " " in v for v in present
            ) > 0.5 * len(present)
            reason = (
                "free text" if text else "an identifier (a distinct value in nearly every row)"
            )
            return {"name": name, "kind": "dropped", "reason": reason}, missing
    cats, counts = np.unique(np.array(present, dtype=str), return_counts=True)
    column = {
        "name": name,
        "kind": "categorical",
        "categories": cats.tolist(),
        "most_frequent": str(cats[np.argmax(counts)]),
    }
    return column, missing


def _numeric(name, arr, n_rows, keep):
    if name not in keep and n_rows >= MIN_ROWS_FOR_ID and len(arr) == n_rows:
        ints = np.all(arr == np.round(arr))
        if ints and len(np.unique(arr)) == n_rows and arr.max() - arr.min() == n_rows - 1:
            return {"name": name, "kind": "dropped", "reason": "row numbers (0, 1, 2, ...)"}
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(arr.mean()), float(arr.std())
        scaled = (arr - mean) / (std if std > 0 else 1.0)
        scaled_max = float(np.max(np.abs(scaled.astype(np.float32))))
    if not (math.isfinite(mean) and math.isfinite(std) and math.isfinite(scaled_max)):
        raise ValueError(
            f"Column {name!r} holds values too large to scale (largest magnitude "
            f"{np.max(np.abs(arr)):.3g}); rescale the column or drop it"
        )
    return {
        "name": name,
        "kind": "numeric",
        "median": float(np.median(arr)),
        "mean": mean,
        "std": std if std > 0 else 1.0,
    }


_COLUMN_FIELDS: dict[str, dict[str, type]] = {
    "numeric": {"median": float, "mean": float, "std": float},
    "categorical": {"categories": list, "most_frequent": str},
    "dropped": {"reason": str},
}


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_column(c, i):
    """A column description read from a file: its kind, and each field of that kind."""
    if not isinstance(c, dict) or not isinstance(c.get("name"), str):
        raise ValueError(f"column {i} is not a description with a 'name'")
    fields = _COLUMN_FIELDS.get(str(c.get("kind")))
    if fields is None:
        raise ValueError(f"column {c['name']!r} has kind {c.get('kind')!r}")
    for key, kind in fields.items():
        value = c.get(key)
        ok = (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            if kind is float
            else isinstance(value, kind)
        )
        if not ok or (key == "std" and value is not None and value <= 0):
            raise ValueError(f"column {c['name']!r}: {key!r} is {value!r}")
    if c["kind"] == "categorical" and not all(isinstance(v, str) for v in c["categories"]):
        raise ValueError(f"column {c['name']!r}: 'categories' must be strings")


class TabularPreprocessor:
    """Fit on columns of strings; transform to a float32 feature matrix.

    Attributes after ``fit``: ``columns`` (name, kind, statistics or the reason a column
    was dropped), ``n_features``, ``missing_counts`` (per column, in the fitted data) and
    ``missing_tokens`` (per column, the raw tokens read as missing and their counts).
    """

    def __init__(self, columns=None):
        self.columns = columns or []
        self.missing_counts, self.missing_tokens = {}, {}

    @property
    def n_features(self):
        return sum(
            1 if c["kind"] == "numeric" else len(c["categories"])
            for c in self.columns
            if c["kind"] != "dropped"
        )

    @property
    def feature_names(self):
        names = []
        for c in self.columns:
            if c["kind"] == "numeric":
                names.append(c["name"])
            elif c["kind"] == "categorical":
                names.extend(f"{c['name']}={v}" for v in c["categories"])
        return names

    @property
    def dropped(self):
        """{column: reason} of the columns left out."""
        return {c["name"]: c["reason"] for c in self.columns if c["kind"] == "dropped"}

    def fit(self, header, rows, keep=()):
        keep = set(keep)
        unknown = sorted(keep - set(header))
        if unknown:
            raise ValueError(f"Columns to keep are not in the CSV: {unknown}")
        self.columns, self.missing_counts, self.missing_tokens = [], {}, {}
        for j, name in enumerate(header):
            column, missing = _profile(name, [r[j] for r in rows], keep)
            self.columns.append(column)
            if column["kind"] != "dropped":
                self.missing_counts[name] = sum(missing.values())
                self.missing_tokens[name] = dict(missing)
        if not self.n_features:
            raise ValueError(
                "No feature is left: every column was dropped "
                f"({'; '.join(f'{k}: {v}' for k, v in self.dropped.items())})"
            )
        return self

    def report(self):
        """The lines ``shendu train`` prints about the columns: drops and imputations."""
        lines = []
        if self.dropped:
            lines.append(
                "Dropped columns: "
                + "; ".join(f"{k} ({v})" for k, v in self.dropped.items())
                + " (--keep COLUMN keeps one)"
            )
        imputed = {k: v for k, v in self.missing_counts.items() if v}
        if imputed:
            detail = ", ".join(
                f"{k}: {v}"
                + (
                    f" ({_describe_missing(self.missing_tokens[k])})"
                    if set(self.missing_tokens[k]) - {""}
                    else ""
                )
                for k, v in imputed.items()
            )
            lines.append(f"Imputed {sum(imputed.values())} missing values ({detail})")
        return lines

    def transform(self, header, rows):
        index = {h: i for i, h in enumerate(header)}
        used = [c for c in self.columns if c["kind"] != "dropped"]
        missing_cols = [c["name"] for c in used if c["name"] not in index]
        if missing_cols:
            raise ValueError(
                f"The data is missing columns the model was trained on: {missing_cols}"
            )
        blocks = []
        for c in used:
            j = index[c["name"]]
            if c["kind"] == "numeric":
                col = np.empty(len(rows), dtype=np.float64)
                for i, r in enumerate(rows):
                    v = r[j]
                    gap = _is_missing(v) or v.strip().lower() in NON_FINITE
                    f = None if gap else _as_float(v)
                    if f is None and not gap:
                        raise ValueError(
                            f"Column {c['name']!r} is numeric, but row {i + 2} holds {v!r}"
                        )
                    col[i] = c["median"] if f is None else f
                with np.errstate(over="ignore", invalid="ignore"):
                    scaled = (col - c["mean"]) / c["std"]
                    finite = np.isfinite(scaled.astype(np.float32))
                if not np.all(finite):
                    bad = int(np.argmax(~finite))
                    raise ValueError(
                        f"Column {c['name']!r}: row {bad + 2} holds {rows[bad][j]!r}, too large "
                        "to scale"
                    )
                blocks.append(scaled[:, None])
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
        """The preprocessor of ``get_config``'s output, every column checked (a model file
        may be damaged or crafted: a ValueError names the column and the field)."""
        columns = config.get("columns") if isinstance(config, dict) else None
        if not isinstance(columns, list):
            raise ValueError("'columns' must be a list of column descriptions")
        for i, c in enumerate(columns):
            _check_column(c, i)
        return cls(columns=columns)


def _label(v):
    """A class label as written, with numbers in one form: '1', '1.0' and ' 1 ' are '1'."""
    v = v.strip()
    f = _as_float(v)
    if f is not None and f.is_integer():
        return str(int(f))
    return v if f is None else repr(f)


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
            distinct = len({_label(v) for v in present})
            integral = numeric and all(float(f).is_integer() for f in floats)
            task = (
                "classification"
                if (not numeric or (integral and distinct <= 20))
                else "regression"
            )
        if task == "classification":
            labels = {_label(v) for v in present}
            if len(labels) < 2:
                raise ValueError(
                    f"The target column {name!r} holds one class ({next(iter(labels))!r}); a "
                    "classifier needs at least two"
                )
            classes = sorted(labels, key=lambda v: (_as_float(v) is None, _as_float(v) or 0, v))
            return cls(name, task, classes=classes)
        if task != "regression":
            raise ValueError(
                f"Expected --task auto, classification or regression. Received: {task!r}"
            )
        if not numeric:
            raise ValueError(f"Regression needs a numeric target; column {name!r} holds strings")
        arr = np.array(floats)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = float(arr.mean()), float(arr.std())
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise ValueError(f"The target column {name!r} holds values too large to scale")
        return cls(name, task, mean=mean, std=std or 1.0)

    def transform(self, values):
        if self.task == "classification":
            index = {c: i for i, c in enumerate(self.classes)}
            labels = [_label(v) for v in values]
            unknown = sorted(set(labels) - set(index))
            if unknown:
                raise ValueError(f"Target {self.name!r} holds unknown classes {unknown[:5]}")
            return np.array([index[v] for v in labels], dtype=np.int64)
        floats = [_as_float(v) for v in values]
        bad = [i for i, f in enumerate(floats) if f is None]
        if bad:
            raise ValueError(
                f"Target {self.name!r}: row {bad[0] + 2} holds {values[bad[0]]!r}, not a number"
            )
        return ((np.array(floats) - self.mean) / self.std).astype(np.float32)

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
        """The encoder of ``get_config``'s output, checked (a ValueError names the field)."""
        if not isinstance(config, dict) or not isinstance(config.get("name"), str):
            raise ValueError("the target encoder needs a 'name'")
        task = config.get("task")
        if task == "classification":
            classes = config.get("classes")
            if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
                raise ValueError(f"'classes' must be a list of class names: {classes!r}")
        elif task == "regression":
            for key in ("mean", "std"):
                v = config.get(key)
                if not _finite_number(v):
                    raise ValueError(f"{key!r} must be a finite number: {v!r}")
        else:
            raise ValueError(f"'task' must be classification or regression: {task!r}")
        known = {"name", "task", "classes", "mean", "std"}
        return cls(**{k: v for k, v in config.items() if k in known})


def split_target(header, rows, target):
    """(feature header, feature rows, target values) of a CSV's rows."""
    if target not in header:
        raise ValueError(
            f"Target column {target!r} is not in the CSV. Columns: {', '.join(header)}"
        )
    t = header.index(target)
    feature_header = [h for i, h in enumerate(header) if i != t]
    feature_rows = [[v for i, v in enumerate(r) if i != t] for r in rows]
    return feature_header, feature_rows, [r[t] for r in rows]


def load_csv(path, target, task="auto", keep=()):
    """Read a CSV and preprocess it like ``shendu train``.

    Returns (x, y, preprocessor, target_encoder): x float32 features, y integer class
    labels (classification) or standardised float targets (regression).
    """
    header, rows = read_csv(path)
    feature_header, feature_rows, target_values = split_target(header, rows, target)
    pre = TabularPreprocessor().fit(feature_header, feature_rows, keep)
    enc = TargetEncoder.fit(target, target_values, task)
    return pre.transform(feature_header, feature_rows), enc.transform(target_values), pre, enc
