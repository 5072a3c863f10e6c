"""Limits on what rebuilding a model may allocate, for models read from untrusted files.

A model file of a few kilobytes can declare a layer of many gigabytes (``Dense(10**9)``),
an input of many gigabytes (``Input((10**5, 10**5))``), or a chain of weightless layers
that multiplies the size of every activation (``UpSampling2D(size=10**4)``). Inside
``allocation_limits(...)`` (the loaders in ``shendu.saving`` open it) three things hold:

- ``Layer.add_weight`` charges each new variable's bytes to a budget, the bytes of
  weights the file actually holds, and refuses the variable that would exceed it before
  allocating it; variables are zero-filled instead of drawn from their initializers (the
  file's weights overwrite them; an orthogonal initializer alone costs O(n^3) time).
- Symbolic shapes are computed from each layer's ``compute_output_shape`` rule instead of
  running the layer on zeros, so that building a loaded model costs no arithmetic; every
  shape is checked against ``max_tensor_bytes`` before any array of it exists.
- Inputs declared by the config are checked against the same ceiling.

Every refusal raises ``AllocationLimitError`` (a ``ValueError``); the loaders turn it into
``ModelFileError`` naming the file. Outside the context nothing changes.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_STATE = threading.local()


class AllocationLimitError(ValueError):
    """A layer or input of a model being loaded would exceed the loader's limits."""


class AllocationLimits:
    """The budget of one model being rebuilt (see the module docstring)."""

    def __init__(self, weight_bytes: int, max_tensor_bytes: int):
        self.weight_bytes = int(weight_bytes)
        self.max_tensor_bytes = int(max_tensor_bytes)
        self.used = 0

    def charge_weight(self, owner: str, shape, dtype) -> None:
        """Weights are backed by the file's bytes: they are limited by those alone."""
        nbytes = _nbytes(shape, dtype)
        if self.used + nbytes > self.weight_bytes:
            raise AllocationLimitError(
                f"{owner}: a weight of shape {tuple(shape)} needs {nbytes} bytes, but the file "
                f"holds {self.weight_bytes} bytes of weights in all ({self.used} already "
                "taken by the layers before it)"
            )
        self.used += nbytes

    def check_tensor(self, owner: str, shape, dtype) -> None:
        """Refuse a symbolic tensor whose array, at batch size 2, would pass the ceiling."""
        concrete = tuple(2 if s is None else s for s in shape)
        if any(not isinstance(s, (int, np.integer)) or s < 0 for s in concrete):
            raise AllocationLimitError(f"{owner}: invalid tensor shape {tuple(shape)}")
        nbytes = _nbytes(concrete, dtype)
        if nbytes > self.max_tensor_bytes:
            raise AllocationLimitError(
                f"{owner}: a tensor of shape {tuple(shape)} ({nbytes} bytes at batch size 2) "
                f"exceeds the loader's limit of {self.max_tensor_bytes} bytes per tensor"
            )


def _nbytes(shape, dtype) -> int:
    count = 1
    for s in shape:
        count *= int(s)
    return count * np.dtype(dtype).itemsize


@contextlib.contextmanager
def allocation_limits(weight_bytes: int, max_tensor_bytes: int):
    """Within the block, layers built on this thread obey the limits (module docstring)."""
    previous = getattr(_STATE, "limits", None)
    limits = AllocationLimits(weight_bytes, max_tensor_bytes)
    _STATE.limits = limits
    try:
        yield limits
    finally:
        _STATE.limits = previous


def active() -> AllocationLimits | None:
    """The limits in force on this thread, or None outside ``allocation_limits``."""
    return getattr(_STATE, "limits", None)
