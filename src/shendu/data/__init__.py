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


class _TfDataMethods:
    """The tf.data methods Keras programs call on a dataset, where shendu has a meaning
    for them: prefetching and caching change nothing (batches are made on demand from
    arrays in memory); ``take(n)`` yields the first n batches."""

    def prefetch(self, buffer_size=None):
        return self

    def cache(self, filename=None):
        return self

    def take(self, count):
        return _Take(self, count)

    def as_numpy_iterator(self):
        return iter(self)  # type: ignore[call-overload]  # every subclass defines __iter__


class Dataset(_TfDataMethods):
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


class WindowDataset(_TfDataMethods):
    """Batches of windows of a series, gathered lazily (Keras's
    ``timeseries_dataset_from_array``): window i is ``data[start + p_i + k * rate]``,
    k < length, with target ``targets[start + p_i]``; p_i = i * stride, shuffled once at
    creation with ``shuffle`` (from ``seed``) and again within every epoch."""

    def __init__(
        self, data, targets, positions, sequence_length, sampling_rate, batch_size, shuffle, seed
    ):
        self.data, self.targets = data, targets
        self.positions = positions
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed) if shuffle else None

    def __len__(self):
        if self.batch_size is None:
            return len(self.positions)
        return math.ceil(len(self.positions) / self.batch_size)

    def __iter__(self):
        positions = self.positions
        if self._shuffle and self._rng is not None:
            positions = positions[self._rng.permutation(len(positions))]
        size = self.batch_size or 1
        for start in range(0, len(positions), size):
            p = positions[start : start + size]
            x = self.data[p[:, None] + self.offsets[None, :]]
            y = None if self.targets is None else self.targets[p]
            if self.batch_size is None:
                x, y = x[0], None if y is None else y[0]
            yield x if y is None else (x, y)


class _Take:
    def __init__(self, source, count):
        self.source, self.count = source, count

    def __iter__(self):
        for i, batch in enumerate(self.source):
            if i >= self.count:
                return
            yield batch

    def __len__(self):
        return min(self.count, len(self.source))


__all__ += ["WindowDataset"]
