"""``KerasTensor``: a symbolic tensor of the functional API (a shape, a dtype, where it came
from). ``layers.symbolic`` records the layer calls on them."""

from __future__ import annotations

import numpy as np


class KerasTensor:
    """A placeholder with a shape (None for unknown), a dtype and the node that made it."""

    def __init__(self, shape, dtype=None, name=None, node=None, index=0, has_mask=False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype or "float32")
        self.name = name
        self.node = node
        self.index = index
        self.has_mask = has_mask

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def _keras_mask(self):
        """Keras's attribute: the symbolic mask (one flag per step: the shape without the
        feature axis), or None when the tensor carries no mask."""
        if not self.has_mask:
            return None
        return KerasTensor(self.shape[:-1], "bool", name=f"{self.name}_mask")

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    # operators record a node (``layers.operations``), as Keras's KerasTensor does
    def __add__(self, other):
        return _apply("Add", self, other)

    def __radd__(self, other):
        return _apply("Add", other, self)

    def __sub__(self, other):
        return _apply("Subtract", self, other)

    def __rsub__(self, other):
        return _apply("Subtract", other, self)

    def __mul__(self, other):
        return _apply("Multiply", self, other)

    def __rmul__(self, other):
        return _apply("Multiply", other, self)

    def __truediv__(self, other):
        return _apply("TrueDivide", self, other)

    def __rtruediv__(self, other):
        return _apply("TrueDivide", other, self)

    def __floordiv__(self, other):
        return _apply("FloorDivide", self, other)

    def __mod__(self, other):
        return _apply("Mod", self, other)

    def __pow__(self, other):
        return _apply("Power", self, other)

    def __rpow__(self, other):
        return _apply("Power", other, self)

    def __matmul__(self, other):
        return _apply("Matmul", self, other)

    def __rmatmul__(self, other):
        return _apply("Matmul", other, self)

    def __neg__(self):
        return _apply("Negative", self)

    def __abs__(self):
        return _apply("Absolute", self)

    def __getitem__(self, key):
        return _apply("GetItem", self, key)

    __array_ufunc__ = None  # NumPy leaves ``array + keras_tensor`` to __radd__

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"A symbolic tensor ({self.name}, shape {self.shape}) has no values: a keras.ops "
            "function other than an operator (+, -, *, /, //, %, **, @, -x, abs, x[...]) "
            "cannot take it in a functional model. Wrap the computation in a layer, e.g. "
            "keras.layers.Lambda(lambda t: keras.ops.exp(t))(x)."
        )


def _apply(op, *operands):
    from .layers.operations import apply

    return apply(op, *operands)
