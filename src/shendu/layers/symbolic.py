"""Symbolic tensors and the recording of layer calls on them (the functional API).

Calling a layer on ``KerasTensor``s records a ``Node`` (the layer, its arguments with
KerasTensors in place, and the output KerasTensors). A built-in layer states its shape
rule (``compute_output_spec``), which gives the outputs without running anything, so
unknown sizes (``Input((None,))``, ``Input((None, None, 3))``) stay unknown through
convolutions, pooling and reshapes and the largest application builds in seconds. The
same rules serve the loader (``shendu.layers.allocation``), which checks each output
against its limits, so that rebuilding a model from a file costs no arithmetic and
allocates nothing but the weights.

A user layer states no rule (and a mask is found by running): its ``call`` runs twice on
``MetaArray``s (``shendu.meta_array``: a shape and a dtype, no values, so NumPy's functions
answer by rule without arithmetic or allocation), the batch axis 1 and then 2 and every
other unknown size 83 and then 89 (as Keras's torch backend runs on "meta" tensors: windows
fit, and sizes that differ between the two runs are unknown). The runs are stateless (a
variable assigned in ``call`` keeps its value, as under Keras's ``StatelessScope``). Code
that needs values (a branch on data, a compiled kernel) runs the two calls on zeros
instead, whose outcome, an error included, is what the user sees. Operations on
KerasTensors (``TensorOperation``) are evaluated the same way.

``Input`` and ``InputLayer`` (``layers.input_layer``) make the first KerasTensors.
"""

from __future__ import annotations

import collections

import numpy as np

from .. import backend
from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor
from ..keras_tensor import KerasTensor
from ..meta_array import MetaArray, is_meta
from ..scopes import StatelessScope
from . import allocation
from .tracking import TrackedVariable

#: how a functional config marks a tensor argument: ``{TENSOR_REF: [layer, node, index]}``
TENSOR_REF = "__tensor__"
#: and a slice (``{SLICE: [start, stop, step]}``) or an Ellipsis in an index argument
SLICE = "__slice__"
ELLIPSIS = "__ellipsis__"


def flatten(x) -> list:
    """The leaves of nested lists, tuples and dicts (dicts in insertion order)."""
    if isinstance(x, (list, tuple)):
        out = []
        for v in x:
            out.extend(flatten(v))
        return out
    if isinstance(x, dict):
        out = []
        for v in x.values():
            out.extend(flatten(v))
        return out
    return [x]


def map_structure(structure, fn):
    """``structure`` (nested lists, tuples and dicts) with ``fn`` applied to each leaf."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(v, fn) for v in structure)
    if isinstance(structure, dict):
        return {k: map_structure(v, fn) for k, v in structure.items()}
    return fn(structure)


class Node:
    """One call of a layer inside a functional graph (``is_input``: the node of an
    ``InputLayer``, where a graph starts)."""

    def __init__(self, layer, args, kwargs, outputs, is_input=False):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs
        self.is_input = is_input
        self.output_structure = None  # the outputs as the call returned them (set once known)

    @property
    def input_structure(self):
        """The call's first argument (a KerasTensor, or a list or dict of them); for an
        input node, its own KerasTensor."""
        if self.is_input:
            return self.outputs[0]
        return self.args[0] if self.args else next(iter(self.kwargs.values()), None)

    def record(self, output_structure):
        """Store the call's outputs and list the node among its layer's calls."""
        self.output_structure = output_structure
        self.layer._inbound_nodes.append(self)
        return output_structure

    @property
    def input_tensors(self):
        return [
            t
            for t in flatten([self.args, list(self.kwargs.values())])
            if isinstance(t, KerasTensor)
        ]


#: the sizes an unknown axis takes in the two dry runs: the batch axis, and the others
DRY_RUN_SIZES = ((1, 2), (83, 89))


def _concrete(structure, run, meta):
    batch_fill, fill = DRY_RUN_SIZES[0][run], DRY_RUN_SIZES[1][run]
    array = MetaArray if meta else np.zeros

    def make(t):
        if isinstance(t, KerasTensor):
            shape = tuple(
                (batch_fill if i == 0 else fill) if s is None else s for i, s in enumerate(t.shape)
            )
            value = Tensor.wrap(array(shape, t.dtype))
            if t.has_mask:  # a layer that consumes masks sees one in the dry runs too
                value._keras_mask = array(shape[:-1], bool)
            return value
        return t

    return map_structure(structure, make)


def _run(layer, args, kwargs, run, meta):
    """``layer`` called on stand-ins for its KerasTensors (MetaArrays when ``meta``, else
    zeros), the unknown sizes those of dry run ``run``; no variable keeps an assignment."""
    cargs = _concrete(args, run, meta)
    ckwargs = _concrete(kwargs, run, meta)
    if "training" in ckwargs or layer.call_has_training:
        ckwargs.setdefault("training", False)
    with no_grad(), StatelessScope(), np.errstate(all="ignore"):  # 0 / 0 is fine on zeros
        return layer(*cargs, **ckwargs)


#: how the calls of layers without a shape rule were evaluated: {"meta": n, "zeros": n}
EVALUATIONS: collections.Counter = collections.Counter()


def _evaluate(layer, args, kwargs):
    """The outputs of the two runs: shape-and-dtype evaluations (MetaArrays, no arithmetic)
    where the layer's code allows, else runs on zeros (code that needs values: a branch on
    data, a kernel that takes real arrays). The zeros' outcome (its error, too) decides."""
    try:
        out1 = _run(layer, args, kwargs, 0, meta=True)
        out2 = _run(layer, args, kwargs, 1, meta=True)
        if all(isinstance(t, Tensor) for t in flatten([out1, out2])) and not _keeps_meta(layer):
            EVALUATIONS["meta"] += 1
            return out1, out2
    except Exception:  # noqa: BLE001 (the runs on zeros raise what a user must see)
        pass
    EVALUATIONS["zeros"] += 1
    layer.clear_losses()
    return _run(layer, args, kwargs, 0, meta=False), _run(layer, args, kwargs, 1, meta=False)


def _keeps_meta(layer) -> bool:
    """Whether ``layer`` or one of its sublayers kept a tensor of the shape-only runs as an
    attribute (a stateful RNN's states): then the runs on zeros set it instead."""
    for sub in layer.flatten_layers():
        for value in vars(sub).values():
            for v in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(v, Tensor) and is_meta(v.data):
                    return True
    return False


def _static_suffices(layer, args, kwargs):
    """Whether the shape rule stands in for the dry runs: a built-in layer (a subclass
    with its own ``call`` may not follow its parent's rule), with no mask flowing in or
    made (masks are found by running)."""
    if not (layer.has_shape_rule() and _builtin_call(layer)) or getattr(layer, "mask_zero", False):
        return False
    tensors = [t for t in flatten([args, list(kwargs.values())]) if isinstance(t, KerasTensor)]
    return bool(tensors) and not any(t.has_mask for t in tensors)


def _builtin_call(layer) -> bool:
    """Whether the ``call`` that runs is shendu's own (the class defining it is ours)."""
    for cls in type(layer).__mro__:
        if "call" in cls.__dict__:
            return cls.__module__.startswith("shendu.")
    return False


def _check_symbolic_input(layer, args, kwargs):
    """The checks a call makes on its input, made on the KerasTensor."""
    from .base import check_rank
    from .input_spec import assert_input_compatibility

    first = args[0] if args else kwargs.get("inputs")
    ndim = layer.expected_ndim()
    if ndim is not None and isinstance(first, KerasTensor):
        check_rank(layer, first, ndim)
    if layer.input_spec is not None:
        assert_input_compatibility(layer.input_spec, first, layer.name)


def _constants(value):
    """``value`` with each concrete Tensor computed before the graph (``Embedding(4, 3)(
    ops.arange(4))`` added to a KerasTensor) cut from its autograd history: the graph holds
    its value as a constant, as Keras's does (a Variable stays itself: its current value is
    read at each call)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_constants(v) for v in value)
    if isinstance(value, dict):
        return {k: _constants(v) for k, v in value.items()}
    if isinstance(value, Tensor) and not isinstance(value, TrackedVariable) and value.creator:
        return value.detach()
    return value


def symbolic_call(layer, args, kwargs):
    """Call ``layer`` on KerasTensors: record a Node and return output KerasTensors."""
    args, kwargs = _constants(args), _constants(kwargs)
    limits = allocation.active()
    if limits is not None and layer.has_shape_rule():
        return _static_call(layer, args, kwargs, limits)
    if limits is None and _static_suffices(layer, args, kwargs):
        _check_symbolic_input(layer, args, kwargs)
        return _static_call(layer, args, kwargs, None)
    if limits is not None:  # a registered user layer: evaluated from inputs within limits
        for t in flatten([args, list(kwargs.values())]):
            if isinstance(t, KerasTensor):
                limits.check_tensor(f"Layer {layer.name!r}", t.shape, t.dtype)
    out1, out2 = _evaluate(layer, args, kwargs)
    layer.clear_losses()  # the dry runs' penalties are not part of any loss
    flat1, flat2 = flatten(out1), flatten(out2)
    node = Node(layer, args, kwargs, None)
    outputs = []
    for i, (a, b) in enumerate(zip(flat1, flat2)):
        shape = tuple(s if s == t else None for s, t in zip(a.shape, b.shape))
        if len(a.shape) != len(b.shape):
            shape = tuple(None for _ in a.shape)
        if limits is not None:
            limits.check_tensor(f"Layer {layer.name!r}", shape, a.dtype)
        outputs.append(
            KerasTensor(
                shape,
                a.dtype,
                name=f"{layer.name}_out{i}",
                node=node,
                index=i,
                has_mask=a._keras_mask is not None,
            )
        )
    node.outputs = outputs
    it = iter(outputs)
    return node.record(map_structure(out1, lambda _: next(it)))


def forget_nodes(nodes) -> None:
    """Take ``nodes`` off their layers' lists of calls (a graph being replaced: a
    Sequential model rebuilt for another input shape)."""
    for node in nodes:
        if node.is_input:  # an Input keeps its tensor: another graph may start from it
            continue
        calls = node.layer._inbound_nodes
        if node in calls:
            calls.remove(node)


def _static_call(layer, args, kwargs, limits):
    """symbolic_call without running the layer: its stated shape rule, checked first."""
    out = layer.compute_output_spec(*args, **kwargs)
    node = Node(layer, args, kwargs, None)
    outputs = []
    for i, t in enumerate(flatten(out)):
        if limits is not None:
            limits.check_tensor(f"Layer {layer.name!r}", t.shape, t.dtype)
        outputs.append(
            KerasTensor(t.shape, t.dtype, name=f"{layer.name}_out{i}", node=node, index=i)
        )
    node.outputs = outputs
    it = iter(outputs)
    return node.record(map_structure(out, lambda _: next(it)))


def infer_output_shape(layer, input_shape):
    """Output shape of ``layer`` for ``input_shape`` (None for unknown dims), by two dry runs."""
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
        inputs = [KerasTensor(tuple(s), backend.floatx()) for s in input_shape]
        out = symbolic_call(layer, (inputs,), {})
    else:
        out = symbolic_call(layer, (KerasTensor(tuple(input_shape), backend.floatx()),), {})
    return map_structure(out, lambda t: t.shape)


def source_inputs(tensor):
    """The InputLayer outputs (``Input`` tensors) that ``tensor`` depends on, in order."""
    out, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen or not isinstance(t, KerasTensor):
            continue
        seen.add(id(t))
        node = t.node
        if node is None or node.is_input:
            out.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return out
