"""The compiled step: one model's training and inference steps, eager or replayed.

Keras compiles ``train_step`` into a graph (``make_train_function``); shendu records it
(``models.step_replay``) and replays the record on raw arrays. A ``CompiledStep`` belongs
to one compiled model (``compile(run_eagerly=False)``, the default) and keeps a tape per
batch signature (the batch arrays' shapes, dtypes and types). For each signature:

1. the first call runs eagerly (it may build the model or adapt a layer);
2. the second runs eagerly and is recorded through ``autograd.capture`` into a tape,
   unless a rule of ``step_replay`` refuses it;
3. the third replays the tape and checks it against the eager step on the same batch:
   from the same random-generator states and layer statistics, the replay's loss,
   prediction, gradients and updated statistics must equal the eager step's (to
   rounding). The eager results are the ones applied. A difference keeps the signature
   eager, with the reason in ``why_eager``; replay safety rests on this check as well as
   on the layers' ``replay_safe`` declarations;
4. later calls replay.

An inference call (``model(x, training=False)`` without a graph: evaluate, predict,
validation) follows the same sequence with its own tapes; its check compares outputs.

Eager and replayed training steps end in one ``apply``: the loss tracker, the gradients
(zeroed, then written by the engine or by the tape's backward) and the optimizer update.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend
from ..annotations import Structure
from ..autograd.capture import active_observer
from ..autograd.tensor import Tensor
from ..layers import base as layers_base
from . import data as data_mod
from .step_replay import Recorder, RecorderBusy, Refused, build_tape, why_not_replayable

if TYPE_CHECKING:
    from .trainer import Trainer

#: how many batch signatures keep a tape; the oldest is dropped first
MAX_TAPES = 8
#: how many signatures are remembered as seen once (their next step is recorded)
MAX_SEEN = 1024
#: the largest difference between a replayed and an eager step, relative to the largest
#: value of each compared array, that still counts as rounding (per dtype size)
TOLERANCE = {2: 1e-2, 4: 1e-4, 8: 1e-10}


@dataclass(frozen=True)
class StepOwner:
    """What a step needs from the model's trainer beyond the public Model API, handed over
    with each step (the step reads nothing of the trainer behind its back):

    - ``loss_tracker``: the mean of the batches' losses, weighted by their sizes;
    - ``track_output_loss(i, value, batch_size)``: output ``i``'s loss tracker;
    - ``losses_per_output``: the compiled loss of each output (None: none);
    - ``runs_graph``: calling the model computes its graph and nothing else;
    - ``own_training_step``: the model's class brings its train_step or compute_loss.
    """

    loss_tracker: Any
    track_output_loss: Callable[[int, float, int], None]
    losses_per_output: tuple
    runs_graph: bool
    own_training_step: bool


def apply_step(
    model: Trainer,
    owner: StepOwner,
    loss_value: float,
    n_samples: int,
    backward: Callable[[], None],
) -> None:
    """The end of every training step, eager or replayed: track the loss, write the
    gradients (``backward()``, after clearing the old ones) and update the variables. A
    model without trainable variables (all frozen, or only ``add_loss`` layers) tracks the
    loss and updates nothing, as Keras's empty update."""
    owner.loss_tracker.update_state(loss_value, sample_weight=n_samples)
    variables = model.trainable_weights
    if not variables:
        return
    for v in variables:
        v.grad = None
    backward()
    # the gradients are of the loss itself, not of optimizer.scale_loss(loss)
    model.optimizer.apply([v.grad for v in variables], variables, scaled=False)


def eager_train_step(
    model: Trainer,
    owner: StepOwner,
    x: Structure,
    y: Structure,
    sample_weight: Structure,
    observer: Recorder | None = None,
) -> tuple[Structure, Tensor]:
    """One training step through the layers, the losses and the engine; returns
    ``(y_pred, loss)``. With an ``observer`` (a ``Recorder``), the forward is captured.
    (The call, a top-level one, starts the layers' losses afresh: ``Layer.__call__``.)"""
    with observer if observer is not None else contextlib.nullcontext():
        y_pred = model(x, **training_flag(model))
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
    apply_step(model, owner, loss.item(), data_mod.batch_size_of(x), loss.backward)
    return y_pred, loss


def training_flag(model: Trainer) -> dict:
    """``{"training": True}`` for a model whose ``call`` takes ``training``, else nothing,
    as Keras's trainers call the model: a subclassed model whose ``call(self, x)`` has no
    ``training`` runs its layers as they run by default (a Dropout inside does nothing),
    where passing the flag would switch them to training through the call context."""
    return {"training": True} if model.call_has_training else {}


def eager_inference_call(model: Trainer, x: Structure) -> Structure:
    """``model(x, training=False)`` through the layers (not back into the replay: with a
    call context open, ``Layer.__call__`` does not hand a nested call to the replay)."""
    with layers_base.nested_call():
        return model(x, training=False)


class CompiledStep:
    """A model's tapes, one per batch signature, and the choice between replay and eager,
    for training steps (``train``) and, separately, for inference calls (``predict``)."""

    def __init__(self):
        self.tapes = {}  # signature -> Tape, or None where the step stays eager
        self.verified = set()  # signatures whose tape matched the eager step
        self.structure = None
        self.replayable = None
        #: why the last refused model or step runs eagerly (None: nothing refused)
        self.why_eager = None
        self.seen = set()  # signatures that ran one eager step (the first builds the model)
        self.inference_tapes = {}  # the same for inference calls
        self.inference_verified = set()
        self.inference_seen = set()
        self.inference_replayable = None
        #: why the last refused model or inference call runs eagerly (None: nothing refused)
        self.why_eager_inference = None

    def clear(self) -> None:
        for collection in (self.tapes, self.verified, self.seen):
            collection.clear()
        for collection in (self.inference_tapes, self.inference_verified, self.inference_seen):
            collection.clear()
        self.replayable = self.why_eager = None
        self.inference_replayable = self.why_eager_inference = None

    def _check_structure(self):
        structure = layers_base.structure_version()
        if structure != self.structure:
            self.clear()
            self.structure = structure

    @staticmethod
    def _tape_for(tapes, seen, signature):
        """The Tape to replay for ``signature``, True to record this call, or False to run
        it eagerly (the signature's first call, a refused one, or a call inside a step
        being recorded)."""
        tape = tapes.get(signature, False)
        if tape:
            return tape
        if active_observer() is not None:  # a step of this context is being recorded
            return False
        if tape is None or signature not in seen:
            if len(seen) >= MAX_SEEN:  # e.g. a new sequence length every batch
                seen.clear()
            seen.add(signature)
            return False
        return True

    # ------------------------------------------------------------------ training
    def train(
        self,
        model: Trainer,
        owner: StepOwner,
        x: Structure,
        y: Structure,
        sample_weight: Structure,
    ) -> Structure:
        """One training step (replayed, checked, or eager and maybe recorded); returns
        y_pred."""
        self._check_structure()
        if self.replayable is None:
            self.why_eager = why_not_replayable(model, owner)
            self.replayable = self.why_eager is None
        if not self.replayable or y is None:
            return eager_train_step(model, owner, x, y, sample_weight)[0]
        batch_arrays = data_mod.leaves(x) + data_mod.leaves(y) + data_mod.leaves(sample_weight)
        signature = _signature(batch_arrays)
        tape = self._tape_for(self.tapes, self.seen, signature)
        if tape is False:
            return eager_train_step(model, owner, x, y, sample_weight)[0]
        if tape is True:
            return self._record(model, owner, x, y, sample_weight, batch_arrays, signature)
        if signature not in self.verified:
            return self._check(model, owner, tape, x, y, sample_weight, batch_arrays, signature)
        n = data_mod.batch_size_of(x)
        prediction, loss, output_losses, backward = tape.train_forward(batch_arrays)
        for i, value in output_losses:
            owner.track_output_loss(i, value, n)
        apply_step(model, owner, loss.item(), n, backward)
        return prediction

    def _record(self, model, owner, x, y, sample_weight, batch_arrays, signature):
        recorder = Recorder()
        try:
            y_pred, loss = eager_train_step(model, owner, x, y, sample_weight, observer=recorder)
        except RecorderBusy:
            if recorder.entered:
                raise
            return eager_train_step(model, owner, x, y, sample_weight)[0]
        try:
            if model.losses:  # regularisers were refused: these came from add_loss
                raise Refused("a layer added a loss during the step (add_loss)")
            tape = build_tape(
                recorder.entries,
                batch_arrays,
                model.weights,
                y_pred,
                loss,
                model.flatten_layers(include_self=False),
                recorder.output_losses,
            )
        except Refused as refusal:
            tape, self.why_eager = None, str(refusal)
        _store(self.tapes, self.verified, signature, tape)
        return y_pred

    def _check(self, model, owner, tape, x, y, sample_weight, batch_arrays, signature):
        """The first replay of a tape, checked against the eager step on the same batch;
        the eager step's results are applied."""
        state = _MutableState(model, tape)
        variables = model.trainable_weights
        for v in variables:
            v.grad = None
        prediction, loss, _, backward = tape.train_forward(batch_arrays)
        backward()
        replayed = {
            "loss": loss,
            "prediction": _arrays_of(prediction),
            "gradients": [None if v.grad is None else v.grad.data.copy() for v in variables],
            "statistics": state.current(),
        }
        state.restore()
        y_pred = model(x, **training_flag(model))  # a top-level call: losses start afresh
        eager_loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        difference = []

        def backward_and_compare():
            eager_loss.backward()
            eager = {
                "loss": eager_loss.data,
                "prediction": _arrays_of(y_pred),
                "gradients": [None if v.grad is None else v.grad.data for v in variables],
                "statistics": state.current(),
            }
            difference.append(_difference(replayed, eager))

        apply_step(
            model, owner, eager_loss.item(), data_mod.batch_size_of(x), backward_and_compare
        )
        if difference[0] is None:
            self.verified.add(signature)
        else:
            self.tapes[signature] = None
            self.why_eager = f"the replayed step differed from the eager step: {difference[0]}"
        return y_pred

    # ------------------------------------------------------------------ inference
    def predict(self, model: Trainer, owner: StepOwner, x: Structure) -> Structure:
        """``model(x, training=False)`` for a call without a graph (under no_grad):
        replayed, checked, or eager and maybe recorded, by the rules of training steps
        without the losses'. The tape holds the forward alone."""
        self._check_structure()
        if self.inference_replayable is None:
            self.why_eager_inference = why_not_replayable(model, owner, training=False)
            self.inference_replayable = self.why_eager_inference is None
        if not self.inference_replayable:
            return eager_inference_call(model, x)
        batch_arrays = [a.data if isinstance(a, Tensor) else a for a in data_mod.leaves(x)]
        if not all(hasattr(a, "shape") and hasattr(a, "dtype") for a in batch_arrays):
            return eager_inference_call(model, x)  # e.g. Python lists: converted in the call
        signature = _signature(batch_arrays)
        tape = self._tape_for(self.inference_tapes, self.inference_seen, signature)
        if tape is False:
            return eager_inference_call(model, x)
        if tape is True:
            return self._record_inference(model, x, batch_arrays, signature)
        if signature in self.inference_verified:
            return tape.predict(batch_arrays)
        replayed = {"prediction": _arrays_of(tape.predict(batch_arrays))}
        y_pred = eager_inference_call(model, x)
        difference = _difference(replayed, {"prediction": _arrays_of(y_pred)})
        if difference is None:
            self.inference_verified.add(signature)
        else:
            self.inference_tapes[signature] = None
            self.why_eager_inference = (
                f"the replayed call differed from the eager call: {difference}"
            )
        return y_pred

    def _record_inference(self, model, x, batch_arrays, signature):
        recorder = Recorder()
        try:
            with recorder:
                y_pred = eager_inference_call(model, x)
        except RecorderBusy:
            if recorder.entered:
                raise
            return eager_inference_call(model, x)
        try:
            tape = build_tape(
                recorder.entries,
                batch_arrays,
                model.weights,
                y_pred,
                model_layers=model.flatten_layers(include_self=False),
            )
        except Refused as refusal:
            tape, self.why_eager_inference = None, str(refusal)
        _store(self.inference_tapes, self.inference_verified, signature, tape)
        return y_pred


class _MutableState:
    """What a training step's forward may change besides its outputs: the random
    generators it draws from (the library's, and any a node keeps) and the model's
    non-trainable variables (e.g. batch-norm statistics). ``restore`` puts them back."""

    def __init__(self, model, tape):
        generators = {id(backend.generator()): backend.generator()}
        for node in tape.nodes:
            for value in _flat_values(node.state.values()):
                if isinstance(value, np.random.Generator):
                    generators[id(value)] = value
        self.generators = [(g, g.bit_generator.state) for g in generators.values()]
        self.variables = list(model.non_trainable_weights)
        self.values = [v.data.copy() for v in self.variables]

    def current(self):
        return [v.data.copy() for v in self.variables]

    def restore(self):
        for g, state in self.generators:
            g.bit_generator.state = state
        for v, value in zip(self.variables, self.values):
            v.data[...] = value


def _flat_values(values):
    for value in values:
        if isinstance(value, (tuple, list)):
            yield from _flat_values(value)
        else:
            yield value


def _arrays_of(structure):
    """The arrays of a model output (Tensors in a list, tuple or dict), in order."""
    return [leaf.data if isinstance(leaf, Tensor) else leaf for leaf in data_mod.leaves(structure)]


def _difference(replayed, eager):
    """None when every array of ``replayed`` equals its ``eager`` counterpart to rounding,
    else what differed and by how much."""
    for what, expected in eager.items():
        got = replayed[what]
        pairs = list(zip(got, expected)) if isinstance(expected, list) else [(got, expected)]
        for i, (a, b) in enumerate(pairs):
            where = what if len(pairs) == 1 else f"{what} {i}"
            if a is None or b is None:
                if a is not b:
                    return f"{where}: one step computed it, the other did not"
                continue
            a, b = backend.to_numpy(a), backend.to_numpy(b)
            if a.shape != b.shape:
                return f"{where}: shapes {a.shape} and {b.shape}"
            if a.dtype.kind not in "fc":
                if not np.array_equal(a, b):
                    return f"{where}: values differ"
                continue
            if not np.array_equal(np.isnan(a), np.isnan(b)):
                return f"{where}: NaN in different places"
            finite = ~np.isnan(b)
            if not finite.any():
                continue
            error = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
            scale = float(np.max(np.abs(b[finite]), initial=0.0))
            tolerance = TOLERANCE.get(b.dtype.itemsize, 1e-4) * max(scale, 1e-30)
            if not error <= tolerance:
                return f"{where}: largest difference {error:.3g} (largest value {scale:.3g})"
    return None


def _signature(batch_arrays):
    """What a tape is kept under: each batch array's shape, dtype and type."""
    return tuple((a.shape, a.dtype.str, type(a)) for a in batch_arrays)


def _store(tapes, verified, signature, tape):
    if len(tapes) >= MAX_TAPES:
        oldest = next(iter(tapes))
        tapes.pop(oldest)
        verified.discard(oldest)
    tapes[signature] = tape
