"""The functional graph: a Model defined by ``Model(inputs, outputs)`` over KerasTensors.

The graph is the set of Nodes reachable backwards from the outputs. It runs in a
fixed topological order computed once; each node's layer is called on the real
tensors that stand for its KerasTensor arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..annotations import Structure, TensorLike
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor, flatten, map_structure

if TYPE_CHECKING:
    from ..layers.base import Layer
    from ..layers.symbolic import Node


def _as_list(x):
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def topological_nodes(inputs: Structure, outputs: Structure) -> list[Node]:
    """Nodes from the inputs to the outputs, each after the nodes it depends on."""
    input_ids = {id(t) for t in inputs}
    order, seen, visiting = [], set(), set()
    stack = [(t.node, False) for t in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded:
            visiting.discard(id(node))
            seen.add(id(node))
            order.append(node)
            continue
        if id(node) in visiting:
            continue
        visiting.add(id(node))
        stack.append((node, True))
        for t in node.input_tensors:
            if id(t) in input_ids:
                continue
            if t.node is None or isinstance(t.node.layer, InputLayer):
                raise ValueError(
                    f"Graph disconnected: cannot reach tensor {t.name!r} from the model's "
                    "inputs. Pass every Input the outputs depend on in `inputs`."
                )
            if id(t.node) not in seen:
                stack.append((t.node, False))
    return [n for n in order if not isinstance(n.layer, InputLayer)]


class FunctionalGraph:
    """The inputs, outputs and ordered nodes of a functional model."""

    def __init__(self, inputs: Structure, outputs: Structure):
        self.input_structure = inputs
        self.output_structure = outputs
        self.inputs = _as_list(inputs)
        self.outputs = _as_list(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    "Model(inputs, outputs) expects symbolic tensors from shendu.layers.Input "
                    f"and layer calls. Received: {type(t).__name__}"
                )
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from Input(). Received: {t!r}")
        self.nodes = topological_nodes(self.inputs, self.outputs)

    @property
    def layers(self) -> list[Layer]:
        out, seen = [], set()
        for t in self.inputs:
            layer = t.node.layer
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
        for n in self.nodes:
            if id(n.layer) not in seen:
                seen.add(id(n.layer))
                out.append(n.layer)
        return out

    def input_names(self) -> list[str]:
        return [t.node.layer.name for t in self.inputs]

    def run(self, values: Sequence[TensorLike], training: bool | None = None) -> Structure:
        """Compute the outputs from real input tensors (in the order of ``inputs``)."""
        env = {id(t): v for t, v in zip(self.inputs, values)}

        def lookup(x):
            return env[id(x)] if isinstance(x, KerasTensor) else x

        for node in self.nodes:
            args = map_structure(node.args, lookup)
            kwargs = map_structure(node.kwargs, lookup)
            if node.layer.call_has_training and kwargs.get("training") is None:
                kwargs["training"] = training
            out = node.layer(*args, **kwargs)
            for t, v in zip(node.outputs, flatten(out)):
                env[id(t)] = v
        return map_structure(self.output_structure, lookup)
