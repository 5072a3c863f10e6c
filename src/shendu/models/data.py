"""Data adapters: turning what ``fit`` / ``evaluate`` / ``predict`` receive into batches.

``adapter(...)`` returns an object with ``steps`` (batches per epoch, None when unknown)
and ``epoch(index)``, an iterator over one epoch's batches ``(x, y, sample_weight)``.
Arrays (and lists or dicts of arrays) are validated once (sample counts, NaN and
inf, dtype converted to the float dtype once) and sliced by precomputed index
arrays (``ArrayBatches``; ``ShardedBatches`` for data-parallel training); anything else
iterable is taken as a stream of ready batches (``StreamBatches``: a generator, a
``Dataset``, a ``PyDataset``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import backend
from ..annotations import Array, Structure
from ..autograd.tensor import Tensor


def is_array_like(x: Structure) -> bool:
    if x is None:
        return True
    if isinstance(x, (np.ndarray, Tensor)):
        return True
    if isinstance(x, (list, tuple)):
        return all(is_array_like(v) and v is not None for v in x) and not any(
            isinstance(v, (int, float)) for v in x
        )
    if isinstance(x, dict):
        return all(is_array_like(v) for v in x.values())
    return hasattr(x, "__array__") and hasattr(x, "shape")


def map_leaves(x: Structure, fn: Callable[[Any], Any]) -> Structure:
    """``x`` (an array, or lists, tuples and dicts of them; None stays None) with ``fn``
    applied to each array, in the same structure (tuples become lists)."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [map_leaves(v, fn) for v in x]
    if isinstance(x, dict):
        return {k: map_leaves(v, fn) for k, v in x.items()}
    return fn(x)


def leaves(x: Structure) -> list:
    """The arrays of ``x`` in order (dicts in their insertion order); None has none."""
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return [a for v in x for a in leaves(v)]
    if isinstance(x, dict):
        return [a for v in x.values() for a in leaves(v)]
    return [x]


def to_array(x: Structure, name: str | None, check_finite: bool = True) -> Any:
    """One input or target as an array; float data in the default float dtype."""
    if isinstance(x, Tensor):
        a = x.data
    else:
        a = np.asarray(x)
    if a.dtype == object:
        if a.size and all(isinstance(v, (str, bytes)) for v in a.reshape(-1)):
            return a  # text for a model that takes strings (TextVectorization, lookups)
        raise TypeError(
            f"`{name}` must hold numbers (or strings, for a model taking text). Received an "
            "array of Python objects (dtype=object)"
        )
    if a.dtype.kind == "f" and a.dtype != np.dtype(backend.floatx()):
        a = a.astype(backend.floatx())
    elif a.dtype.kind == "b":
        a = a.astype(backend.floatx())
    if check_finite and a.dtype.kind == "f" and a.size:
        finite = np.isfinite(a)
        if not finite.all():
            bad = np.argwhere(~finite)[0]
            kind = "NaN" if np.isnan(a[tuple(bad)]) else "inf"
            raise ValueError(
                f"`{name}` contains {kind} (first at index {tuple(int(i) for i in bad)}). "
                "Impute or drop missing values before fit (shendu checks this; Keras would "
                "train on NaN silently)."
            )
    return a


def prepare(
    x: Structure,
    y: Structure | None = None,
    sample_weight: Structure | None = None,
    check_finite: bool = True,
    nan_in_x: bool = False,
) -> tuple[Structure, Structure, Structure, int]:
    """Validate and convert arrays; returns (x, y, sample_weight, n_samples)."""
    x = map_leaves(x, lambda a: to_array(a, "x", check_finite and not nan_in_x))
    y = map_leaves(y, lambda a: to_array(a, "y", check_finite))
    sw = map_leaves(sample_weight, lambda a: to_array(a, "sample_weight", check_finite))
    sizes = {}
    for name, struct in (("x", x), ("y", y), ("sample_weight", sw)):
        arrays = leaves(struct)
        for a in arrays:
            if a.ndim == 0:
                raise ValueError(f"`{name}` must have a batch axis. Received a scalar")
        if arrays:
            sizes[name] = [a.shape[0] for a in arrays]
    all_sizes = {s for v in sizes.values() for s in v}
    if len(all_sizes) > 1:
        detail = " ".join(f"'{k}' sizes: {', '.join(map(str, v))}" for k, v in sizes.items())
        raise ValueError(
            "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
            f"samples. {detail}"
        )
    n = all_sizes.pop() if all_sizes else 0
    return x, y, sw, n


def take(x: Structure, idx: Any) -> Structure:
    return map_leaves(x, lambda a: a[idx])


def split_tail(struct: Structure, n_keep: int) -> tuple[Structure, Structure]:
    """(first n_keep samples, the rest) of every array."""
    return map_leaves(struct, lambda a: a[:n_keep]), map_leaves(struct, lambda a: a[n_keep:])


def adapter(
    x: Structure,
    y: Structure | None = None,
    sample_weight: Structure | None = None,
    batch_size: int | None = None,
    shuffle: bool | str = False,
    steps: int | None = None,
    class_weight: dict | None = None,
    check_finite: bool = True,
    nan_in_x: bool = False,
) -> ArrayBatches | StreamBatches:
    """The batches of ``x`` (and ``y``, ``sample_weight``): ``ArrayBatches`` for arrays,
    ``StreamBatches`` for anything else iterable (then the batches carry the targets)."""
    if is_array_like(x) and is_array_like(y):
        if x is None:
            raise ValueError("Expected input data `x`. Received: x=None")
        x, y, sw, n = prepare(x, y, sample_weight, check_finite, nan_in_x=nan_in_x)
        if class_weight is not None:
            sw = class_weight_to_sample_weight(class_weight, y, sw)
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(
                f"Expected `batch_size` as a positive integer. Received: batch_size={batch_size!r}"
            )
        return ArrayBatches(x, y, sw, n, int(batch_size), shuffle)
    if y is not None:
        raise ValueError(
            "When `x` is a generator or dataset, `y` must be None (the batches carry the "
            f"targets). Received: y of type {type(y).__name__}"
        )
    if class_weight is not None:
        raise ValueError("`class_weight` is supported for array inputs only")
    return StreamBatches(x, steps)


def split_validation(
    x: Structure, y: Structure, sample_weight: Structure, validation_split: float
) -> tuple[tuple, tuple]:
    """``(x, y, sample_weight), (x_val, y_val, sw_val)``: the last ``validation_split`` of
    the samples held out, as Keras holds them out (before any shuffling)."""
    if not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). Received: "
            f"validation_split={validation_split!r}"
        )
    if not (is_array_like(x) and is_array_like(y)):
        raise ValueError("`validation_split` needs array inputs (not a generator)")
    x, y, sw, n = prepare(x, y, sample_weight)
    n_train = int(n * (1.0 - validation_split))
    if n_train == 0 or n_train == n:
        raise ValueError(
            f"validation_split={validation_split} leaves an empty training or validation set "
            f"for {n} samples"
        )
    (x, x_val), (y, y_val), (sw, sw_val) = (split_tail(a, n_train) for a in (x, y, sw))
    return (x, y, sw), (x_val, y_val, sw_val)


def class_weight_to_sample_weight(class_weight: dict | None, y: Structure, sw: Structure) -> Array:
    """Per-sample weights from a ``{class: weight}`` dict (times ``sw`` when given), as
    Keras makes them: the class of a one-hot row is its argmax, a label otherwise rounded
    to the nearest integer (0.6 is class 1); a class without a key weighs 1, and a key for
    a class absent from ``y`` changes nothing."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict. Received: {type(class_weight).__name__}")
    if isinstance(y, (list, dict)):
        raise ValueError("`class_weight` is only supported for models with a single output")
    y = backend.to_numpy(y)
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1)
    labels = np.rint(labels).astype(np.int64)
    bad = {k: v for k, v in class_weight.items() if not _finite_non_negative(v)}
    if bad:
        raise ValueError(
            f"`class_weight` values must be finite non-negative numbers. Received: {bad}"
        )
    weights = np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=backend.floatx())
    return weights if sw is None else sw * weights


def _finite_non_negative(v):
    try:
        return bool(np.isfinite(v)) and v >= 0
    except TypeError:
        return False


class ArrayBatches:
    """Batches of arrays by index; a fresh permutation per epoch when shuffling."""

    def __init__(
        self,
        x: Structure,
        y: Structure,
        sw: Structure,
        n: int,
        batch_size: int,
        shuffle: bool | str,
    ):
        self.x, self.y, self.sw, self.n = x, y, sw, n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = math.ceil(n / batch_size) if n else 0

    def epoch(self, index: int = 0, rng: np.random.Generator | None = None) -> Iterator[tuple]:
        """One epoch's batches (a new order each epoch when shuffling, from ``rng`` or the
        library's generator)."""
        slices: list = []
        if self.shuffle == "batch":
            order = np.arange(self.n)
            starts = np.arange(0, self.n, self.batch_size)
            (rng or backend.generator()).shuffle(starts)
            slices = [order[s : s + self.batch_size] for s in starts]
        else:
            permutation = (
                (rng or backend.generator()).permutation(self.n) if self.shuffle else None
            )
            for s in range(0, self.n, self.batch_size):
                slices.append(
                    slice(s, s + self.batch_size)
                    if permutation is None
                    else permutation[s : s + self.batch_size]
                )
        for idx in slices:
            yield take(self.x, idx), take(self.y, idx), take(self.sw, idx)


class ShardedBatches(ArrayBatches):
    """Data parallel batches: every global batch of ``size * batch_size`` samples (from one
    permutation per epoch, drawn from a seed all ranks share) is cut into one disjoint slice
    per rank. The last partial global batch is dropped so all ranks take the same steps."""

    def __init__(
        self,
        x: Structure,
        y: Structure,
        sw: Structure,
        n: int,
        batch_size: int,
        shuffle: bool | str,
        rank: int,
        size: int,
    ):
        super().__init__(x, y, sw, n, batch_size, shuffle)
        self.rank, self.size = rank, size
        self.seed: int | None = None  # set by the strategy once the ranks agree on it
        self.global_batch = batch_size * size
        self.steps = n // self.global_batch
        if self.steps == 0:
            raise ValueError(
                f"Data parallel fit: {n} samples are fewer than one global batch of "
                f"{self.global_batch} ({size} ranks x batch_size {batch_size})"
            )

    def epoch(self, index: int = 0, rng: np.random.Generator | None = None) -> Iterator[tuple]:
        """Epoch ``index``'s slice for this rank: the permutation depends on (seed, index)."""
        if self.shuffle and self.seed is None:
            raise RuntimeError("ShardedBatches: the ranks have not agreed on a shuffle seed yet")
        order = (
            np.random.default_rng([int(self.seed or 0), index]).permutation(self.n)
            if self.shuffle
            else np.arange(self.n)
        )
        b = self.batch_size
        for k in range(self.steps):
            idx = order[
                k * self.global_batch + self.rank * b : k * self.global_batch + (self.rank + 1) * b
            ]
            yield take(self.x, idx), take(self.y, idx), take(self.sw, idx)


class KeptBatches:
    """Another adapter's batches, kept from its first pass and given again on each later
    one: a one-shot generator of validation data serves every epoch (as in Keras, which
    caches its evaluation data)."""

    def __init__(self, batches: Any):
        self.batches = batches
        self.steps = batches.steps
        self._kept: list | None = None

    def epoch(self, index: int = 0, rng: np.random.Generator | None = None) -> Iterator[tuple]:
        if self._kept is not None:
            yield from self._kept
            return
        kept = []
        for batch in self.batches.epoch(index, rng):
            kept.append(batch)
            yield batch
        self._kept = kept


class StreamBatches:
    """Batches from an iterable (a generator, a Dataset, a list of tuples)."""

    def __init__(self, source: Any, steps: int | None = None):
        self.source = source
        self.steps = steps
        if steps is None:
            try:
                self.steps = len(source)
            except TypeError:
                self.steps = None
        self._iterator = None

    def epoch(self, index: int = 0, rng: np.random.Generator | None = None) -> Iterator[tuple]:
        if hasattr(self.source, "__next__"):  # a generator continues across epochs
            it = self.source
        else:
            it = iter(self.source)
        count = 0
        for item in it:
            yield unpack(item)
            count += 1
            if self.steps is not None and count >= self.steps:
                break
        on_epoch_end = getattr(self.source, "on_epoch_end", None)
        if callable(on_epoch_end):  # a PyDataset (Keras's Sequence) reshuffles here
            on_epoch_end()


def pack(x: Structure, y: Structure = None, sample_weight: Structure = None) -> Any:
    """The batch a step receives, as Keras packs it (``keras.utils.pack_x_y_sample_weight``):
    ``x`` itself (one input, no targets), ``(x,)`` (a list or tuple of inputs, no
    targets), ``(x, y)`` or ``(x, y, sample_weight)``; so ``x, y = data`` works in a
    ``train_step`` of a fit without sample weights."""
    if y is None and sample_weight is None:
        return x if not isinstance(x, (list, tuple)) else (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack(data: Any) -> tuple[Structure, Structure, Structure]:
    """(x, y, sample_weight) from a batch given as x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(
            "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
            f"`(x, y, sample_weight)`. Received a tuple of length {len(data)}"
        )
    return data, None, None


def batch_size_of(x: Structure) -> int:
    arrays = leaves(x)
    return arrays[0].shape[0] if arrays else 0


def as_numpy_structure(out: Any) -> Structure:
    if isinstance(out, Tensor):
        return backend.to_numpy(out.data)
    return map_leaves(out, lambda t: backend.to_numpy(t.data) if isinstance(t, Tensor) else t)
