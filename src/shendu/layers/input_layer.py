"""``Input`` and ``InputLayer``: where a functional model starts (``layers.symbolic``)."""

from __future__ import annotations

from ..naming import unique_name
from . import allocation
from .base import Layer
from .symbolic import KerasTensor, Node


class InputLayer(Layer):
    """The entry of a functional model; holds the input's shape and dtype."""

    replay_safe = True

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        name=None,
        batch_shape=None,
        sparse=False,
        input_shape=None,
        ragged=False,
        **kwargs,
    ):
        if ragged:  # Keras writes ragged=False in every InputLayer config
            raise ValueError("InputLayer: ragged inputs are TensorFlow's; shendu has none")
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is not None:
            shape, batch_size = tuple(batch_shape)[1:], tuple(batch_shape)[0]
        if shape is None:
            raise ValueError("InputLayer: `shape` is required (the input shape without batch)")
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(None if s is None else int(s) for s in shape)
        if any(s is not None and s < 0 for s in shape):
            raise ValueError(
                f"InputLayer: dimensions must be non-negative. Received: shape={shape}"
            )
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        limits = allocation.active()
        if limits is not None:
            limits.check_tensor(f"Input {self.name!r}", (batch_size,) + shape, self.dtype)
        self.batch_shape = (batch_size,) + shape
        self.built = True
        node = Node(self, (), {}, None, is_input=True)
        tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name, node=node)
        node.outputs = [tensor]
        node.record(tensor)

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, sparse=False):  # noqa: N802
    """A symbolic input for the functional API: ``x = Input(shape=(4,))``."""
    return InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape
    ).output
