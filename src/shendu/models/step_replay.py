"""Tapes: a recorded step, replayed on raw arrays (``models.compiled_step`` decides when).

An eager training step spends most of its time on small models in Python: layer calls,
loss wrappers, Tensor objects, graph edges and the backward engine's bookkeeping, around
a few microseconds of arithmetic per op. Keras compiles its step into a graph; shendu
records it. During one eager step a ``Recorder`` captures every op
(``autograd.capture``) into a tape: the node's class, its settings
(``Function.settings``: the constructor's arguments), which inputs need a gradient, and
where each input came from:

- the output of an earlier node,
- a variable of the model (read again at every replay: the optimizer updates it),
- one of the batch's arrays (``x``, ``y`` and sample weights, matched by identity), or
- a constant: None, a bool, a number or a string.

Later steps with the same batch shapes and dtypes replay the tape: each node's
``forward`` on the new arrays, then each ``backward`` in reverse tape order (the tape is
in execution order, so reversed it visits every node after all the nodes that consumed
its outputs), summing gradients per output and writing the variables' gradients exactly
as the engine does (``engine._accumulate_leaf``: straight into the optimizer's fused
gradient buffer). The loss tracker, the optimizer and the metrics then run as in the eager
step (``compiled_step.apply_step``). Nothing else of the eager step is skipped: it has no
other effect for the layers admitted here.

A tape is made only where replaying it is exact, so the rules are strict:

- the model is a ``Sequential`` or functional model whose ``call``, ``train_step`` and
  ``compute_loss`` are shendu's own, with built-in losses that do not branch on the
  targets' values (hinge losses do); several outputs are fine (their losses are roots of
  the tape too, for the per-output loss trackers);
- every layer is of a built-in class that declares ``replay_safe = True`` (no random
  numbers drawn in Python, no state updated in ``call``, no branch on the values of its
  inputs), has no activity or weight regulariser and, for recurrent layers, is not
  stateful;
- every array an op received is a node output, a variable or a batch array (anything
  made in Python during the step, e.g. a dropout mask or a cast copy of the targets,
  means the step depends on more than the tape holds: the model stays eager), and no
  node's state holds an array (other than a batch array) or an object other than
  constants, tuples or lists of them, random generators and the model's variables and
  layers (ops draw their random numbers in ``forward``, so a replayed dropout draws a new
  mask every step; batch norm updates its moving statistics there; a standardisation
  reads its layer's statistics there).

Inference calls (``model(x, training=False)`` under no_grad, as ``evaluate`` and
``predict`` make them, ``fit``'s validation, and ``model(x)`` called at the top level under
no_grad with one array or Tensor) have tapes of their own, per input
signature, made the same way: the second call of a signature is recorded, the third
checked against the eager call, and later calls
run each node's ``forward`` alone (the nodes do not record, so they keep nothing for a
backward), by the same rules without the losses'. A replayed output carries the logits
behind a softmax, as the eager output does (a cross-entropy then uses them).

Anything else runs eagerly, as does every step when ``compile(run_eagerly=True)`` (or
``model.run_eagerly = True``). A model's tapes are dropped when it is compiled again or
its structure (layers, trainable flags) changes, and when a setting of one of its layers is
set from outside a call (``act.activation = relu``, ``norm.epsilon = 1.0``: Keras's
``model(x)`` is eager, so it sees the new setting at once); weights, optimizer settings and
adapted statistics are read at every step. Results equal the eager step's to the
last bit on chains of layers; where one output feeds three or more ops, gradients may be
summed in another order (to rounding). The first replay of every tape is checked against
the eager step (``compiled_step``), so a layer that breaks a rule it declared is caught
before its tape is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend
from ..annotations import Array, Structure
from ..autograd.capture import active_observer, capturing
from ..autograd.engine import _accumulate_leaf
from ..autograd.mode import GRAD_ENABLED
from ..autograd.tensor import Tensor
from ..layers import base as layers_base

if TYPE_CHECKING:
    from ..layers.base import Layer
    from .compiled_step import StepOwner
    from .trainer import Trainer

_NODE, _VARIABLE, _BATCH, _CONSTANT = range(4)
_CONSTANT_TYPES = (type(None), bool, int, float, str)
#: what a node may keep in its state besides those (and tuples of them): immutable values,
#: and random generators, shared by reference (a layer's own generator, which the eager step
#: would use too; a node that uses the library's generator looks it up in forward)
_STATE_CONSTANT_TYPES = (
    *_CONSTANT_TYPES,
    slice,
    type(Ellipsis),
    np.dtype,
    np.generic,
    np.random.Generator,
)


class RecorderBusy(RuntimeError):
    """This context records a step already (a step that runs a model's step inside)."""


class Recorder:
    """The observer of a step being recorded (``autograd.capture``): every op of this context
    is appended to ``entries``. Captures are per context, so steps of other threads run as
    they would."""

    def __init__(self):
        self.entries = []  # (function, inputs, its settings, outputs)
        self.output_losses = []  # (output index, loss Tensor) of a multi-output model
        self.entered = False
        self._scope: Any = None

    def record(self, function: Any, inputs: Structure, settings: dict, outputs: Structure) -> None:
        self.entries.append((function, inputs, settings, outputs))

    def __enter__(self):
        if active_observer() is not None:
            raise RecorderBusy("step_replay: this context records a step already")
        self._scope = capturing(self)
        self._scope.__enter__()
        self.entered = True
        return self

    def __exit__(self, *exc):
        if self._scope is not None:
            self._scope.__exit__(*exc)
        return False


class _Node:
    __slots__ = ("cls", "state", "batch_state", "sources", "variables", "records", "needs")

    def __init__(self, cls, state, batch_state, sources, records, needs):
        self.cls = cls
        self.state = state  # the Function's settings (Function.settings)
        self.batch_state = batch_state  # (attribute, batch index): state that is a batch array
        self.sources = sources  # per input: (kind, a, b)
        # per input: the Variable (for ops that read .inputs) or None
        self.variables = tuple(a if kind == _VARIABLE else None for kind, a, _ in sources)
        self.records = records  # whether the eager step recorded it (some input needs grad)
        self.needs = needs  # per input, whether its gradient is needed


class Tape:
    """The nodes of one recorded step and where its prediction and loss come from."""

    def __init__(self, nodes: list, prediction: Any, loss: Any, output_losses: Sequence = ()):
        self.nodes = nodes
        self.prediction = prediction  # the output's structure, (kind, a, b) at its leaves
        self.loss = loss  # (kind, a, b) of the total loss
        self.output_losses = output_losses  # (output index, (kind, a, b)) per tracked output
        # for a forward alone: the nodes whose outputs no later node reads, after each node
        kept = {s[1] for s in _sources_of(prediction) if s[0] == _NODE}
        kept |= {s[1] for s in [loss, *(s for _, s in output_losses)] if s and s[0] == _NODE}
        last_read = {}
        for i, node in enumerate(nodes):
            last_read[i] = i
            for kind, k, _ in node.sources:
                if kind == _NODE:
                    last_read[k] = i
        self.done_after: list[list[int]] = [[] for _ in nodes]
        for k, i in last_read.items():
            if k not in kept:
                self.done_after[i].append(k)

    def _forward(self, batch_arrays, functions=None):
        """Each node's forward on new batch arrays; the nodes' outputs, in tape order. With a
        ``functions`` list, the nodes that record (for backward) are appended to it; without,
        each output is dropped once no later node reads it (the eager forward's memory)."""
        outputs: list[tuple | None] = []
        for i, node in enumerate(self.nodes):
            args = [_resolve(source, outputs, batch_arrays) for source in node.sources]
            fn = node.cls.__new__(node.cls)
            fn.__dict__.update(node.state)
            if node.records:
                fn.recording, fn.needs_input_grad = True, node.needs
            for name, j in node.batch_state:  # e.g. the labels of a sparse cross-entropy
                fn.__dict__[name] = batch_arrays[j]
            ys = fn.forward(*args)
            ys = ys if isinstance(ys, tuple) else (ys,)
            outputs.append(ys)
            if functions is not None:
                fn.n_outputs = len(ys)
                fn.inputs = node.variables
                functions.append(fn if node.records else None)
            else:
                for k in self.done_after[i]:
                    outputs[k] = None
        return outputs

    def predict(self, batch_arrays: Sequence[Array]) -> Structure:
        """The model's output on new input arrays (a tape of an inference call)."""
        return _rebuild(self.prediction, self._forward(batch_arrays), batch_arrays)

    def train_forward(
        self, batch_arrays: Sequence[Array]
    ) -> tuple[Structure, Array, list, Callable[[], None]]:
        """The forward of a training step on new batch arrays: ``(prediction, loss,
        output_losses, backward)``: the model's output (Tensors without a graph), the total
        loss (an array), (output index, loss array) per tracked output, and a function
        that runs the backward, writing the variables' gradients as the engine does."""
        functions: list = []
        outputs = self._forward(batch_arrays, functions)
        loss = _resolve(self.loss, outputs, batch_arrays)
        # Tensors, as in the eager step: metrics (a user's too) get the same types
        prediction = _rebuild(self.prediction, outputs, batch_arrays)
        output_losses = [
            (i, _resolve(source, outputs, batch_arrays)) for i, source in self.output_losses
        ]
        return prediction, loss, output_losses, lambda: self._backward(functions, outputs, loss)

    def _backward(self, functions, outputs, loss):
        """Reverse-mode accumulation over the tape; each node's saved arrays and outputs are
        dropped once its backward ran (as the engine frees the graph as it goes)."""
        slots = [None] * len(self.nodes)
        kind, k, j = self.loss
        if kind != _NODE or functions[k] is None:
            return  # the loss does not depend on any variable
        slots[k] = [None] * len(outputs[k])
        slots[k][j] = backend.array_module(loss).ones_like(loss)  # as the engine seeds it
        given = set()
        recording = GRAD_ENABLED.set(False)
        try:
            for k in range(len(self.nodes) - 1, -1, -1):
                gys = slots[k]
                fn = functions[k]
                ys = outputs[k]
                slots[k] = functions[k] = outputs[k] = None
                if gys is None or fn is None:
                    continue
                if len(gys) > 1:  # outputs that received no gradient get zeros
                    gys = [
                        g if g is not None else backend.array_module(y).zeros_like(y)
                        for g, y in zip(gys, ys)
                    ]
                gxs = fn.backward(*gys)
                needs = fn.needs_input_grad
                fn = ys = gys = None  # the node's saved arrays go now
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for (kind, a, b), gx, needed in zip(self.nodes[k].sources, gxs, needs):
                    if gx is None or not needed:
                        continue
                    if kind == _NODE:
                        slot = slots[a]
                        if slot is None:
                            slot = slots[a] = [None] * len(outputs[a])
                        slot[b] = gx if slot[b] is None else slot[b] + gx
                    elif kind == _VARIABLE:
                        _accumulate_leaf(a, gx, given, False)
        finally:
            GRAD_ENABLED.reset(recording)


def _resolve(source, outputs, batch_arrays):
    kind, a, b = source
    if kind == _NODE:
        return outputs[a][b]
    if kind == _VARIABLE:
        return a.data
    if kind == _BATCH:
        return batch_arrays[a]
    return a


# ----------------------------------------------------------------------------- making tapes


def why_not_replayable(
    model: Trainer, owner: StepOwner, training: bool | None = True
) -> str | None:
    """Why the model-level rules of the module docstring exclude ``model``, or None
    (``training=False``: for an inference call, where the losses play no part). ``owner``
    says what the trainer knows of it (``compiled_step.StepOwner``)."""
    cls = type(model)
    if not owner.runs_graph:
        return f"{cls.__name__} is a subclassed model (its own call)"
    if training and owner.own_training_step:
        return f"{cls.__name__} overrides train_step or compute_loss"
    if cls.__call__ is not layers_base.Layer.__call__:
        return f"{cls.__name__} overrides __call__"
    losses = [loss for loss in owner.losses_per_output if loss is not None]
    if training and not losses:
        return "the model has no loss"
    for loss in losses if training else ():
        if not _is_builtin(loss):
            return f"the loss {getattr(loss, 'name', loss)!r} is not one of shendu's"
        fn = getattr(loss, "fn", None)  # a loss class's function, or a wrapped one
        if getattr(fn, "branches_on_values", False):
            return f"the loss {loss.name!r} branches on the targets' values"
    for layer in model.flatten_layers(include_self=False):
        if not (getattr(type(layer), "replay_safe", False) and _is_builtin(layer)):
            return f"layer {layer.name!r} ({type(layer).__name__}) is not replay_safe"
        if layer.activity_regularizer is not None:
            return f"layer {layer.name!r} has an activity regularizer"
        if getattr(layer, "stateful", False):
            return f"layer {layer.name!r} is stateful"
        if any(getattr(v, "regularizer", None) is not None for v in layer.variables):
            return f"layer {layer.name!r} has a weight regularizer"
    return None


class Refused(Exception):
    """A recorded step that a rule of the module docstring excludes (the message says which)."""


def _is_builtin(obj) -> bool:
    return type(obj).__module__.startswith("shendu.")


def build_tape(
    entries: Sequence,
    batch_arrays: Sequence[Array],
    variables: Sequence[Tensor],
    prediction: Any,
    loss: Any = None,
    model_layers: Sequence[Layer] = (),
    output_losses: Sequence = (),
) -> Tape:
    """A Tape from a recorder's entries; raises Refused when a rule of the module docstring
    fails. ``prediction``: the model's output (a Tensor, or a list, tuple or dict of them);
    ``loss``: the step's total loss (None for an inference call);
    ``output_losses``: (output index, loss Tensor) per output of a multi-output model."""
    batch_index = {id(a): i for i, a in enumerate(batch_arrays)}
    variable_ids = {id(v) for v in variables}
    # what node state may refer to: the model's variables and layers (by reference)
    referable = variable_ids | {id(layer) for layer in model_layers}
    made_by: dict[int, tuple[int, int]] = {}  # id(array) -> (node index, output index)
    keep_alive = []  # the ids above must not be reused while the tape is made
    nodes: list[_Node] = []

    def source_of(x, op):
        if isinstance(x, layers_base.Variable):
            if id(x) in variable_ids:
                return (_VARIABLE, x, 0)
            raise Refused(f"variable {x.path!r} is not one of the model's")
        array = x.data if isinstance(x, Tensor) else x
        if isinstance(array, _CONSTANT_TYPES):
            return (_CONSTANT, array, 0)
        if id(array) in made_by:
            return (_NODE, *made_by[id(array)])
        if id(array) in batch_index:
            return (_BATCH, batch_index[id(array)], 0)
        raise Refused(
            f"{op}: an input of type {type(array).__name__} was made in Python during the step"
        )

    for fn, inputs, state, ys in entries:  # state: the Function's settings
        op = type(fn).__name__
        if not _is_builtin(fn):
            raise Refused(f"op {op} is not one of shendu's")
        batch_state = []
        for name, value in state.items():
            if id(value) in batch_index:  # the batch arrays are alive: their ids are theirs
                batch_state.append((name, batch_index[id(value)]))
            elif not _is_constant(value, referable):
                raise Refused(f"{op} keeps a {type(value).__name__} ({name}) from before forward")
        sources = [source_of(x, op) for x in inputs]
        ys = ys if isinstance(ys, tuple) else (ys,)
        k = len(nodes)
        for j, y in enumerate(ys):
            made_by[id(y)] = (k, j)
            keep_alive.append(y)
        nodes.append(
            _Node(
                type(fn),
                state,
                tuple(batch_state),
                tuple(sources),
                fn.recording,
                fn.needs_input_grad,
            )
        )
    template = _template(prediction, lambda t: source_of(t, "the prediction"))
    roots = [source_of(loss, "the loss")] if loss is not None else []
    losses = [source_of(value, "an output's loss") for _, value in output_losses]
    nodes, renumber = _prune(nodes, roots + losses + _sources_of(template))
    return Tape(
        nodes,
        _map_sources(template, renumber),
        renumber(roots[0]) if roots else None,
        [(i, renumber(s)) for (i, _), s in zip(output_losses, losses)],
    )


def _template(value, source_of):
    """The structure of a model's output, with the source of each Tensor at its leaves (and
    of the logits behind a softmax output, which a cross-entropy uses as the eager step's
    would: ``ops.nn``)."""
    if isinstance(value, Tensor):
        logits = getattr(value, "_keras_logits", None)
        return ("leaf", source_of(value), None if logits is None else source_of(logits))
    if isinstance(value, dict):
        return ("dict", tuple(value), [_template(v, source_of) for v in value.values()])
    if isinstance(value, (list, tuple)):
        return ("seq", type(value), [_template(v, source_of) for v in value])
    raise Refused(f"the model's output is a {type(value).__name__}")


def _sources_of(template):
    """The sources at a template's leaves (the logits' too)."""
    found: list = []

    def collect(source):
        found.append(source)
        return source

    _map_sources(template, collect)
    return found


def _map_sources(template, fn):
    """The template with ``fn`` applied to the sources at each leaf."""
    if template[0] == "leaf":
        _, source, logits = template
        return ("leaf", fn(source), None if logits is None else fn(logits))
    kind, form, items = template
    return (kind, form, [_map_sources(item, fn) for item in items])


def _rebuild(template, outputs, batch_arrays):
    """The model's output from a template: Tensors (without a graph), as eagerly."""
    if template[0] == "leaf":
        _, source, logits = template
        tensor = Tensor.wrap(_resolve(source, outputs, batch_arrays))
        if logits is not None:
            tensor._keras_logits = Tensor.wrap(_resolve(logits, outputs, batch_arrays))
        return tensor
    kind, form, items = template
    values = [_rebuild(item, outputs, batch_arrays) for item in items]
    return dict(zip(form, values)) if kind == "dict" else form(values)


def _prune(nodes, roots):
    """Only the nodes the roots depend on, renumbered (the rest would be wasted work)."""
    needed = set()
    stack = [s[1] for s in roots if s[0] == _NODE]
    while stack:
        k = stack.pop()
        if k in needed:
            continue
        needed.add(k)
        stack.extend(s[1] for s in nodes[k].sources if s[0] == _NODE)
    new_index = {k: i for i, k in enumerate(sorted(needed))}

    def renumber(s):
        return (_NODE, new_index[s[1]], s[2]) if s[0] == _NODE else s

    kept = [nodes[k] for k in sorted(needed)]
    for node in kept:
        node.sources = tuple(renumber(s) for s in node.sources)
    return kept, renumber


def _is_constant(value, referable) -> bool:
    """Whether a node may keep ``value`` in its state: an immutable value, a generator, one
    of the model's variables or layers (by reference: e.g. the moving statistics of a batch
    norm, the layer whose statistics a standardisation reads), or a tuple or list of
    these."""
    if isinstance(value, (tuple, list)):  # lists: parsed specs, e.g. einsum's terms
        return all(_is_constant(v, referable) for v in value)
    if isinstance(value, (layers_base.Variable, layers_base.Layer)):
        return id(value) in referable
    return isinstance(value, _STATE_CONSTANT_TYPES)
