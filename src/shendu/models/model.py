"""``Model``: a Layer with training (compile / fit / evaluate / predict), in three forms.

- functional: ``Model(inputs, outputs)`` on KerasTensors from ``Input``;
- subclassed: ``class M(Model)`` with layers as attributes and a ``call`` method;
- ``Sequential`` (models/sequential.py): a stack of layers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..annotations import Structure
from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor
from ..layers.base import Layer, convert_to_dtype, structure_changed
from ..layers.input_layer import InputLayer
from ..layers.symbolic import ELLIPSIS, SLICE, TENSOR_REF, KerasTensor, flatten, map_structure
from .functional import FunctionalGraph
from .trainer import Trainer


class Model(Trainer, Layer):
    """A model: ``Model(inputs, outputs)`` (functional) or a subclass with ``call``.

    Example:
    >>> import numpy as np, shendu
    >>> inputs = shendu.layers.Input(shape=(4,))
    >>> outputs = shendu.layers.Dense(3, activation="softmax")(inputs)
    >>> model = shendu.models.Model(inputs, outputs)
    >>> model.predict(np.ones((2, 4)), verbose=0).shape
    (2, 3)
    """

    def __init__(self, *args: Any, **kwargs: Any):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if args and inputs is None:
            inputs, args = args[0], args[1:]
        if args and outputs is None:
            outputs, args = args[0], args[1:]
        if args:
            raise TypeError(f"Model: unexpected positional arguments {args!r}")
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)
        self._graph = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs): both `inputs` and `outputs` are needed")
            self._graph = FunctionalGraph(inputs, outputs)
            for layer in self._graph.layers:
                if layer not in self._tracked_layers:
                    self._tracked_layers.append(layer)
            structure_changed()
            self.built = True
            self._build_shapes = [t.shape for t in self._graph.inputs]

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON ({'class_name', 'config'}; ``model_from_json`` reads it)."""
        import json

        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )

    def export(self, filepath: str | os.PathLike, format: str = "onnx") -> str:  # noqa: A002 - the Keras name
        """Export for inference: ``model.export("m.onnx")`` (needs the ``[onnx]`` extra)."""
        if format != "onnx":
            raise ValueError(f"Expected format='onnx'. Received: format={format!r}")
        from ..export import export_onnx

        return export_onnx(self, filepath)

    # --- device ---
    def to(self, device: str) -> Model:
        """Move every weight to ``"cpu"`` or ``"gpu"``; fit/predict then move each batch
        there and return NumPy results. Optimizer state is rebuilt on the new device."""
        from .. import backend

        if device not in ("cpu", "gpu"):
            raise ValueError(f"Expected device 'cpu' or 'gpu'. Received: device={device!r}")
        if device == "gpu":
            backend.require_cupy()
        for v in self.variables:
            v.unbind_storage()
            v.data = backend.to_device_array(v.data, device)
            v.grad = None
        self.device = device
        if getattr(self, "optimizer", None) is not None and self.optimizer.built:
            self.optimizer = type(self.optimizer).from_config(self.optimizer.get_config())
        return self

    # --- shapes ---
    def has_shape_rule(self) -> bool:
        """A functional model knows its output shapes from its graph; a subclassed one is
        run on zeros to find them."""
        return self._graph is not None or type(self).compute_output_shape is not (
            Model.compute_output_shape
        )

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._graph is None:
            return Layer.compute_output_shape(self, input_shape)
        shapes = [(None,) + tuple(t.shape[1:]) for t in self._graph.outputs]
        return shapes[0] if len(shapes) == 1 and not self._graph_output_is_list() else shapes

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        graph = self._graph
        if graph is None:
            return Layer.compute_output_spec(self, *args, **kwargs)
        return map_structure(
            graph.output_structure,
            lambda t: KerasTensor((None,) + tuple(t.shape[1:]), t.dtype),
        )

    def _graph_output_is_list(self):
        graph = self._graph
        return graph is not None and isinstance(graph.output_structure, (list, tuple))

    # --- structure ---
    @property
    def layers(self) -> list[Layer]:
        if self._graph is not None:
            return self._graph.layers
        return list(self._tracked_layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer with ``name`` (or at ``index``)."""
        if index is not None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Model {self.name!r} has {len(layers)} layers. Received: index={index}"
                )
            return layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[lay.name for lay in self.layers]}"
        )

    @property
    def inputs(self) -> list[KerasTensor] | None:
        return self._graph.inputs if self._graph is not None else None

    @property
    def outputs(self) -> list[KerasTensor] | None:
        return self._graph.outputs if self._graph is not None else None

    @property
    def input(self) -> Structure:
        """The model's input KerasTensor(s), as given to ``Model(inputs, ...)`` (a
        Sequential model's once its input shape is known)."""
        if self._graph is not None:
            return self._graph.input_structure
        return super().input

    @property
    def output(self) -> Structure:
        """The model's output KerasTensor(s), as given to ``Model(..., outputs)``."""
        if self._graph is not None:
            return self._graph.output_structure
        return super().output

    @property
    def input_shape(self) -> Any:
        """The input shape (a list of shapes for several inputs), batch axis None."""
        return self._graph_shapes("inputs")

    @property
    def output_shape(self) -> Any:
        """The output shape (a list of shapes for several outputs), batch axis None."""
        return self._graph_shapes("outputs")

    def _graph_shapes(self, side: str) -> Any:
        if self._graph is None:
            raise AttributeError(f"Model {self.name!r} has no defined {side[:-1]} shape yet")
        shapes = [tuple(t.shape) for t in getattr(self._graph, side)]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_names(self) -> list[str] | None:
        if self._graph is not None:
            return [t.node.layer.name for t in self._graph.outputs]
        return None

    def _output_names_for_compile(self):
        """The names compile, fit and the logs use for the outputs: the keys of a model
        built with a dict of outputs (as Keras), else the output layers' names."""
        graph = self._graph
        if graph is not None and isinstance(graph.output_structure, dict):
            return list(graph.output_structure)
        return super()._output_names_for_compile()

    @property
    def input_names(self) -> list[str] | None:
        return self._graph.input_names() if self._graph is not None else None

    # --- calling ---
    def _map_inputs(self, inputs):
        graph = self._graph
        assert graph is not None  # called for functional models only
        if isinstance(inputs, dict):
            # a model built on a dict of Inputs takes its keys (as Keras); others their names
            structure = graph.input_structure
            names = list(structure) if isinstance(structure, dict) else graph.input_names()
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f"Model {self.name!r}: missing inputs {missing}. Received keys: "
                    f"{sorted(inputs)}"
                )
            return [inputs[n] for n in names]
        values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(values) != len(graph.inputs):
            raise ValueError(
                f"Model {self.name!r} expects {len(graph.inputs)} input(s). "
                f"Received: {len(values)}"
            )
        return values

    def call(self, inputs: Structure, training: bool | None = None, mask: Any = None) -> Structure:
        if self._graph is None:
            raise NotImplementedError(
                f"Model {self.name!r}: a subclassed Model must implement call(inputs)"
            )
        values = [
            convert_to_dtype(_adjust_rank(v, t.shape), t.dtype)
            for t, v in zip(self._graph.inputs, self._map_inputs(inputs))
        ]
        for t, v in zip(self._graph.inputs, values):
            expected = t.shape[1:]
            got = tuple(v.shape[1:])
            if len(expected) != len(got) or any(
                e is not None and e != g for e, g in zip(expected, got)
            ):
                axis = next((i for i, (e, g) in enumerate(zip(expected, got)) if e != g), 0)
                raise ValueError(
                    f"Input 0 of layer {t.node.layer.name!r} is incompatible with the layer: "
                    f"expected axis {axis - len(expected) if len(expected) == len(got) else -1} "
                    f"of input shape to have value "
                    f"{expected[axis] if axis < len(expected) else expected}, but received "
                    f"input with shape {(None,) + got}"
                )
        return self._graph.run(values, training=training)

    def functional_graph(self) -> FunctionalGraph | None:
        """The model's graph (``models.functional.FunctionalGraph``: inputs, outputs and the
        layer calls in order), or None for a subclassed model or a Sequential one whose
        input shape is not known yet."""
        return self._graph

    def _call_runs_graph(self) -> bool:
        """Whether calling the model computes its graph and nothing else (a functional
        model, a built Sequential one, with shendu's ``call``): then what the graph says
        is what the model computes."""
        return self._graph is not None and type(self).call is Model.call

    def _maybe_build(self, inputs):
        """A functional model is built; a subclassed one called on data is built by that
        call (its layers build on first use), with no extra call on zeros."""
        if self._graph is None and not self.built:
            from ..layers.base import shape_of

            self._build_shapes = shape_of(inputs)
        self.built = True

    def build(self, input_shape: Any) -> None:
        """Build a subclassed model by calling it once on zeros of ``input_shape``."""
        if self._graph is not None:
            self.built = True
            return
        from ..layers.base import zeros_for

        shape = input_shape
        self._build_shapes = shape
        self.built = True
        with no_grad():
            self(zeros_for(shape if isinstance(shape, (list, dict)) else list(shape)))

    # --- config ---
    def get_config(self) -> dict:
        if self._graph is None:
            return Layer.get_config(self)
        graph = self._graph
        layer_index = {}
        layers: list[dict] = []
        for layer in graph.layers:
            layer_index[id(layer)] = layer.name
            layers.append(
                {
                    "class_name": type(layer).__name__,
                    "config": layer.get_config(),
                    "name": layer.name,
                    "inbound_nodes": [],
                }
            )
        by_name = {entry["name"]: entry for entry in layers}
        node_ids = {}
        for layer in graph.layers:
            if isinstance(layer, InputLayer):
                node_ids[id(layer.output.node)] = 0
        for node in graph.nodes:
            entry = by_name[node.layer.name]
            node_ids[id(node)] = len(entry["inbound_nodes"])

            def ref(t):
                return {TENSOR_REF: [t.node.layer.name, node_ids[id(t.node)], t.index]}

            entry["inbound_nodes"].append(
                {
                    "call_args": map_structure(list(node.args), _tensors_as(ref)),
                    "call_kwargs": map_structure(dict(node.kwargs), _tensors_as(ref)),
                }
            )

        def history(t):
            return [t.node.layer.name, node_ids[id(t.node)], t.index]

        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layers,
            "input_layers": [history(t) for t in graph.inputs],
            "output_layers": [history(t) for t in graph.outputs],
            "input_is_dict": isinstance(graph.input_structure, dict),
            "output_is_list": isinstance(graph.output_structure, (list, tuple)),
            # the structures as the model was built (a dict, a list, nested, or one tensor),
            # a reference [layer, node, index] at each leaf, as Keras writes them
            "input_structure": map_structure(graph.input_structure, history),
            "output_structure": map_structure(graph.output_structure, history),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """A model from ``get_config``'s output (or a Keras functional config translated
        by ``saving.keras_files``)."""
        if "layers" not in config or "input_layers" not in config:
            return cls(**config)
        from ..layers import deserialize as deserialize_layer

        created = {}
        node_outputs = {}
        for entry in config["layers"]:
            layer = deserialize_layer(entry, custom_objects)
            created[entry["name"]] = layer
            if isinstance(layer, InputLayer):
                node_outputs[(entry["name"], 0)] = [layer.output]
        pending = [
            (entry, i, node)
            for entry in config["layers"]
            for i, node in enumerate(entry["inbound_nodes"])
        ]
        while pending:
            progressed = False
            rest = []
            for entry, i, node in pending:
                args, kwargs = _node_call(node)
                refs = _refs([args, kwargs])
                if all((r[0], r[1]) in node_outputs for r in refs):

                    def tensor(r):
                        ref = r[TENSOR_REF]
                        return node_outputs[(ref[0], ref[1])][ref[2]]

                    args = _resolve(args, tensor)
                    kwargs = _resolve(kwargs, tensor)
                    out = created[entry["name"]](*args, **kwargs)
                    node_outputs[(entry["name"], i)] = flatten(out)
                    progressed = True
                else:
                    rest.append((entry, i, node))
            if not progressed:
                raise ValueError("Model config: the layer graph has unresolvable inbound nodes")
            pending = rest

        def pick(refs):
            return [node_outputs[(r[0], r[1])][r[2]] for r in refs]

        if "output_structure" in config:
            inputs = map_refs(config["input_structure"], lambda r: pick([r])[0])
            outputs = map_refs(config["output_structure"], lambda r: pick([r])[0])
            return Model(
                inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True)
            )
        inputs = pick(config["input_layers"])
        outputs = pick(config["output_layers"])
        if config.get("input_is_dict"):
            inputs = {t.node.layer.name: t for t in inputs}
        elif len(inputs) == 1:
            inputs = inputs[0]
        if len(outputs) == 1 and not config.get("output_is_list"):
            outputs = outputs[0]
        return Model(
            inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True)
        )

    def summary(
        self,
        line_length: int | None = None,
        positions: list | None = None,
        print_fn: Callable[[str], Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: list | None = None,
    ) -> None:
        """Print the layer table in Keras 3's layout (see ``summary.format_summary``)."""
        from .summary import format_summary

        text = format_summary(
            self,
            line_length,
            positions=positions,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )
        (print_fn or print)(text)


def _tensors_as(ref):
    """Each leaf of a node's arguments as JSON: tensors as references, slices and
    Ellipsis (a ``x[:, 0]`` key) marked, other values as they are."""

    def encode(v):
        if isinstance(v, KerasTensor):
            return ref(v)
        if isinstance(v, slice):
            return {SLICE: [v.start, v.stop, v.step]}
        if v is Ellipsis:
            return {ELLIPSIS: True}
        return v

    return encode


def _is_ref(value):
    return isinstance(value, dict) and set(value) == {TENSOR_REF}


def _refs(structure):
    """The tensor references in a node's config structure."""
    if _is_ref(structure):
        return [structure[TENSOR_REF]]
    values = structure.values() if isinstance(structure, dict) else structure
    if isinstance(structure, (list, dict)):
        return [r for v in values for r in _refs(v)]
    return []


def _resolve(structure, tensor):
    """``structure`` with each tensor reference replaced by ``tensor(reference)``."""
    if _is_ref(structure):
        return tensor(structure)
    if isinstance(structure, dict) and set(structure) == {SLICE}:
        return slice(*structure[SLICE])
    if isinstance(structure, dict) and set(structure) == {ELLIPSIS}:
        return Ellipsis
    if isinstance(structure, list):
        return [_resolve(v, tensor) for v in structure]
    if isinstance(structure, dict):
        return {k: _resolve(v, tensor) for k, v in structure.items()}
    return structure


def _adjust_rank(value: Any, shape: tuple) -> Any:
    """A model input one axis short of its Input whose last size is 1 gains that axis, and
    one with an extra last axis of size 1 loses it, as Keras adjusts them (``predict`` on
    data of shape (batch,) for ``Input((1,))``)."""
    ndim = getattr(value, "ndim", None)
    if ndim is None or ndim == len(shape):
        return value
    if ndim == len(shape) - 1 and shape[-1] == 1:
        new = tuple(value.shape) + (1,)
    elif ndim == len(shape) + 1 and value.shape[-1] == 1:
        new = tuple(value.shape[:-1])
    else:
        return value
    if isinstance(value, Tensor):
        from ..ops.shape import reshape

        return reshape(value, new)
    return value.reshape(new)


def is_ref(value: Any) -> bool:
    """Whether ``value`` is a tensor reference of a config: [layer name, node, index]."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    )


def map_refs(structure: Any, fn: Callable[[list], Any]) -> Any:
    """``structure`` (dicts, lists and references, as a config holds inputs and outputs)
    with each reference through ``fn``."""
    if is_ref(structure):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: map_refs(v, fn) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [map_refs(v, fn) for v in structure]
    raise ValueError(f"Model config: expected tensor references. Received: {structure!r}")


def _node_call(node: dict) -> tuple[list, dict]:
    """(args, kwargs) of a node's config, tensor references in place: ``call_args`` /
    ``call_kwargs``, or the older one-argument form ``args: {"tensor" | "list": ...}``."""
    if "call_args" in node:
        return list(node["call_args"]), dict(node.get("call_kwargs") or {})
    spec = node["args"]
    first: Any
    if "list" in spec:
        first = [{TENSOR_REF: r} for r in spec["list"]]
    else:
        first = {TENSOR_REF: spec["tensor"]}
    return [first], dict(node.get("kwargs") or {})


def clone_model(
    model: Model,
    input_tensors: Any = None,
    clone_function: Any = None,
    call_function: Any = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Model:
    """A model of the same architecture with new layers and fresh weights (see
    ``models.cloning``)."""
    from .cloning import clone_model as _clone

    return _clone(model, input_tensors, clone_function, call_function, recursive, **kwargs)


__all__ = ["Model", "clone_model"]
