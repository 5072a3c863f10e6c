"""Moving tensors between the CPU (NumPy) and the GPU (CuPy)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ._util import as_tensor


def _cupy():
    return backend.require_cupy()


class ToDevice(Function):
    """y = x on another device.  dx = gy moved back."""

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.src = "cpu" if isinstance(x, np.ndarray) else "gpu"
        return _move(x, self.device)

    def backward(self, gy):
        return _move(gy, self.src)

    def backward_graph(self, gy):
        return to_device(gy, self.src)


def _move(a, device):
    if device == "cpu":
        return backend.to_numpy(a)
    return _cupy().asarray(a)


def to_device(x, device):
    """``x`` on ``"cpu"`` or ``"gpu"``; a no-op when it is already there."""
    if device not in ("cpu", "gpu"):
        raise ValueError(f"to_device: expected 'cpu' or 'gpu'. Received: device={device!r}")
    x = as_tensor(x)
    if x.device == device:
        return x
    return ToDevice(device).apply(x)
