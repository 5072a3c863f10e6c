"""``Function``: a functional graph of layers and ops, called as a function (Keras's
``keras.Function``): ``Function(inputs, outputs)(arrays)`` runs the graph without the
training machinery of a Model."""

from __future__ import annotations

from ..annotations import Structure
from ..autograd.tensor import Tensor
from .functional import FunctionalGraph, _as_list


class Function:
    def __init__(self, inputs: Structure, outputs: Structure, name: str | None = None):
        self._graph = FunctionalGraph(inputs, outputs)
        self.name = name or "function"

    @property
    def inputs(self) -> list:
        return self._graph.inputs

    @property
    def outputs(self) -> list:
        return self._graph.outputs

    @property
    def operations(self) -> list:
        return [n.layer for n in self._graph.nodes]

    def __call__(self, inputs: Structure, training: bool | None = None) -> Structure:
        values = _as_list(inputs)
        if len(values) != len(self._graph.inputs):
            raise ValueError(
                f"Function {self.name!r} expects {len(self._graph.inputs)} inputs. "
                f"Received: {len(values)}"
            )
        values = [v if isinstance(v, Tensor) else Tensor(v) for v in values]
        return self._graph.run(values, training=training)

    def compute_output_spec(self, inputs: Structure) -> Structure:
        return self._graph.output_structure
