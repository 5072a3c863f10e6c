"""Approximate quantiles in one pass over batches, as Keras's ``Discretization.adapt``
computes its bin boundaries (the boundaries Keras finds are the reference, so the same
summaries are kept and merged the same way).

A summary is two rows: values in increasing order and the count each stands for.

- ``summarize(x, eps)``: the sorted batch, every ``step``-th value from the ``step``-th on,
  each weighing ``step``, where ``step = max(n * eps, 1)`` (about ``1 / eps`` values).
- ``compress(s, eps)`` (when the summary holds ``1 / eps`` values or more): new values at
  the cumulative-weight fractions ``eps, 2 eps, ..., 1``, by linear interpolation of the
  values against their cumulative weight fraction; each new weight is the interpolated
  cumulative weight minus the previous one.
- ``merge(a, b, eps)``: both summaries' columns sorted by value, then compressed.
- ``boundaries(s, num_bins)``: ``compress(s, 1 / num_bins)``'s values but the last.
"""

from __future__ import annotations

import numpy as np


def empty() -> np.ndarray:
    return np.zeros((2, 0), dtype="float32")


def summarize(values, epsilon: float) -> np.ndarray:
    values = np.sort(np.reshape(np.asarray(values, dtype="float32"), -1))
    step = max(values.size * epsilon, 1)
    picked = values[int(step - 1) :: int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    at = cumulative / cumulative[-1]
    values = np.interp(fractions, at, summary[0])
    cumulative = np.interp(fractions, at, cumulative)
    weights = cumulative - np.concatenate(([0.0], cumulative[:-1]))
    return np.stack([values, weights]).astype("float32")


def merge(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    both = np.concatenate([first, second], axis=1)
    return compress(both[:, np.argsort(both[0], kind="stable")], epsilon)


def boundaries(summary: np.ndarray, num_bins: int) -> list:
    return compress(summary, 1.0 / num_bins)[0, :-1].tolist()
