"""``Sequential``: a plain stack of layers, each with one input and one output."""

from __future__ import annotations

from ..autograd.mode import no_grad
from ..layers import allocation
from ..layers.base import Layer, _zeros_for, structure_changed
from ..layers.input_layer import InputLayer, KerasTensor, symbolic_call
from .model import Model


class Sequential(Model):
    """A linear stack of layers.

    Example:
    >>> import shendu
    >>> from shendu.layers import Dense
    >>> model = shendu.models.Sequential([Dense(8, activation="relu", input_dim=4), Dense(3)])
    >>> model.count_params()
    67
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack: list = []
        self._input_batch_shape = None
        self._output_shapes: list = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
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
        else:
            if not self._stack and self._input_batch_shape is None and layer._input_shape_arg:
                self._input_batch_shape = (layer._batch_size_arg,) + layer._input_shape_arg
            self._stack.append(layer)
            self._tracked_layers.append(layer)
            structure_changed()
        self.built = False
        if rebuild and self._input_batch_shape is not None and self._stack:
            self.build(self._input_batch_shape)

    def pop(self):
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError("Sequential.pop: there are no layers in the model")
        layer = self._stack.pop()
        self._tracked_layers.remove(layer)
        structure_changed()
        if self._input_batch_shape is not None and self._stack:
            self.build(self._input_batch_shape)
        else:
            self._output_shapes = self._output_shapes[: len(self._stack)]
        return layer

    @property
    def layers(self):
        return list(self._stack)

    def build(self, input_shape=None):
        """Build every layer by a dry run on zeros of ``input_shape`` (batch axis None)."""
        if input_shape is None:
            input_shape = self._input_batch_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential model {self.name!r}: the input shape is unknown; add an Input, "
                "pass input_shape to the first layer, or call the model on data"
            )
        shape = tuple(input_shape)
        self._input_batch_shape = (None,) + shape[1:]
        self._build_shapes = self._input_batch_shape
        if allocation.active() is not None:  # loading a file: shapes by rule, no dry runs
            self._output_shapes = self._symbolic_shapes()
            self.built = True
            return
        shapes = []
        with no_grad():
            x = _zeros_for(list(self._input_batch_shape))
            x2 = _zeros_for([2 if s is None else s for s in self._input_batch_shape])
            for layer in self._stack:
                x = layer(x, training=False)
                x2 = layer(x2, training=False)
                shapes.append(
                    tuple(
                        None if i == 0 or a != b else a
                        for i, (a, b) in enumerate(zip(x.shape, x2.shape))
                    )
                )
                layer._clear_losses()
        self._output_shapes = shapes
        self.built = True

    def _symbolic_shapes(self):
        dtype = getattr(self, "_input_dtype", None) or self.dtype
        x = KerasTensor(self._input_batch_shape, dtype)
        allocation.active().check_tensor(f"Model {self.name!r} input", x.shape, dtype)
        shapes = []
        for layer in self._stack:
            x = symbolic_call(layer, (x,), {})
            shapes.append(x.shape if isinstance(x, KerasTensor) else [t.shape for t in x])
        return shapes

    def compute_output_shape(self, input_shape):
        """The last layer's output shape, the model built for ``input_shape``."""
        if not self.built:
            self.build(input_shape)
        return self.output_shape

    def _maybe_build(self, inputs):
        if not self.built:
            shape = tuple(inputs.shape)
            self.build((None,) + shape[1:])

    def _check_input(self, x):
        if self._input_batch_shape is None or not hasattr(x, "shape"):
            return
        expected = self._input_batch_shape[1:]
        got = tuple(x.shape[1:])
        if len(expected) != len(got):
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"shape={self._input_batch_shape}, found shape={(None,) + got}"
            )
        for axis, (e, g) in enumerate(zip(expected, got)):
            if e is not None and e != g:
                raise ValueError(
                    f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                    f"axis {axis - len(expected)} of input shape to have value {e}, but "
                    f"received input with shape {(None,) + got}"
                )

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    @property
    def input_shape(self):
        return self._input_batch_shape

    @property
    def output_shape(self):
        return self._output_shapes[-1] if self._output_shapes else None

    def get_config(self):
        layers = []
        if self._input_batch_shape is not None:
            layers.append(
                {
                    "class_name": "InputLayer",
                    "config": {"batch_shape": list(self._input_batch_shape), "dtype": self.dtype},
                }
            )
        for layer in self._stack:
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config()})
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
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
