"""Weight penalties added to the loss: L1, L2, L1L2 (Keras names and defaults)."""

from __future__ import annotations

from . import ops
from .naming import resolve
from .naming import serialize as _serialize


class Regularizer:
    """``__call__(weight)`` returns a scalar penalty Tensor."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check(name, v):
    if not isinstance(v, (int, float)) or v < 0:
        raise ValueError(f"Expected a non-negative number for `{name}`. Received: {name}={v!r}")
    return float(v)


class L1L2(Regularizer):
    """penalty = l1 * sum(|w|) + l2 * sum(w**2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _check("l1", l1), _check("l2", l2)

    def __call__(self, x):
        out = 0.0
        if self.l1:
            out = out + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            out = out + self.l2 * ops.sum(ops.square(x))
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """penalty = l1 * sum(|w|) (default l1=0.01)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """penalty = l2 * sum(w**2) (default l2=0.01)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """penalty = factor * mean of |off-diagonal of normalised W^T W| (mode 'rows'/'columns')."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor, self.mode = factor, mode

    def __call__(self, x):
        w = x if self.mode == "columns" else ops.transpose(x)
        w = w / (ops.norm(w, axis=0, keepdims=True) + 1e-7)
        prod = ops.matmul(ops.transpose(w), w)
        n = prod.shape[0]
        import numpy as np

        off = prod * (1 - np.eye(n, dtype=prod.dtype))
        return self.factor * ops.sum(ops.abs(off)) / max(n * (n - 1), 1)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


_TABLE = {
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1,
    "l2": L2,
    "l1_l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer


def get(identifier):
    return resolve(identifier, _TABLE, "regularizer")


def serialize(regularizer):
    return _serialize(regularizer)


def deserialize(config, custom_objects=None):
    return resolve(config, _TABLE, "regularizer", custom_objects)
