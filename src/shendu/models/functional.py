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


def keras_layer_order(inputs: list, outputs: list) -> list[Layer]:
    """The graph's layers as Keras's ``Functional.layers`` lists them (code indexes
    ``model.layers``, and Keras's weight files number layers in this order): a depth-first
    walk from the outputs (in order) back through each node's inputs (in order) gives each
    node its depth (0 at the outputs, else 1 + the largest depth of the nodes it feeds) and
    each layer the order of its first visit; layers come by decreasing depth (a shared
    layer: its largest), ties in visit order. Inputs that no output uses come last."""
    input_ids = {id(t) for t in inputs}
    visit_order: dict[int, int] = {}
    layer_of: dict[int, Layer] = {}
    finished: set[int] = set()
    post: list = []  # nodes, each after the nodes it depends on

    def stops(tensor) -> bool:
        node = tensor.node
        return (
            node is None or id(node) in finished or (id(tensor) in input_ids and not node.is_input)
        )

    def enter(node):
        layer_of[id(node.layer)] = node.layer
        visit_order.setdefault(id(node.layer), len(visit_order))

    for out in outputs:
        if stops(out):
            continue
        enter(out.node)
        stack = [(out.node, 0)]
        while stack:
            node, i = stack[-1]
            parents = [] if node.is_input else node.input_tensors
            if i < len(parents):
                stack[-1] = (node, i + 1)
                tensor = parents[i]
                if stops(tensor):
                    if tensor.node is not None and id(tensor) in input_ids:
                        finished.add(id(tensor.node))
                    continue
                enter(tensor.node)
                stack.append((tensor.node, 0))
            else:
                stack.pop()
                finished.add(id(node))
                post.append(node)
    in_graph = {id(n) for n in post}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = layer_depth[id(node.layer)] = depth
        if not node.is_input:
            for tensor in node.input_tensors:
                parent = tensor.node
                if parent is not None and id(parent) in in_graph:
                    node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:  # inputs no output uses: Keras lists them at depth 0, first among ties
        if t.node is not None and t.node.is_input and id(t.node.layer) not in layer_depth:
            layer_of[id(t.node.layer)] = t.node.layer
            layer_depth[id(t.node.layer)], visit_order[id(t.node.layer)] = 0, -1
    return sorted(
        layer_of.values(), key=lambda layer: (-layer_depth[id(layer)], visit_order[id(layer)])
    )


class FunctionalGraph:
    """The inputs, outputs and ordered nodes of a functional model."""

    def __init__(self, inputs: Structure, outputs: Structure):
        self.input_structure = inputs
        self.output_structure = outputs
        self.inputs = _as_list(inputs)
        self.outputs = flatten(outputs)  # nested lists and dicts too, as Keras
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    "Model(inputs, outputs) expects symbolic tensors from shendu.layers.Input "
                    f"and layer calls. Received: {type(t).__name__}"
                )
        if not all(t.node is not None and t.node.is_input for t in self.inputs):
            self._start_at_new_inputs()
        self.nodes = topological_nodes(self.inputs, self.outputs)
        self._layers = keras_layer_order(self.inputs, self.outputs)  # the graph is fixed

    def _start_at_new_inputs(self) -> None:
        """Inputs that are intermediate tensors (a preprocessing stage's output, Keras's
        ``Model`` docstring): the graph between them and the outputs is called again from
        new ``Input``s of their shapes and dtypes, as Keras's ``clone_graph_nodes`` does, so
        the model starts at InputLayers and saves and loads as any functional model."""
        from ..layers.input_layer import Input

        env = {}
        for t in self.inputs:
            if t.node is not None and t.node.is_input:
                env[id(t)] = t
            else:
                env[id(t)] = Input(batch_shape=t.shape, dtype=t.dtype.name)

        def lookup(x):
            return env.get(id(x), x) if isinstance(x, KerasTensor) else x

        for node in topological_nodes(self.inputs, self.outputs):
            out = node.layer(
                *map_structure(node.args, lookup), **map_structure(node.kwargs, lookup)
            )
            for old, new in zip(node.outputs, flatten(out)):
                env[id(old)] = new
        self.input_structure = map_structure(self.input_structure, lookup)
        self.output_structure = map_structure(self.output_structure, lookup)
        self.inputs = _as_list(self.input_structure)
        self.outputs = flatten(self.output_structure)

    @property
    def layers(self) -> list[Layer]:
        """The layers in Keras's order (``keras_layer_order``)."""
        return list(self._layers)

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
