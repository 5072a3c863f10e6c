"""Training: compile, fit, evaluate, predict and the overridable steps.

``train_step`` follows the define-by-run template: forward, ``compute_loss``,
``loss.backward()``, ``optimizer.apply(grads, variables)``, then the metrics.
Override it (and ``test_step`` / ``predict_step``) for custom training (GANs,
VAEs); everything around it (batching, callbacks, the progress bar, validation)
keeps working.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import os
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend, blas, config, heap
from .. import callbacks as callbacks_mod
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import optimizers as optimizers_mod
from .. import saving_registry as files
from ..annotations import Structure
from ..autograd.capture import active_observer
from ..autograd.mode import GRAD_ENABLED, no_grad
from ..autograd.tensor import Tensor
from ..layers.tracking import metrics_of, structure_version
from . import data as data_mod
from .compiled_step import CompiledStep, StepOwner, eager_inference_call, eager_train_step
from .data_parallel import LocalTraining
from .epoch_iterator import RAN_OUT, EpochIterator, Executions
from .step_replay import Recorder
from .thread_tuning import BlasThreadTuner

if TYPE_CHECKING:
    from ..callbacks import Callback, History
    from .data_parallel import DataParallel


if TYPE_CHECKING:
    from ..layers.base import Layer as _LayerForTypes
else:
    _LayerForTypes = object


class Trainer(_LayerForTypes):
    """The training half of ``Model`` (a Model is a Trainer and a Layer; the type checker
    sees the Layer's members here, at run time the base is ``object``)."""

    # ``model(x)`` under no_grad (inference, at the top level) goes to _inference_call
    _replays_inference = True

    def __init__(self):
        self.compiled = False
        self.optimizer: Any = None  # an Optimizer once compiled
        self.stop_training = False
        self.history = None
        self._compile_config = None
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self.run_eagerly = False  # Keras's default; compile() sets it again

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
        distribute: str | None = None,
    ) -> None:
        """Configure training: optimizer, loss(es), loss weights and metrics.

        ``loss`` and ``metrics`` may be given per output as lists or dicts keyed by
        output name. Unknown names raise with the nearest valid name.
        ``steps_per_execution`` groups the steps as Keras does for the batch callbacks
        (they run at the first and after the last step of each group; the steps
        themselves are the same). ``jit_compile`` and ``auto_scale_loss`` are accepted
        for Keras code and change nothing: shendu has no XLA compiler (its training steps
        are recorded and replayed, ``models.step_replay``) and scales a float16 loss
        only through ``mixed_precision.LossScaleOptimizer``.

        Args:
            optimizer: an Optimizer, or its name ("rmsprop", "adam", "sgd", ...).
            loss: a Loss, a loss function or its name; a list or dict of them for a model of
                several outputs (None for an output that has no loss).
            loss_weights: a list or dict of floats: each output's loss is multiplied by its
                weight before they are summed.
            metrics: metrics (objects, functions or names such as "accuracy") computed on each
                batch; a list, or a list or dict per output.
            weighted_metrics: metrics computed with the batch's ``sample_weight``.
            run_eagerly: True runs every step through the layers' Python code (no recorded
                step replayed).
            steps_per_execution: how many steps make one group for the batch callbacks.
            jit_compile: accepted for Keras code; changes nothing.
            auto_scale_loss: accepted for Keras code; changes nothing.
            distribute: None, or "mpi" for data-parallel training over the MPI ranks.
        """
        if distribute not in (None, "mpi"):
            raise ValueError(
                f"compile: `distribute` must be None or 'mpi'. Received: distribute={distribute!r}"
            )
        if (
            isinstance(steps_per_execution, bool)
            or not isinstance(steps_per_execution, (int, np.integer))
            or steps_per_execution < 1
        ):
            raise ValueError(
                "compile: `steps_per_execution` must be a positive integer. Received: "
                f"steps_per_execution={steps_per_execution!r}"
            )
        from .data_parallel import DataParallel

        self.__dict__["_distribute_strategy"] = DataParallel() if distribute == "mpi" else None
        optimizer = optimizers_mod.get(optimizer)
        if (
            not getattr(self, "output_names", None)
            and isinstance(loss, (list, tuple))
            and len(loss) > 1
        ):  # a subclassed model's outputs are known once it runs: one per loss, as Keras
            self.__dict__["_assumed_output_names"] = [f"output_{i}" for i in range(len(loss))]
        names = self._output_names_for_compile()
        self._losses_per_output = self._per_output(loss, names, "loss", losses_mod.get)
        if loss_weights is None:
            self._loss_weights = [1.0] * len(names)
        elif isinstance(loss_weights, dict):
            unknown = set(loss_weights) - set(names)
            if unknown:
                raise ValueError(
                    f"compile: `loss_weights` names unknown outputs {sorted(unknown)}. "
                    f"Outputs: {names}"
                )
            self._loss_weights = [float(loss_weights.get(n, 1.0)) for n in names]
            _check_finite_weights(self._loss_weights, "loss_weights", loss_weights)
        else:
            lw = list(loss_weights) if isinstance(loss_weights, (list, tuple)) else [loss_weights]
            if len(lw) != len(names):
                raise ValueError(
                    f"compile: expected {len(names)} loss weights. Received: {loss_weights}"
                )
            self._loss_weights = [float(w) for w in lw]
            _check_finite_weights(self._loss_weights, "loss_weights", loss_weights)
        self._metric_specs = self._per_output_metrics(metrics, names, "metrics")
        self._weighted_metric_specs = self._per_output_metrics(
            weighted_metrics, names, "weighted_metrics"
        )
        self._metric_objects: list = self._make_metrics()  # (output, metric, weighted)
        self._output_loss_trackers = (
            [metrics_mod.Mean(name=f"{n}_loss") for n in names] if len(names) > 1 else []
        )
        self.optimizer = optimizer
        self.loss = loss
        self.run_eagerly = bool(run_eagerly)  # a new CompiledStep: no tape of the old setup
        self.steps_per_execution = steps_per_execution
        self.compiled = True
        self._compile_config = {
            "optimizer": optimizers_mod.serialize(optimizer),
            "loss": _serialize_loss_arg(loss),
            "loss_weights": loss_weights,
            "metrics": _serialize_metrics_arg(metrics),
            "weighted_metrics": _serialize_metrics_arg(weighted_metrics),
            "run_eagerly": bool(run_eagerly),
            "steps_per_execution": int(steps_per_execution),
        }
        if distribute is not None:  # shendu's own argument: not in a Keras file's config
            self._compile_config["distribute"] = distribute

    def _output_names_for_compile(self):
        names = getattr(self, "output_names", None)
        if names:
            return list(names)
        assumed = self.__dict__.get("_assumed_output_names")
        return list(assumed) if assumed else ["output"]

    @staticmethod
    def _per_output(spec, names, what, getter):
        if spec is None:
            return [None] * len(names)
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(
                    f"compile: `{what}` names unknown outputs {sorted(unknown)}. Outputs: {names}"
                )
            return [getter(spec[n]) if n in spec else None for n in names]
        if isinstance(spec, (list, tuple)):
            if len(spec) != len(names):
                raise ValueError(
                    f"compile: expected {len(names)} values for `{what}` (one per output). "
                    f"Received: {len(spec)}"
                )
            return [getter(s) for s in spec]
        obj = getter(spec)
        return [obj] + [getter(spec) for _ in names[1:]]

    @staticmethod
    def _per_output_metrics(spec, names, what):
        if spec is None:
            return [[] for _ in names]
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(
                    f"compile: `{what}` names unknown outputs {sorted(unknown)}. Outputs: {names}"
                )
            out = [
                list(spec[n])
                if isinstance(spec.get(n), (list, tuple))
                else ([spec[n]] if n in spec else [])
                for n in names
            ]
        elif (
            isinstance(spec, (list, tuple))
            and len(names) > 1
            and len(spec) == len(names)
            and all(isinstance(s, (list, tuple)) for s in spec)
        ):
            out = [list(s) for s in spec]
        else:
            items = list(spec) if isinstance(spec, (list, tuple)) else [spec]
            out = [list(items) for _ in names]
        for group in out:  # resolve names now so that typos fail at compile time
            for m in group:
                if isinstance(m, str) and m not in ("accuracy", "acc"):
                    metrics_mod.get(m)
        return out

    # ------------------------------------------------------------------ metrics
    def _make_metrics(self):
        """The compiled metrics, made at compile time (Keras's names; "accuracy" settles
        its kind at the first update: ``metrics.AutoAccuracy``)."""
        names = self._output_names_for_compile()
        objects: list = []
        for specs_attr, weighted in (("_metric_specs", False), ("_weighted_metric_specs", True)):
            for i, group in enumerate(getattr(self, specs_attr)):
                for spec in group:
                    m: metrics_mod.Metric
                    if isinstance(spec, str) and spec in ("accuracy", "acc"):
                        m = metrics_mod.AutoAccuracy(spec, self._losses_per_output[i])
                    elif isinstance(spec, metrics_mod.Metric):
                        m = spec
                    else:
                        m = metrics_mod.get(spec)
                    if len(names) > 1:
                        m.name = f"{names[i]}_{m.name}"
                    objects.append((i, m, weighted))
        plain = {m.name for _, m, weighted in objects if not weighted}
        for _, m, weighted in objects:  # Keras: "weighted_" only where a name would repeat
            if weighted and m.name in plain:
                m.name = f"weighted_{m.name}"
        return objects

    @property
    def metrics(self) -> list:
        """Keras's order: the loss tracker(s), the compiled metrics, then the metrics the
        model and its layers hold as attributes (``self.kl_tracker = metrics.Mean()``)."""
        out = [self._loss_tracker] + list(getattr(self, "_output_loss_trackers", []))
        out += [m for _, m, _ in (self._metric_objects or [])]
        cache = self.__dict__.get("_tracker_cache")
        if cache is None or cache[0] != structure_version():
            held = [m for layer in self.flatten_layers() for m in metrics_of(layer)]
            cache = self.__dict__["_tracker_cache"] = (structure_version(), held)
        seen = {id(m) for m in out}
        return out + [m for m in cache[1] if id(m) not in seen]

    def get_state_tree(self, value_format: str = "backend_tensor") -> dict:
        """Every variable, optimizer and metric state as one nested dict, as Keras's (see
        ``models.state_tree``); ``value_format="numpy_array"`` gives NumPy arrays."""
        from .state_tree import get_state_tree

        return get_state_tree(self, value_format)

    def set_state_tree(self, state_tree: dict) -> None:
        """Set the state a tree of ``get_state_tree``'s form names."""
        from .state_tree import set_state_tree

        set_state_tree(self, state_tree)

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def _as_output_list(self, y):
        names = self._output_names_for_compile()
        if isinstance(y, dict):
            missing = [n for n in names if n not in y]
            if missing:
                raise ValueError(
                    f"Targets are missing for outputs {missing}. Received keys: {sorted(y)}"
                )
            return [y[n] for n in names]
        if isinstance(y, (list, tuple)) and len(names) > 1:
            if len(y) != len(names):
                raise ValueError(
                    f"Expected {len(names)} targets (one per output). Received: {len(y)}"
                )
            return list(y)
        return [y]

    def compute_loss(
        self,
        x: Structure | None = None,
        y: Structure | None = None,
        y_pred: Structure | None = None,
        sample_weight: Structure | None = None,
        training: bool | None = True,
    ) -> Tensor:
        """The weighted sum of the per-output losses plus the layers' losses (regularisers,
        add_loss)."""
        ys, preds = self._as_output_list(y), self._as_output_list(y_pred)
        sws = (
            self._as_output_list(sample_weight)
            if isinstance(sample_weight, (list, dict))
            else [sample_weight] * len(preds)
        )
        total = None
        for i, (loss_fn, w, t, p, sw) in enumerate(
            zip(self._losses_per_output, self._loss_weights, ys, preds, sws)
        ):
            if loss_fn is None:
                continue
            if t is None:
                raise ValueError(
                    "compute_loss: the model has a loss but no targets (y) were given"
                )
            value = loss_fn(t, p, sample_weight=sw)
            if self._output_loss_trackers:
                self._track_output_loss(i, value.data, data_mod.batch_size_of(p))
                recorder = active_observer()
                if isinstance(recorder, Recorder):  # a step being recorded needs these
                    recorder.output_losses.append((i, value))
            term = value * w if w != 1.0 else value
            total = term if total is None else total + term
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(
                "compute_loss: no loss to compute. Pass `loss` to compile() or override "
                "compute_loss / train_step."
            )
        return total

    def _track_output_loss(self, i, value, batch_size):
        """Output ``i``'s loss tracker (a model of several outputs), weighted by the batch
        size as Keras weights it."""
        self._output_loss_trackers[i].update_state(float(value), sample_weight=batch_size)

    def compute_metrics(
        self, x: Structure, y: Structure, y_pred: Structure, sample_weight: Structure | None = None
    ) -> dict:
        """Update the compiled metrics and return every metric's current result."""
        if self._metric_objects:
            ys, preds = self._as_output_list(y), self._as_output_list(y_pred)
            for i, m, weighted in self._metric_objects:
                m.update_state(ys[i], preds[i], sample_weight if weighted else None)
        return self.get_metrics_result()

    def _metrics_result_or_logs(self, logs):
        """Keras's rule: the metrics' results when the step reported the compiled metrics,
        else what a custom train_step returned."""
        names = {m.name for m in self.metrics}
        if logs and not set(logs) <= names:
            return {k: _to_float(v) for k, v in logs.items()}
        return dict(self.get_metrics_result())

    def get_metrics_result(self) -> dict:
        return {m.name: _to_float(m.result()) for m in self.metrics}

    # ------------------------------------------------------------------ steps
    def train_step(self, data: Any) -> dict:
        """One optimisation step on a batch; returns the metrics' current results.

        Unless the model runs eagerly, a step of a model that qualifies is recorded once,
        checked, and then replayed on raw arrays (``shendu.models.compiled_step``)."""
        x, y, sample_weight = data_mod.unpack(data)
        compiled = self.__dict__.get("_compiled_step")
        if compiled is None:
            y_pred = eager_train_step(self, self._step_owner(), x, y, sample_weight)[0]
        else:
            y_pred = compiled.train(self, self._step_owner(), x, y, sample_weight)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _step_owner(self) -> StepOwner:
        """What the compiled step needs of this trainer, handed to it with each step (made
        again when compile or building changes what it holds)."""
        losses = tuple(self.__dict__.get("_losses_per_output", ()))
        runs_graph = self._call_runs_graph()
        owner = self.__dict__.get("_step_owner_made")
        if (
            owner is None
            or owner.runs_graph != runs_graph
            or owner.losses_per_output != losses
            or owner.loss_tracker is not self._loss_tracker
        ):
            owner = StepOwner(
                loss_tracker=self._loss_tracker,
                track_output_loss=self._track_output_loss,
                losses_per_output=losses,
                runs_graph=runs_graph,
                own_training_step=self._overrides_training_step(),
            )
            self.__dict__["_step_owner_made"] = owner
        return owner

    def _call_runs_graph(self) -> bool:
        """Whether calling the model computes its graph and nothing else (``Model`` knows;
        the compiled step replays only such models)."""
        return False

    @classmethod
    def _overrides_training_step(cls) -> bool:
        """Whether the model's class brings its own ``train_step`` or ``compute_loss``."""
        return cls.train_step is not Trainer.train_step or (
            cls.compute_loss is not Trainer.compute_loss
        )

    @property
    def compiled_step(self) -> CompiledStep | None:
        """The model's ``CompiledStep`` (its recorded steps, and ``why_eager``: what keeps
        a step eager), or None when the model runs eagerly."""
        return self.__dict__.get("_compiled_step")

    @property
    def run_eagerly(self) -> bool:
        """False (the default, before ``compile`` too): a qualifying model's training step,
        and its forward pass in ``evaluate`` and ``predict``, are recorded once and replayed
        on raw arrays (``shendu.models.compiled_step``). True: every step and call runs
        through the layers' Python code (for debugging, or a layer that must)."""
        return self.__dict__.get("_compiled_step") is None

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self.__dict__["_compiled_step"] = None if value else CompiledStep()

    def _inference_call(self, x):
        """``self(x, training=False)``; without a graph (under no_grad) and unless the model
        runs eagerly, a qualifying model's call is recorded once and then replayed
        (``shendu.models.compiled_step``)."""
        compiled = self.__dict__.get("_compiled_step")
        if compiled is None or GRAD_ENABLED.get():
            return eager_inference_call(self, x)
        return compiled.predict(self, self._step_owner(), x)

    def test_step(self, data: Any) -> dict:
        x, y, sample_weight = data_mod.unpack(data)
        self.clear_losses()
        y_pred = self._inference_call(x)
        extra = {"training": False} if _accepts_training(type(self).compute_loss) else {}
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **extra)
        self._loss_tracker.update_state(loss.item(), sample_weight=data_mod.batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Structure:
        x, _, _ = data_mod.unpack(data)
        return self._inference_call(x)

    # ------------------------------------------------------------------ data
    def _accepts_nan(self):
        """True when a layer of the model handles missing values itself (e.g.
        ``Normalization(impute_nan=True)``): then NaN in ``x`` is not an error."""
        return any(getattr(layer, "accepts_nan", False) for layer in self.flatten_layers())

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(
                f"You must call compile() before {what}. Received: an uncompiled model "
                f"{self.name!r}"
            )

    def _accepts_text(self):
        """True when the model takes strings: a string ``Input`` or a layer that reads text
        (TextVectorization, StringLookup, Hashing)."""
        return any(
            getattr(layer, "accepts_text", False) or layer.dtype == "object"
            for layer in self.flatten_layers()
        )

    def _make_batches(
        self, x, y, sample_weight, batch_size, shuffle, steps, class_weight=None, check_finite=True
    ):
        if data_mod.is_array_like(x):
            text = any(
                np.dtype(getattr(leaf, "dtype", np.float32)).kind == "O"
                for leaf in data_mod.leaves(x)
            )
            if text and not self._accepts_text():  # the layers are walked only for text
                raise TypeError(
                    "`x` must hold numbers: the model takes no text (no string Input, "
                    "TextVectorization or StringLookup). Received an array of Python "
                    "objects (dtype=object)"
                )
        return data_mod.adapter(
            x,
            y,
            sample_weight,
            batch_size,
            shuffle,
            steps,
            class_weight,
            check_finite,
            nan_in_x=self._accepts_nan(),
        )

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Structure | None = None,
        y: Structure | None = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Sequence[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict | None = None,
        sample_weight: Structure | None = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> History:
        """Train for ``epochs`` epochs; returns a History (``model.history``).

        A loop over a data adapter (``models.data``), the training step (``train_step``)
        and hooks: the callbacks (with History and the progress bar) in one list, the
        thread tuner (``models.thread_tuning``) and, with ``compile(distribute="mpi")``,
        the data-parallel strategy (``models.data_parallel``). A callback may move the
        starting epoch (``Callback.starting_epoch``: BackupAndRestore resumes).

        Args:
            x: the inputs: an array (or a list or dict of arrays for several inputs), a
                generator or a data pipeline yielding ``(x, y)`` or ``(x, y, sample_weight)``.
            y: the targets, as ``x`` (None when ``x`` yields them).
            batch_size: samples per step (default 32; not with generators and pipelines).
            epochs: the epoch to stop after (counted from 0, with ``initial_epoch``).
            verbose: "auto" or 1: a progress bar; 2: one line per epoch; 0: silent.
            callbacks: Callbacks called during training (History and the progress bar are added).
            validation_split: the fraction of the arrays, taken from the end before shuffling,
                held out for validation.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``, or a
                pipeline, evaluated at the end of each epoch.
            shuffle: shuffle the arrays before each epoch.
            class_weight: a dict class index -> weight multiplying each sample's loss.
            sample_weight: an array of per-sample weights (or per time step).
            initial_epoch: the epoch to start from (to resume training).
            steps_per_epoch: batches per epoch; the data runs on across epochs, as in Keras.
            validation_steps: batches per validation pass.
            validation_batch_size: the batch size of validation (default ``batch_size``).
            validation_freq: validate every this many epochs.
        """
        self._require_compiled("fit")
        epochs, steps_per_epoch = _epoch_limits(epochs, steps_per_epoch)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_mod.split_validation(
                x, y, sample_weight, validation_split
            )
        strategy = self.distribute_strategy or LocalTraining()  # one path for both
        train = strategy.batches(self, x, y, sample_weight, batch_size, shuffle, class_weight)
        verbose, callbacks = strategy.verbose(verbose), strategy.callbacks(callbacks or [])
        val = self._validation_batches(
            validation_data, validation_batch_size or batch_size, validation_steps
        )
        self.history = history = callbacks_mod.History()
        verbose = 1 if verbose == "auto" else verbose
        progress = [callbacks_mod.ProgbarLogger(verbose=verbose)] if verbose else []
        steps = steps_per_epoch if steps_per_epoch is not None else train.steps
        cb = callbacks_mod.CallbackList(
            [*(callbacks or []), *progress, history],
            self,
            {"epochs": epochs, "steps": steps, "verbose": verbose},
        )
        if self.trainable_weights:  # one vectorised update (docs/benchmarks.md)
            self.optimizer.fuse_variables(self.trainable_weights)
        self.stop_training = False
        cb.on_train_begin()
        initial_epoch = strategy.begin(self, cb.starting_epoch(initial_epoch))
        tuner = self.__dict__.setdefault("_blas_tuner", BlasThreadTuner())
        reducing = strategy.reducing_gradients(self.optimizer)
        logs = {}
        device = getattr(self, "device", None)
        # process-wide speed settings, in force while fit runs (shendu.heap, shendu.blas)
        epochs_of = EpochIterator(train, steps_per_epoch)
        with heap.kept_for_reuse(), blas.short_spin(), tuner.fitting(device), reducing:
            for epoch in range(initial_epoch, epochs):
                epoch_logs = self._fit_epoch(epoch, epochs_of, cb, tuner)
                if epoch_logs is None:  # the data has run out (a generator): training ends
                    warnings.warn(RAN_OUT, UserWarning, stacklevel=2)
                    break
                logs = strategy.epoch_logs(self, epoch_logs)
                if val is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_batches(val, cb)  # None: no batches, no values
                    logs.update({f"val_{k}": v for k, v in (val_logs or {}).items()})
                cb.on_epoch_end(epoch, logs)
                strategy.end_epoch(self)
                if self.stop_training:
                    break
        self.optimizer.finalize_variable_values(self.trainable_weights)
        cb.on_train_end(logs)
        return history

    def _fit_epoch(self, epoch, epochs_of, cb, tuner):
        """One epoch of training steps (``epochs_of``: an ``EpochIterator``); returns the
        epoch's logs, or None when a later epoch finds the data used up."""
        self.reset_metrics()
        cb.on_epoch_begin(epoch)  # first: a callback may set the state the batches draw on
        batches = epochs_of.epoch(epoch)
        first = next(batches, None)
        if first is None:
            if epochs_of.passes > 1:
                return None
            raise ValueError("fit: the training data produced no batches")
        logs, step, runs = {}, 0, self._executions()
        for batch in itertools.chain([first], batches):
            if runs.begins(step):
                cb.on_train_batch_begin(step)
            tuner.begin_step()
            logs = self.train_step(self._on_device(data_mod.pack(*batch)))
            tuner.end_step()
            if runs.ends(step):
                cb.on_train_batch_end(step, logs)
            step += 1
            if self.stop_training:
                break
        if runs.last_index(step) is not None:
            cb.on_train_batch_end(runs.last_index(step), logs)
        return self._metrics_result_or_logs(logs)

    def _executions(self) -> Executions:
        """Keras's executions of ``compile(steps_per_execution=...)`` for batch callbacks."""
        return Executions(self.__dict__.get("steps_per_execution", 1))

    def _validation_batches(self, validation_data, batch_size, steps):
        if validation_data is None:
            return None
        if isinstance(validation_data, (tuple, list)):
            vx, vy, vsw = data_mod.unpack(tuple(validation_data))
        else:
            vx, vy, vsw = validation_data, None, None
        batches = self._make_batches(vx, vy, vsw, batch_size, False, steps)
        if hasattr(vx, "__next__"):  # a one-shot generator: its batches serve every epoch
            return data_mod.KeptBatches(batches)
        return batches

    @property
    def distribute_strategy(self) -> DataParallel | None:
        """The data-parallel strategy (``compile(distribute="mpi")``), or None."""
        return self.__dict__.get("_distribute_strategy")

    # ------------------------------------------------------------------ evaluate / predict
    def _on_device(self, batch):
        """The batch on the model's device (``model.to("gpu")``); unchanged on the CPU."""
        device = getattr(self, "device", None) or backend.device()
        if device == "cpu":
            return batch
        return data_mod.map_leaves(batch, lambda a: backend.to_device_array(a, device))

    def _evaluate_batches(self, batches, cb=None, bar=None):
        """The loss and metrics over one pass of ``batches``: the one test loop, of
        ``evaluate`` and of a fit's validation (whose callbacks ``cb`` see the
        ``on_test_*`` hooks, as in Keras); ``bar``: evaluate's progress bar. None when
        there were no batches (a pass with no data has no loss: not 0.0)."""
        self.reset_metrics()
        logs = {}
        if cb is not None:
            cb.on_test_begin()
        step, runs = -1, self._executions()
        with no_grad(), heap.kept_for_reuse():  # freed batches reused (shendu.heap)
            for step, batch in enumerate(EpochIterator(batches).epoch(0)):
                if cb is not None and runs.begins(step):
                    cb.on_test_batch_begin(step)
                logs = self.test_step(self._on_device(data_mod.pack(*batch)))
                if cb is not None and runs.ends(step):
                    cb.on_test_batch_end(step, logs)
                if bar is not None:
                    bar.update(step + 1, logs, finalize=False)
        if cb is not None and runs.last_index(step + 1) is not None:
            cb.on_test_batch_end(runs.last_index(step + 1), logs)
        if step < 0:
            if cb is not None:
                cb.on_test_end({})
            return None
        logs = self._metrics_result_or_logs(logs)
        if cb is not None:
            cb.on_test_end(logs)
        return logs

    def evaluate(
        self,
        x: Structure | None = None,
        y: Structure | None = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Structure | None = None,
        steps: int | None = None,
        callbacks: Sequence[Callback] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics on the data: a scalar, a list (loss first) or a dict.

        Args:
            x: the inputs, as in ``fit``.
            y: the targets, as in ``fit``.
            batch_size: samples per step (default 32).
            verbose: "auto" or 1: a progress bar; 0: silent.
            sample_weight: an array of per-sample weights.
            steps: how many batches to evaluate (default: all).
            callbacks: Callbacks called during evaluation.
            return_dict: return a dict of the metrics' names and values.
        """
        self._require_compiled("evaluate")
        batches = self._make_batches(x, y, sample_weight, batch_size, False, steps)
        if verbose == "auto":
            verbose = 1
        bar = None
        if verbose:
            from ..utils.progbar import Progbar

            bar = Progbar(batches.steps, verbose=verbose, stateless_metrics=())
        cb = callbacks_mod.CallbackList(
            callbacks or [], self, {"steps": batches.steps, "verbose": verbose}
        )
        logs = self._evaluate_batches(batches, cb, bar)
        if logs is None:
            raise ValueError(
                "evaluate: the data produced no batches (an empty array or an exhausted "
                "generator): there is nothing to compute the loss on"
            )
        if bar is not None:
            bar.update(bar.seen, logs, finalize=True)
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    def predict(
        self,
        x: Structure,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        steps: int | None = None,
        callbacks: Sequence[Callback] | None = None,
    ) -> Any:
        """Model outputs for ``x`` as NumPy arrays, computed in batches without a graph.

        Args:
            x: the inputs: an array, a list or dict of arrays, a generator or a pipeline.
            batch_size: samples per step (default 32).
            verbose: "auto" or 1: a progress bar; 0: silent.
            steps: how many batches to predict (default: all).
            callbacks: Callbacks called during prediction.
        """
        if not callbacks and data_mod.is_array_like(x):
            if isinstance(x, Tensor) or isinstance(x, np.ndarray):
                n = x.shape[0]
                if n <= (batch_size or 32):  # one batch: no slicing or concatenation
                    with no_grad():
                        out = self.predict_step(self._on_device(x))
                    return data_mod.as_numpy_structure(out)
        batches = self._make_batches(x, None, None, batch_size, False, steps, check_finite=False)
        cb = callbacks_mod.CallbackList(
            callbacks or [], self, {"steps": batches.steps, "verbose": 0}
        )
        return self._predict_batches(batches, cb)

    def _predict_batches(self, batches, cb):
        """The outputs over one pass of ``batches`` (predict's one loop), calling the
        ``on_predict_*`` hooks (the batch's outputs in the batch-end logs under
        ``"outputs"``, as Keras passes them)."""
        outs, i, runs = [], -1, self._executions()
        hooks = bool(cb.callbacks)
        if hooks:
            cb.on_predict_begin()
        with no_grad(), heap.kept_for_reuse():  # freed batches reused (shendu.heap)
            for i, batch in enumerate(EpochIterator(batches).epoch(0)):
                if hooks and runs.begins(i):
                    cb.on_predict_batch_begin(i)
                out = data_mod.as_numpy_structure(
                    self.predict_step(self._on_device(data_mod.pack(*batch)))
                )
                outs.append(out)
                if hooks and runs.ends(i):
                    cb.on_predict_batch_end(i, {"outputs": out})
        if hooks and runs.last_index(i + 1) is not None:
            cb.on_predict_batch_end(runs.last_index(i + 1), {"outputs": outs[-1]})
        if hooks:
            cb.on_predict_end()
        if not outs:
            raise ValueError("predict: the input produced no batches")
        return _concat(outs)

    def train_on_batch(
        self,
        x: Structure,
        y: Structure | None = None,
        sample_weight: Structure | None = None,
        class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One training step on one batch; returns the loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x, y, sw, _ = data_mod.prepare(x, y, sample_weight)
        if class_weight is not None:
            sw = data_mod.class_weight_to_sample_weight(class_weight, y, sw)
        self.reset_metrics()
        logs = self.train_step(data_mod.pack(x, y, sw))
        return logs if return_dict else _logs_to_values(logs, self)

    def test_on_batch(
        self,
        x: Structure,
        y: Structure | None = None,
        sample_weight: Structure | None = None,
        return_dict: bool = False,
    ) -> Any:
        self._require_compiled("test_on_batch")
        x, y, sw, _ = data_mod.prepare(x, y, sample_weight)
        self.reset_metrics()
        with no_grad():
            logs = self.test_step(data_mod.pack(x, y, sw))
        return logs if return_dict else _logs_to_values(logs, self)

    def predict_on_batch(self, x: Structure) -> Any:
        x, _, _, _ = data_mod.prepare(x, check_finite=False)
        with no_grad():
            return data_mod.as_numpy_structure(self.predict_step(data_mod.pack(x)))

    # ------------------------------------------------------------------ saving hooks
    def get_compile_config(self) -> dict | None:
        """The arguments of ``compile``, with the optimizer the model has now (it may have
        been replaced since: ``model.optimizer = ...``)."""
        if self._compile_config is None:
            return None
        config = dict(self._compile_config)
        if self.optimizer is not None:
            config["optimizer"] = optimizers_mod.serialize(self.optimizer)
        return config

    def compile_from_config(self, config: dict) -> None:
        if not config:
            return
        self.compile(
            optimizer=optimizers_mod.get(config["optimizer"]),
            loss=_deserialize_loss_arg(config.get("loss")),
            loss_weights=config.get("loss_weights"),
            metrics=config.get("metrics"),
            weighted_metrics=config.get("weighted_metrics"),
            distribute=config.get("distribute"),
        )

    def save(
        self,
        filepath: str | os.PathLike,
        overwrite: bool = True,
        zipped: bool | None = None,
        include_optimizer: bool = True,
    ) -> None:
        """Save to one file (``.shendu``, or Keras's ``.keras``; see ``shendu.saving``).
        ``zipped=False`` (Keras's unzipped folder) is refused: shendu writes one archive,
        atomically, so that no fault leaves half a model behind."""
        save_model = files.saving("save_model")
        save_model(
            self,
            filepath,
            overwrite=overwrite,
            zipped=zipped,
            include_optimizer=include_optimizer,
        )

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        files.saving("save_weights")(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        files.saving("load_weights")(self, filepath)


@functools.cache
def _accepts_training(compute_loss: Callable) -> bool:
    """Whether a ``compute_loss`` takes ``training`` (shendu's does; one written with
    Keras's documented signature may not, and is then called without it, as Keras does)."""
    params = inspect.signature(compute_loss).parameters
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _to_float(v):
    if isinstance(v, Tensor):
        v = backend.to_numpy(v.data)
    if isinstance(v, np.ndarray) and v.ndim > 0:
        return v
    return float(v)


def _logs_to_values(logs, model):
    values = [logs[m.name] for m in model.metrics if m.name in logs]
    return values[0] if len(values) == 1 else values


def _concat(outs):
    first = outs[0]
    if isinstance(first, (list, tuple)):
        return [np.concatenate([o[i] for o in outs]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: np.concatenate([o[k] for o in outs]) for k in first}
    return np.concatenate(outs)


def _epoch_limits(epochs, steps_per_epoch):
    """``epochs`` and ``steps_per_epoch`` checked and capped by ``keras.config``'s limits."""
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"Expected `epochs` as a non-negative integer. Received: {epochs!r}")
    if config.max_epochs() is not None:  # keras.config.set_max_epochs
        epochs = min(epochs, config.max_epochs())
    cap = config.max_steps_per_epoch()
    if cap is not None:
        steps_per_epoch = min(steps_per_epoch or cap, cap)
    return epochs, steps_per_epoch


def _check_finite_weights(weights, name, given):
    if not all(np.isfinite(w) for w in weights):
        raise ValueError(f"compile: `{name}` must be finite numbers. Received: {name}={given}")


def _serialize_loss_arg(loss):
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss_arg(v) for v in loss]
    if isinstance(loss, dict):
        return {k: _serialize_loss_arg(v) for k, v in loss.items()}
    if isinstance(loss, losses_mod.Loss):
        return losses_mod.serialize(loss)
    return getattr(loss, "__name__", None)


def _deserialize_loss_arg(loss):
    if isinstance(loss, list):
        return [_deserialize_loss_arg(v) for v in loss]
    if isinstance(loss, dict) and "class_name" not in loss:
        return {k: _deserialize_loss_arg(v) for k, v in loss.items()}
    return losses_mod.get(loss)


def _serialize_metrics_arg(metrics):
    if metrics is None or isinstance(metrics, str):
        return metrics
    if isinstance(metrics, (list, tuple)):
        return [_serialize_metrics_arg(m) for m in metrics]
    if isinstance(metrics, dict):
        return {k: _serialize_metrics_arg(v) for k, v in metrics.items()}
    if isinstance(metrics, metrics_mod.Metric):
        return {"class_name": type(metrics).__name__, "config": metrics.get_config()}
    return getattr(metrics, "__name__", None)


__all__ = ["Trainer"]
