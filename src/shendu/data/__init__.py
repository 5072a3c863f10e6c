"""``Dataset``: a small NumPy batch pipeline that ``fit``, ``evaluate`` and ``predict`` accept.

    ds = Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(32).map(augment)
    model.fit(ds, epochs=10)

Shuffling draws a new order every epoch (from ``seed``, or from the library's generator);
nothing is prefetched or run in threads.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [a for v in x for a in _leaves(v)]
    if isinstance(x, dict):
        return [a for v in x.values() for a in _leaves(v)]
    return [x]


def _take(x, idx):
    if isinstance(x, tuple):
        return tuple(_take(v, idx) for v in x)
    if isinstance(x, list):
        return [_take(v, idx) for v in x]
    if isinstance(x, dict):
        return {k: _take(v, idx) for k, v in x.items()}
    return x[idx]


class Dataset:
    """Batches of arrays (a tuple, list or dict structure of arrays sliced along axis 0)."""

    def __init__(
        self,
        arrays,
        batch_size=None,
        shuffle=False,
        seed=None,
        transforms=(),
        drop_remainder=False,
    ):
        self.arrays = arrays
        leaves = [np.asarray(a) if not hasattr(a, "shape") else a for a in _leaves(arrays)]
        sizes = {len(a) for a in leaves}
        if len(sizes) != 1:
            raise ValueError(
                "Dataset: all arrays need the same number of samples. "
                f"Received sizes {sorted(sizes)}"
            )
        self.n = sizes.pop()
        self.batch_size, self._shuffle, self.seed = batch_size, shuffle, seed
        self.transforms = tuple(transforms)
        self.drop_remainder = drop_remainder
        self._rng = np.random.default_rng(seed) if seed is not None else None

    @classmethod
    def from_tensor_slices(cls, arrays):
        """One sample per index of axis 0 of every array in ``arrays``."""
        return cls(arrays)

    def _copy(self, **changes):
        kwargs = dict(
            arrays=self.arrays,
            batch_size=self.batch_size,
            shuffle=self._shuffle,
            seed=self.seed,
            transforms=self.transforms,
            drop_remainder=self.drop_remainder,
        )
        kwargs.update(changes)
        return Dataset(**kwargs)

    def shuffle(self, buffer_size=None, seed=None):
        """A new order every epoch (the whole set is shuffled; ``buffer_size`` is ignored)."""
        return self._copy(shuffle=True, seed=seed if seed is not None else self.seed)

    def batch(self, batch_size, drop_remainder=False):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"Dataset.batch: expected a positive integer. Received: {batch_size}")
        return self._copy(batch_size=batch_size, drop_remainder=drop_remainder)

    def map(self, fn):
        """Apply ``fn`` to every batch (after batching), e.g. augmentation."""
        return self._copy(transforms=self.transforms + (fn,))

    def __len__(self):
        if self.batch_size is None:
            return self.n
        if self.drop_remainder:
            return self.n // self.batch_size
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        rng = self._rng if self._rng is not None else backend.generator()
        order = rng.permutation(self.n) if self._shuffle else np.arange(self.n)
        size = self.batch_size or 1
        stop = self.n - self.n % size if self.drop_remainder else self.n
        for start in range(0, stop, size):
            idx = order[start : start + size]
            batch = _take(self.arrays, idx if self.batch_size else idx[0])
            for fn in self.transforms:
                batch = fn(*batch) if isinstance(batch, tuple) else fn(batch)
            yield batch


def timeseries_windows(array, window, horizon=1, stride=1):
    """(inputs, targets) for forecasting: inputs[i] = array[s : s + window],
    targets[i] = array[s + window + horizon - 1], s = i * stride."""
    a = np.asarray(array)
    if window <= 0 or horizon <= 0 or stride <= 0:
        raise ValueError(
            "timeseries_windows: window, horizon and stride must be positive. Received: "
            f"window={window}, horizon={horizon}, stride={stride}"
        )
    count = (len(a) - window - horizon) // stride + 1
    if count <= 0:
        raise ValueError(
            f"timeseries_windows: a series of length {len(a)} is too short for window={window} "
            f"and horizon={horizon}"
        )
    starts = np.arange(count) * stride
    x = np.stack([a[s : s + window] for s in starts])
    y = a[starts + window + horizon - 1]
    return x, y


__all__ = ["Dataset", "timeseries_windows"]
