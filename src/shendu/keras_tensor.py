"""``KerasTensor``: a symbolic tensor of the functional API (a shape, a dtype, where it came
from). ``layers.symbolic`` records the layer calls on them.

Operations on KerasTensors (``x + 1``, ``keras.ops.expand_dims(x, 1)``) record a node of
the functional graph. The floor that knows how (``layers.operations``) registers its
recorder here with ``register_operation_recorder``; the operators below and the functions
of ``shendu.ops`` (through ``symbolic_aware``) call it, so nothing here imports upward.
"""

from __future__ import annotations

import functools

import numpy as np

#: records an operation on KerasTensors: ``recorder(op_name, args, kwargs)``, set by
#: ``layers.operations`` when it is imported
_RECORDER = None


def register_operation_recorder(recorder) -> None:
    """Let ``recorder(op_name, args, kwargs)`` record operations on KerasTensors."""
    global _RECORDER
    _RECORDER = recorder


def _record(op, args, kwargs):
    if _RECORDER is None:  # pragma: no cover (``import shendu`` imports the layers)
        raise RuntimeError("shendu.layers is not imported: nothing records operations")
    return _RECORDER(op, args, kwargs)


def _symbolic(values) -> bool:
    """Whether ``values`` (arguments) hold a KerasTensor, alone or in a list or tuple."""
    for v in values:
        t = type(v)
        if t is KerasTensor:
            return True
        if (t is list or t is tuple) and any(type(e) is KerasTensor for e in v):
            return True
    return False


def symbolic_aware(name: str, fn):
    """``fn`` (the op ``name`` of ``shendu.ops``), recording a functional-graph node when
    called with KerasTensors (as Keras's ops do) and running as itself otherwise."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        for v in args:  # _symbolic(args), inlined: every op call passes here
            t = type(v)
            if t is KerasTensor or ((t is list or t is tuple) and _symbolic(v)):
                return _record(name, args, kwargs)
        if kwargs and _symbolic(kwargs.values()):
            return _record(name, args, kwargs)
        return fn(*args, **kwargs)

    op.__wrapped_op__ = fn  # type: ignore[attr-defined]
    return op


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

    def __lt__(self, other):
        return _apply("Less", self, other)

    def __le__(self, other):
        return _apply("LessEqual", self, other)

    def __gt__(self, other):
        return _apply("Greater", self, other)

    def __ge__(self, other):
        return _apply("GreaterEqual", self, other)

    def __ne__(self, other):  # Keras: a mask such as ``tokens != 0``
        return _apply("NotEqual", self, other)

    __hash__ = object.__hash__  # KerasTensors stay usable as keys (``==`` is identity)

    def __and__(self, other):
        return _apply("LogicalAnd", self, other)

    def __or__(self, other):
        return _apply("LogicalOr", self, other)

    def __invert__(self):
        return _apply("LogicalNot", self)

    def __getitem__(self, key):
        return _apply("GetItem", self, key)

    __array_ufunc__ = None  # NumPy leaves ``array + keras_tensor`` to __radd__

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"A symbolic tensor ({self.name}, shape {self.shape}) has no values: only "
            "keras.ops functions, operators and layers take it in a functional model "
            "(NumPy functions do not). Use keras.ops, or wrap the computation in a layer, "
            "e.g. keras.layers.Lambda(lambda t: np.exp(t))(x)."
        )


def _apply(op, *operands):
    return _record(op, operands, {})
