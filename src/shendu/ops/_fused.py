"""Activations applied inside a linear or convolution node, in place on its output.

Each entry is (apply(xp, z) -> y, overwriting z; derivative(y) -> dy/dz from the output
alone), so the node keeps only y for backward and needs no separate activation node:
relu: y = max(z, 0), dy/dz = [y > 0];  tanh: dy/dz = 1 - y^2;
sigmoid: y = (tanh(z / 2) + 1) / 2, dy/dz = y (1 - y).
"""

from __future__ import annotations

from .. import backend

FUSED_ACTIVATIONS = {
    "relu": (lambda xp, z: xp.maximum(z, 0, out=z), lambda y: y > 0),
    "tanh": (lambda xp, z: xp.tanh(z, out=z), lambda y: 1 - y * y),
    "sigmoid": (
        lambda xp, z: xp.add(
            xp.multiply(xp.tanh(xp.multiply(z, 0.5, out=z), out=z), 0.5, out=z), 0.5, out=z
        ),
        lambda y: y * (1 - y),
    ),
}


def check_fused_activation(activation, op):
    """Raise unless ``activation`` is None or one of FUSED_ACTIVATIONS."""
    if activation is not None and activation not in FUSED_ACTIVATIONS:
        raise ValueError(
            f"{op}: `activation` must be None, 'relu', 'tanh' or 'sigmoid'. "
            f"Received: activation={activation!r}"
        )


def through_activation(activation, gy, y, out=None):
    """gy * act'(y), in gy's dtype: the gradient with respect to the pre-activation
    (written into ``out`` when given)."""
    d = FUSED_ACTIVATIONS[activation][1](y)
    if out is not None:
        return backend.array_module(gy).multiply(gy, d, out=out, casting="unsafe")
    g = gy * d
    return g if g.dtype == gy.dtype else g.astype(gy.dtype, copy=False)


def activation_op(name):
    """The differentiable op of a fused activation (for graph mode and unfused paths)."""
    from .activation import relu, sigmoid
    from .arithmetic import tanh

    return {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}[name]
