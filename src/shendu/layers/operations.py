"""Operations on symbolic tensors in a functional model (``x + inputs``, ``x * 2.0``,
``x[:, 0]``, ``-x``), recorded as Keras 3 records them: one node per operation, its
constants among the node's arguments.

``KerasTensor``'s operators call ``apply``, which calls a ``TensorOperation`` layer on
the operands (tensors and constants alike); the layer computes the operation with
``shendu.ops``. The operation is named by Keras's class for it (``Add``, ``GetItem``, ...),
from the closed table ``OPERATIONS``: a model file can name no other.
"""

from __future__ import annotations

from ..naming import snake_case, unique_name
from .base import Layer


def _get_item(x, key):
    # a key read back from a config is a list (JSON has no tuples): Keras reads it as one
    return x[tuple(key) if isinstance(key, list) else key]


def _table():
    from .. import ops

    return {
        "Add": ops.add,
        "Subtract": ops.subtract,
        "Multiply": ops.multiply,
        "TrueDivide": ops.true_divide,
        "Divide": ops.divide,
        "FloorDivide": ops.floor_divide,
        "Mod": ops.mod,
        "Power": ops.power,
        "Matmul": ops.matmul,
        "Negative": ops.negative,
        "Absolute": ops.absolute,
        "GetItem": _get_item,
    }


#: Keras's operation class names that a functional model may hold
OPERATIONS = (
    "Add",
    "Subtract",
    "Multiply",
    "TrueDivide",
    "Divide",
    "FloorDivide",
    "Mod",
    "Power",
    "Matmul",
    "Negative",
    "Absolute",
    "GetItem",
)


class TensorOperation(Layer):
    """One operation of ``OPERATIONS`` as a node of a functional graph; ``call`` takes the
    operands in order (tensors and constants)."""

    replay_safe = True

    def __init__(self, op: str, name: str | None = None, **kwargs):
        if op not in OPERATIONS:
            raise ValueError(
                f"TensorOperation: unknown operation {op!r}. Known: {', '.join(OPERATIONS)}"
            )
        super().__init__(name=name or unique_name(snake_case(op)), **kwargs)
        self.op = op
        self.built = True

    def call(self, *operands):
        return _table()[self.op](*operands)

    def get_config(self):
        return {"name": self.name, "op": self.op}


def apply(op: str, *operands):
    """``op`` on ``operands`` of which at least one is a KerasTensor: a new node."""
    return TensorOperation(op)(*operands)
