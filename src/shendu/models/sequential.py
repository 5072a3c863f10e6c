"""``Sequential``: a plain stack of layers, each with one input and one output.

Once its input shape is known (an ``Input`` first, ``input_shape`` on the first layer, or
the first call), a Sequential model carries the functional graph of its stack, as Keras's
builds a Functional: ``inputs``, ``outputs``, the summary, ONNX export, cloning and the
compiled step read it as they read a functional model's. Calling the model runs the stack
directly (the same computation, without the graph's bookkeeping).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..annotations import Structure
from ..layers import allocation
from ..layers.base import Layer, convert_to_dtype, structure_changed
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor, forget_nodes, symbolic_call
from .functional import FunctionalGraph
from .model import Model, _adjust_rank


class Sequential(Model):
    """A linear stack of layers.

    Example:
    >>> import shendu
    >>> from shendu.layers import Dense
    >>> model = shendu.models.Sequential([Dense(8, activation="relu", input_dim=4), Dense(3)])
    >>> model.count_params()
    67

    Args:
        layers: the layers, in order (an ``Input`` first gives the model its input shape
            and builds it at once).
        trainable: whether the model's weights are trained.
        name: the model's name (default "sequential", numbered when taken).
    """

    def __init__(
        self,
        layers: Sequence[Layer] | None = None,
        trainable: bool = True,
        name: str | None = None,
    ):
        super().__init__(trainable=trainable, name=name)
        self._stack: list = []
        self._input_batch_shape: tuple | None = None
        self._input_layer: InputLayer | None = None  # the Input given first, if any
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer | KerasTensor, rebuild: bool = True) -> None:
        """Append a layer (or an ``Input``); builds as soon as the input shape is known."""
        if isinstance(layer, KerasTensor):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                "Sequential.add: expected a Layer instance. Received: "
                f"{layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._stack or self._input_batch_shape is not None:
                raise ValueError("Sequential: an Input can only be the first layer")
            self._input_batch_shape = layer.batch_shape
            self._input_dtype = layer.dtype
            self._input_layer = layer
        else:
            declared = layer.declared_input_shape()
            if not self._stack and self._input_batch_shape is None and declared:
                self._input_batch_shape = declared
            self._stack.append(layer)
            self._tracked_layers.append(layer)
            structure_changed()
        self.built = False
        self._drop_graph()
        if rebuild and self._input_batch_shape is not None and self._stack:
            self.build(self._input_batch_shape)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError("Sequential.pop: there are no layers in the model")
        layer = self._stack.pop()
        self._tracked_layers.remove(layer)
        structure_changed()
        self._drop_graph()
        if self._input_batch_shape is not None and self._stack:
            self.build(self._input_batch_shape)
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer and the graph of the stack by a symbolic call of each layer
        (two dry runs on zeros, or the layers' shape rules while a file is loaded)."""
        if input_shape is None:
            input_shape = self._input_batch_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential model {self.name!r}: the input shape is unknown; add an Input, "
                "pass input_shape to the first layer, or call the model on data"
            )
        shape = tuple(input_shape)
        self._sizes_from_data = False
        self._input_batch_shape = (None,) + shape[1:]
        self._build_shapes = self._input_batch_shape
        dtype = getattr(self, "_input_dtype", None) or self.dtype
        given = self._input_layer
        if given is None or tuple(given.batch_shape[1:]) != self._input_batch_shape[1:]:
            limits = allocation.active()
            if limits is not None:
                limits.check_tensor(f"Model {self.name!r} input", self._input_batch_shape, dtype)
            given = InputLayer(batch_shape=self._input_batch_shape, dtype=dtype)
        self._drop_graph()
        inputs = x = given.output
        for layer in self._stack:
            x = symbolic_call(layer, (x,), {})
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    f"Sequential model {self.name!r}: layer {layer.name!r} returned "
                    f"{len(x)} outputs; every layer of a Sequential model has one output"
                )
        self._graph = FunctionalGraph(inputs, x)
        self.built = True

    def _drop_graph(self):
        """Forget the graph of the stack (its layers' calls in it go too: ``layer.output``
        then names the rebuilt graph's tensors)."""
        graph = self.__dict__.get("_graph")
        if graph is not None:
            forget_nodes(graph.nodes)
        self._graph = None

    @property
    def _output_shapes(self):
        """The output shape of each layer of the stack (from the graph)."""
        if self._graph is None:
            return []
        return [node.outputs[0].shape for node in self._graph.nodes]

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The last layer's output shape, the model built for ``input_shape``."""
        if not self.built:
            self.build(input_shape)
        return self.output_shape

    def _maybe_build(self, inputs):
        if not self.built:
            shape = tuple(inputs.shape)
            self.build((None,) + shape[1:])
            # built from the first data, not declared: later calls may bring other sizes
            # (Keras only warns then), so only the rank is held to
            self._sizes_from_data = True

    def _call_runs_graph(self):
        return self._graph is not None and type(self).call is Sequential.call

    def _check_input(self, x):
        if self._input_batch_shape is None or not hasattr(x, "shape"):
            return
        expected = self._input_batch_shape[1:]
        got = tuple(x.shape[1:])
        if _adjust_rank(x, self._input_batch_shape) is not x:
            return  # one axis of size 1 short or extra: call adjusts it, as Keras
        if len(expected) != len(got):
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"shape={self._input_batch_shape}, found shape={(None,) + got}"
            )
        if self.__dict__.get("_sizes_from_data"):
            return
        for axis, (e, g) in enumerate(zip(expected, got)):
            if e is not None and e != g:
                raise ValueError(
                    f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                    f"axis {axis - len(expected)} of input shape to have value {e}, but "
                    f"received input with shape {(None,) + got}"
                )

    def call(self, inputs: Structure, training: bool | None = None, mask: Any = None) -> Structure:
        x = inputs
        if self._input_batch_shape is not None:  # Keras: a built Sequential has an Input
            x = _adjust_rank(x, self._input_batch_shape)
            x = convert_to_dtype(x, np.dtype(getattr(self, "_input_dtype", None) or self.dtype))
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    @property
    def input_shape(self) -> tuple | None:
        return self._input_batch_shape

    @property
    def output_shape(self) -> Any:
        return self._output_shapes[-1] if self._output_shapes else None

    def get_config(self) -> dict:
        layers = []
        if self._input_batch_shape is not None:
            layers.append(
                {
                    "class_name": "InputLayer",
                    "config": {
                        "batch_shape": list(self._input_batch_shape),
                        "dtype": getattr(self, "_input_dtype", None) or self.dtype,
                    },
                }
            )
        for layer in self._stack:
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config()})
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        from ..layers import deserialize

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            if entry["class_name"] == "InputLayer":
                model.add(InputLayer(**entry["config"]), rebuild=False)
            else:
                model.add(deserialize(entry, custom_objects), rebuild=False)
        if model._input_batch_shape is not None and model._stack:
            model.build(model._input_batch_shape)
        return model
