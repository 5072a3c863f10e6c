"""The optimizer base: gradient clipping, weight decay, schedules, EMA and saved state.

An optimizer updates variables in place from their gradients. Three entry points:
``apply(grads, variables)`` (Keras 3), ``apply_gradients(zip(grads, variables))``
and, PyTorch-style, ``step()`` on the ``.grad`` of the variables it was given
(``zero_grad()`` clears them). Each step, in order: clip the gradients
(``clipnorm`` per variable, or ``global_clipnorm``, or ``clipvalue``), apply
decoupled weight decay w <- w - lr * weight_decay * w, run the subclass's
``update`` for every variable, apply constraints, advance ``iterations`` and
update the moving averages when ``use_ema``.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend, parallel
from ..annotations import Array, TensorLike

if TYPE_CHECKING:
    from .fused import FusedStorage
from ..autograd.tensor import Tensor
from ..naming import snake_case
from . import schedules


def _check_positive(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"Expected a positive number for `{name}`. Received: {name}={value!r}")
    return float(value)


#: a learning rate: a number, a schedule of the step, or a function of nothing
LearningRate = float | schedules.LearningRateSchedule | Callable[[], float]


def _array(g):
    """A gradient as an array (a Tensor's data)."""
    return g.data if isinstance(g, Tensor) else g


def _reduced(reduce, g):
    g = g.copy()
    reduce(g)
    return g


class Optimizer:
    """Base class; subclasses implement ``build_slots(variable)`` and ``update``."""

    slot_names: tuple = ()
    #: True when ``update`` treats every element on its own (no shapes, no reductions), so
    #: that it may run on slices of a large variable in parallel. Built-in rules set it; a
    #: custom optimizer keeps False unless its rule is elementwise too.
    elementwise: bool = False

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        params: Sequence[Tensor] | None = None,
        **kwargs: Any,
    ):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized arguments {sorted(kwargs)}")
        clip_args = {
            "clipnorm": clipnorm,
            "clipvalue": clipvalue,
            "global_clipnorm": global_clipnorm,
        }
        given = {n: v for n, v in clip_args.items() if v is not None}
        if len(given) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: {', '.join(f'{n}={v}' for n, v in given.items())}"
            )
        self.clipnorm = _check_positive("clipnorm", clipnorm)
        self.clipvalue = _check_positive("clipvalue", clipvalue)
        self.global_clipnorm = _check_positive("global_clipnorm", global_clipnorm)
        if weight_decay is not None and (
            not isinstance(weight_decay, (int, float))
            or not math.isfinite(weight_decay)
            or weight_decay < 0
        ):
            raise ValueError(
                f"Expected a non-negative `weight_decay`. Received: weight_decay={weight_decay!r}"
            )
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"`ema_momentum` must be in [0, 1]. Received: {ema_momentum}")
        self.use_ema, self.ema_momentum = bool(use_ema), float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if gradient_accumulation_steps is not None and (
            not isinstance(gradient_accumulation_steps, int)
            or isinstance(gradient_accumulation_steps, bool)
            or gradient_accumulation_steps < 2
        ):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.loss_scale_factor = _check_positive("loss_scale_factor", loss_scale_factor)
        # gradient accumulation: the calls since the last update, and the sum of their
        # gradients per variable (by id)
        self._accumulated_calls = 0
        self._accumulated: dict[int, Array] = {}
        self.name = name or snake_case(type(self).__name__)  # Keras: "sgd", "rm_sprop"
        self._learning_rate = self._make_lr(learning_rate)
        self.iterations = 0
        self._variables: list = []
        self._slots: list = []
        self._ema: list = []
        self._index: dict = {}
        self._exclude_ids: set = set()
        self._exclude_names: tuple = ()
        self._exclusions_version = 0  # bumped by exclude_from_weight_decay
        self._fuse = False  # set by fuse_variables: keep the updated variables fused
        # their FusedStorage (rebuilt when the variable set changes)
        self._fused: FusedStorage | None = None
        # set within gradient_reduction()
        self._reduce_gradients: Callable[[Array], Any] | None = None
        self.built = False
        # PyTorch style: the variables that step() updates (slots are made at the first step)
        self._params = list(params) if params is not None else []

    @staticmethod
    def _make_lr(lr):
        if isinstance(lr, schedules.LearningRateSchedule) or callable(lr):
            return lr
        if (
            not isinstance(lr, (int, float, np.floating, np.integer))
            or isinstance(lr, bool)
            or not math.isfinite(lr)
            or lr < 0
        ):
            raise ValueError(
                f"Expected `learning_rate` as a non-negative finite float or a schedule. "
                f"Received: learning_rate={lr!r}"
            )
        return float(lr)

    # --- learning rate ---
    @property
    def learning_rate(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        self._learning_rate = self._make_lr(value)

    lr = learning_rate

    # --- state ---
    def build(self, variables: Sequence[Tensor]) -> None:
        """Create the slots for ``variables`` (in order)."""
        for v in variables:
            if id(v) in self._index:
                continue
            self._index[id(v)] = len(self._variables)
            self._variables.append(v)
            self._slots.append(self.build_slots(v))
            if self.use_ema:
                self._ema.append(v.data.copy())
        self.built = True

    def build_slots(self, variable: Tensor) -> dict:
        xp = backend.array_module(variable.data)
        return {name: xp.zeros_like(variable.data) for name in self.slot_names}

    def state_nbytes(self, variables: Sequence[Tensor]) -> int | None:
        """The bytes of slot and moving-average state ``variables`` would take, known before
        any slot exists (a loader checks a file against it); None when the subclass makes
        slots of its own kind (``build_slots`` overridden without ``slot_names``)."""
        if not self.slot_names and type(self).build_slots is not Optimizer.build_slots:
            return None
        per_variable = len(self.slot_names) + (1 if self.use_ema else 0)
        return sum(per_variable * v.data.nbytes for v in variables)

    @property
    def built_variables(self) -> list:
        """The variables this optimizer holds state for, in the order of its state."""
        return list(self._variables)

    @property
    def variables(self) -> list:
        """The optimizer state as arrays, in ``get_state``'s order: iterations, each
        variable's slots, the moving averages, then a subclass's counters."""
        return list(self.get_state().values())

    def stateless_apply(
        self,
        optimizer_variables: Sequence[TensorLike],
        grads: Sequence[TensorLike | None],
        trainable_variables: Sequence[TensorLike],
    ) -> tuple[list, list]:
        """One update in Keras's functional form: from the state ``optimizer_variables``
        (a list like ``variables``) and the values ``trainable_variables`` of the
        variables this optimizer was built for, returns ``(new trainable values, new
        optimizer state)``; the optimizer and its variables are left as they were."""
        if not self.built:
            raise ValueError(
                f"{type(self).__name__}.stateless_apply: build the optimizer first "
                "(optimizer.build(model.trainable_variables))"
            )
        variables, names = self._variables, list(self.get_state())
        for kind, given, expected in (
            ("optimizer_variables", optimizer_variables, names),
            ("trainable_variables", trainable_variables, variables),
        ):
            if len(given) != len(expected):
                raise ValueError(
                    f"{type(self).__name__}.stateless_apply: expected {len(expected)} "
                    f"{kind}. Received: {len(given)}"
                )
        saved_state = self.get_state()
        saved_values = [v.data.copy() for v in variables]
        saved_accumulation = (self._accumulated_calls, dict(self._accumulated))
        try:
            self.set_state(dict(zip(names, (_array(value) for value in optimizer_variables))))
            for variable, value in zip(variables, trainable_variables):
                variable.data[...] = _array(value)
            self.apply(grads, variables)
            new_values = [v.data.copy() for v in variables]
            return new_values, self.variables
        finally:
            self.set_state(saved_state)
            for variable, value in zip(variables, saved_values):
                variable.data[...] = value
            self._accumulated_calls, self._accumulated = saved_accumulation

    def get_state(self) -> dict:
        """Named copies of every state array (for saving and exact resume)."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for i, (v, slots) in enumerate(zip(self._variables, self._slots)):
            for name, arr in slots.items():
                state[f"{i}/{v.path or 'var'}/{name}"] = backend.to_numpy(arr).copy()
        for i, arr in enumerate(self._ema):
            state[f"ema/{i}"] = backend.to_numpy(arr).copy()
        for k, arr in self._extra_named_state().items():
            state[k] = np.asarray(arr).copy()
        return state

    def set_state(self, state: dict) -> None:
        expected = self.get_state()
        missing = set(expected) - set(state)
        if missing:
            raise ValueError(f"{type(self).__name__}.set_state: missing entries {sorted(missing)}")
        state = {
            k: np.reshape(state[k], np.shape(v))
            if np.size(state[k]) == np.size(v) == 1
            else state[k]
            for k, v in expected.items()
        }
        for k, v in expected.items():
            if np.shape(state[k]) != np.shape(v):
                raise ValueError(
                    f"{type(self).__name__}.set_state: {k} expected shape {np.shape(v)}. "
                    f"Received: {np.shape(state[k])}"
                )
        self.iterations = int(state["iterations"])
        for i, (v, slots) in enumerate(zip(self._variables, self._slots)):
            for name in slots:
                slots[name][...] = state[f"{i}/{v.path or 'var'}/{name}"]
        for i, arr in enumerate(self._ema):
            arr[...] = state[f"ema/{i}"]
        self._set_extra_named_state(state)

    def state_arrays(self) -> dict:
        """The live arrays of the state under ``get_state``'s names (the slots and moving
        averages, not copies): a loader reads a file's state straight into them."""
        arrays = {}
        for i, (v, slots) in enumerate(zip(self._variables, self._slots)):
            for name, arr in slots.items():
                arrays[f"{i}/{v.path or 'var'}/{name}"] = arr
        for i, arr in enumerate(self._ema):
            arrays[f"ema/{i}"] = arr
        return arrays

    def set_counters(self, state: dict) -> None:
        """Restore the state that is not an array of ``state_arrays``: ``iterations`` and
        the subclass's scalars (Nadam's momentum product)."""
        state = {k: np.asarray(v).reshape(()) for k, v in state.items()}
        self.iterations = int(state["iterations"])
        self._set_extra_named_state(state)

    def counter_names(self) -> list:
        """The names in ``get_state`` that ``set_counters`` restores."""
        return ["iterations", *self._extra_named_state()]

    def _extra_named_state(self):
        return {}

    def _set_extra_named_state(self, state):
        pass

    def exclude_from_weight_decay(
        self, var_list: Sequence[Tensor] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Exclude variables (or variables whose name contains one of ``var_names``) from
        weight decay. Keras allows this only before the optimizer is built; shendu honours
        it at any time, from the next update on (fused storage included)."""
        self._exclude_ids |= {id(v) for v in (var_list or [])}
        self._exclude_names = tuple(var_names or ())
        self._exclusions_version += 1

    # --- fused storage ---
    def fuse_variables(self, variables: Sequence[Tensor]) -> bool:
        """Keep the variables this optimizer updates in fused storage (``optimizers.fused``):
        values, gradients and slots each in one contiguous array, updated by a handful of
        vectorised operations whatever the number of variables. Results equal the
        per-variable path's (to rounding).

        The request stands: when ``apply`` is later given another set of variables (a
        layer frozen or unfrozen, a variable added) or a variable's array was replaced, the
        storage is rebuilt for them. Returns False (and keeps the per-variable path) for a
        rule that is not ``elementwise`` or variables of several dtypes or devices."""
        from .fused import can_fuse

        variables = list(variables)
        if not self.elementwise or can_fuse(variables) is not None:
            return False
        self._fuse = True
        return self._fused_for(variables) is not None

    def _fused_for(self, variables):
        """The FusedStorage of ``variables``, rebuilt if they changed; None if they cannot
        be fused."""
        from .fused import FusedStorage, can_fuse

        fused = self._fused
        if fused is not None and fused.matches(variables):
            return fused
        if can_fuse(variables) is not None:
            return None
        if fused is not None:
            fused.release()  # variables that left the set get arrays of their own again
            self._fused = None
        self.build(variables)
        slots = [self._slots[self._index[id(v)]] for v in variables]
        if any(s.shape != v.shape for own, v in zip(slots, variables) for s in own.values()):
            return None  # a custom rule's slots not shaped like their variable
        self._fused = FusedStorage(variables, slots)
        return self._fused

    @contextlib.contextmanager
    def gradient_reduction(self, reduce: Callable[[Array], Any]) -> Iterator[Optimizer]:
        """Within the block, ``reduce(array)`` runs on the gradients before every update
        and changes them in place: on the fused gradient buffer (one call per step) or on a
        copy of each variable's gradient. Data-parallel training averages them over ranks
        this way (``models.data_parallel``), custom ``train_step`` methods included."""
        previous = self._reduce_gradients
        self._reduce_gradients = reduce
        try:
            yield self
        finally:
            self._reduce_gradients = previous

    def _apply_fused(self, fused, grads):
        g = fused.gather(grads)
        if self._reduce_gradients is not None:
            self._reduce_gradients(g)
        xp = backend.array_module(g)
        if self.clipnorm:
            norms = fused.segment_norms(g)
            scale = self.clipnorm / xp.maximum(norms, self.clipnorm)
            g = g * xp.repeat(scale, fused.sizes)
        elif self.global_clipnorm:
            total = float(xp.sqrt((g * g).sum()))
            if total > self.global_clipnorm:
                g = g * (self.global_clipnorm / total)
        elif self.clipvalue:
            g = xp.clip(g, -self.clipvalue, self.clipvalue)
        lr = self.learning_rate
        self._before_update()
        w = fused.params
        if self.weight_decay:
            key = (self._exclusions_version, len(self._exclude_ids))
            for lo, hi in fused.decay_ranges(self._decays, key):
                w[lo:hi] -= w[lo:hi] * (self.weight_decay * lr)
        self._run_update(g, w, fused.slots, lr)
        for v in fused.variables:
            if v.constraint is not None:
                v.data[...] = v.constraint(v.data)
        self.iterations += 1
        if self.use_ema:
            self._update_ema()

    # --- applying ---
    def scale_loss(self, loss: Any) -> Any:
        """``loss * loss_scale_factor`` (the loss itself when it is None): what Keras's
        train steps differentiate; ``apply`` divides the gradients by the same factor."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def apply(
        self,
        grads: Sequence[TensorLike | None],
        trainable_variables: Sequence[Tensor] | None = None,
        *,
        scaled: bool = True,
    ) -> None:
        """Update ``trainable_variables`` (default: those given before) with ``grads``.

        With ``loss_scale_factor``, the gradients are taken to be of ``scale_loss(loss)``
        and divided by the factor, as Keras's; ``scaled=False`` says they are of the loss
        itself (``fit``'s steps: in float32 the scaling cancels exactly). With
        ``gradient_accumulation_steps`` k, the variables change on every k-th call only,
        with the mean of the k calls' gradients (``iterations`` counts those updates).
        """
        if trainable_variables is None:
            trainable_variables = self._variables
        grads = list(grads)
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                f"{len(variables)} variables"
            )
        if scaled and self.loss_scale_factor is not None:
            factor = self.loss_scale_factor
            grads = [None if g is None else _array(g) / factor for g in grads]
        if self.gradient_accumulation_steps:
            accumulated = self._accumulate(grads, variables)
            if accumulated is None:
                return
            grads = accumulated
        if self._fuse and all(g is not None for g in grads):
            fused = self._fused_for(variables)
            if fused is not None:
                self._apply_fused(fused, grads)
                return
        pairs = []
        for g, v in zip(grads, variables):
            if g is None:
                continue
            g = g.data if isinstance(g, Tensor) else g
            if g.shape != v.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient of shape {g.shape} for variable "
                    f"{v.path!r} of shape {v.shape}"
                )
            pairs.append((g, v))
        if not pairs:
            return
        if self._reduce_gradients is not None:  # not fused: one reduction per variable
            reduce = self._reduce_gradients
            pairs = [(_reduced(reduce, g), v) for g, v in pairs]
        self.build([v for _, v in pairs])
        grads = self._clip([g for g, _ in pairs])
        lr = self.learning_rate
        self._before_update()
        for g, (_, v) in zip(grads, pairs):
            decay = self._weight_decay_for(v)
            if decay:
                v.data -= v.data * (decay * lr)
            self._run_update(g, v.data, self._slots[self._index[id(v)]], lr)
            if getattr(v, "constraint", None) is not None:
                v.data[...] = v.constraint(v.data)
        self.iterations += 1
        if self.use_ema:
            self._update_ema()

    def _accumulate(self, grads: list, variables: list) -> list | None:
        """Add ``grads`` to the sums; on every k-th call return the means and restart the
        sums, else None (no update this call)."""
        self._accumulated_calls += 1
        steps = self.gradient_accumulation_steps
        assert steps is not None
        update = self._accumulated_calls % steps == 0
        out: list = []
        for g, v in zip(grads, variables):
            if g is None:
                out.append(None)
                continue
            g = _array(g)
            total = self._accumulated.get(id(v))
            total = g.copy() if total is None else total + g
            if update:
                out.append(total / steps)
                self._accumulated.pop(id(v), None)
            else:
                self._accumulated[id(v)] = total
        return out if update else None

    def apply_gradients(self, grads_and_vars: Iterable[tuple[TensorLike | None, Tensor]]) -> int:
        """Keras 2 style: ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def step(self) -> None:
        """PyTorch style: update every variable from its ``.grad``."""
        variables = self._params or self._variables
        if not variables:
            raise RuntimeError(
                f"{type(self).__name__}.step(): no variables. Pass them at construction "
                "(params=model.trainable_variables) or call apply(grads, variables)."
            )
        self.apply([v.grad for v in variables], variables)

    def zero_grad(self) -> None:
        for v in self._params or self._variables:
            v.grad = None

    def _weight_decay_for(self, v) -> float | None:
        """The decoupled weight decay rate of variable ``v`` (None: no decay)."""
        return self.weight_decay if self.weight_decay and self._decays(v) else None

    def _decays(self, v):
        if id(v) in self._exclude_ids:
            return False
        return not any(n in (v.path or "") for n in self._exclude_names)

    def _before_update(self):
        """Hook for state shared by all variables of one step (Nadam's momentum product)."""

    def _clip(self, grads):
        xp = backend.array_module(grads[0])
        if self.clipnorm:
            out = []
            for g in grads:
                n = float(xp.sqrt((g * g).sum()))
                out.append(g * (self.clipnorm / max(n, self.clipnorm)))
            return out
        if self.global_clipnorm:
            total = math.sqrt(sum(float((g * g).sum()) for g in grads))
            scale = self.global_clipnorm / max(total, self.global_clipnorm)
            return [g * scale for g in grads] if scale < 1 else grads
        if self.clipvalue:
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _update_ema(self):
        m = self.ema_momentum
        for avg, v in zip(self._ema, self._variables):
            if self.iterations == 1:
                avg[...] = v.data
            else:
                avg *= m
                avg += (1 - m) * v.data
        f = self.ema_overwrite_frequency
        if f and self.iterations % f == 0:
            self.finalize_variable_values(self._variables)

    def swap_ema_weights(self) -> None:
        """Exchange each variable's values with its moving average (``use_ema``): called
        twice, everything is back (``callbacks.SwapEMAWeights`` evaluates this way)."""
        if not self.use_ema:
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={self.use_ema}"
            )
        for avg, v in zip(self._ema, self._variables):
            held = v.data.copy()
            v.data[...] = avg
            avg[...] = held

    def finalize_variable_values(self, var_list: Sequence[Tensor] | None = None) -> None:
        """Copy the moving averages into the variables (end of ``fit`` when ``use_ema``):
        those of ``var_list`` when given, else all."""
        if not self.use_ema:
            return
        chosen = None if var_list is None else {id(v) for v in var_list}
        for avg, v in zip(self._ema, self._variables):
            if chosen is None or id(v) in chosen:
                v.data[...] = avg

    def update(self, g: Array, w: Array, slots: dict, lr: float) -> None:
        raise NotImplementedError

    def _run_update(self, g, w, slots, lr):
        """``update``, on slices of the arrays in parallel (shendu.parallel) when the rule is
        ``elementwise`` and the variable is a large contiguous NumPy array."""
        if (
            not self.elementwise
            or w.size < parallel.MIN_ELEMENTS
            or backend.array_module(w) is not np
            or not w.flags.c_contiguous
            or not all(s.flags.c_contiguous for s in slots.values())
        ):
            self.update(g, w, slots, lr)
            return
        g_flat, w_flat = g.reshape(-1), w.reshape(-1)
        slots_flat = {name: s.reshape(-1) for name, s in slots.items()}

        def chunk(a, b):
            self.update(g_flat[a:b], w_flat[a:b], {n: s[a:b] for n, s in slots_flat.items()}, lr)

        parallel.for_chunks(chunk, w.size, w.size)

    def _scratch(self, like):
        """A reusable work array shaped like ``like``: updates write their temporaries here
        instead of allocating (large temporaries cost page faults on every step)."""
        cache = self.__dict__.setdefault("_scratch_cache", {})
        # one per thread: the slices of a parallel update (shendu.parallel) run concurrently
        key = (like.shape, like.dtype.str, type(like), threading.get_ident())
        buf = cache.get(key)
        if buf is None:
            buf = cache[key] = backend.array_module(like).empty_like(like)
        return buf

    # --- config ---
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        """The optimizer of ``get_config``'s output; a schedule in it may be one of
        ``custom_objects``."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.deserialize(lr, custom_objects)
        return cls(**config)
