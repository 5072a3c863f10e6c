"""``clone_model``: a model of the same architecture with new layers (fresh weights), as
Keras's: each layer goes through ``clone_function`` (default: a new layer from its
config); a functional graph is called again, layer by layer (through ``call_function``
when given), from new Inputs or ``input_tensors``; ``recursive`` clones nested
Sequential and functional models the same way. A layer used twice is cloned once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers.input_layer import Input, InputLayer
from ..layers.symbolic import KerasTensor, flatten, map_structure


def _clone_layer(layer: Any) -> Any:
    return type(layer).from_config(layer.get_config())


def _is_functional(model: Any) -> bool:
    """A model made from inputs and outputs (``Model(inputs, outputs)``, or a subclass
    that passed them to ``Model.__init__``)."""
    from .sequential import Sequential

    return not isinstance(model, Sequential) and model.__dict__.get("_graph") is not None


def _wrapped(clone_function, call_function, recursive, cache) -> Callable:
    from .sequential import Sequential

    clone_function = clone_function or _clone_layer

    def clone(layer):
        if id(layer) in cache:
            return cache[id(layer)]
        if recursive and (isinstance(layer, Sequential) or _is_functional(layer)):
            copy = clone_model(
                layer,
                clone_function=clone_function,
                call_function=None if isinstance(layer, Sequential) else call_function,
                recursive=True,
                cache=cache,
            )
        else:
            copy = clone_function(layer)
        cache[id(layer)] = copy
        return copy

    return clone


def _compiled_like(original: Any, copy: Any) -> Any:
    config = original.get_compile_config() if hasattr(original, "get_compile_config") else None
    if config:
        copy.compile_from_config(config)
    return copy


def _clone_sequential(model, clone, input_tensors):
    from .sequential import Sequential

    layers = [clone(layer) for layer in model.layers]
    given = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                "Argument `input_tensors` must be a KerasTensor. "
                f"Received invalid value: input_tensors={input_tensors}"
            )
        layers = [input_tensors.node.layer] + layers
    elif given is not None:
        new_input = InputLayer(batch_shape=given.batch_shape, dtype=given.dtype, name=given.name)
        layers = [new_input] + layers
    copy = Sequential(layers, name=model.name, trainable=model.trainable)
    return _compiled_like(model, copy)


def _clone_functional(model, clone, call_function, input_tensors):
    from .model import Model

    graph = model._graph
    if input_tensors is not None:
        if not all(isinstance(x, KerasTensor) for x in flatten(input_tensors)):
            raise ValueError(
                "All entries in `input_tensors` must be KerasTensors. "
                f"Received invalid values: inputs_tensors={input_tensors}"
            )
        new_inputs = input_tensors
        if len(flatten(new_inputs)) != len(graph.inputs):
            raise ValueError(
                "`input_tensors` must have the same structure as model.input. Received "
                f"{len(flatten(new_inputs))} tensors for {len(graph.inputs)} inputs"
            )
    else:
        new_inputs = map_structure(
            graph.input_structure,
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype.name, name=t.node.layer.name),
        )
    env = {id(old): new for old, new in zip(graph.inputs, flatten(new_inputs))}

    def lookup(x):
        return env.get(id(x), x) if isinstance(x, KerasTensor) else x

    for node in graph.nodes:
        if node.is_input:
            continue
        layer = clone(node.layer)
        args = map_structure(node.args, lookup)
        kwargs = map_structure(node.kwargs, lookup)
        if call_function is not None:
            out = call_function(layer, *args, **kwargs)
        else:
            out = layer(*args, **kwargs)
        for old, new in zip(node.outputs, flatten(out)):
            env[id(old)] = new
    outputs = map_structure(graph.output_structure, lookup)
    copy = Model(new_inputs, outputs, name=model.name)
    return _compiled_like(model, copy)


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable | None = None,
    call_function: Callable | None = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """A new model of ``model``'s architecture with new layers (fresh weights; see the
    module's docstring). A compiled model's clone is compiled the same way."""
    from .sequential import Sequential

    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    cache = {} if cache is None else cache
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "`call_function` argument is not supported with Sequential models. In a "
                "Sequential model, layers aren't called at model-construction time (they're "
                "merely listed). Use `call_function` with Functional models only."
            )
        return _clone_sequential(
            model, _wrapped(clone_function, None, recursive, cache), input_tensors
        )
    if _is_functional(model):
        clone = _wrapped(clone_function, call_function, recursive, cache)
        return _clone_functional(model, clone, call_function, input_tensors)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "Arguments `clone_function` and `input_tensors` are only supported for "
            "Sequential models or Functional models. Received model of type "
            f"'{type(model).__name__}'"
        )
    if call_function is not None:
        raise ValueError(
            "Argument `call_function` is only supported for Functional models. Received "
            f"model of type '{type(model).__name__}'"
        )
    config = model.get_config()
    return type(model).from_config(config)
