"""Callbacks with Keras's hooks: History, ProgbarLogger, EarlyStopping, ModelCheckpoint,
ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN, LambdaCallback."""

from __future__ import annotations

import csv
import inspect
import math
import os
import sys
import time
import warnings
from typing import Any

import numpy as np

from . import saving_registry as files
from .utils.progbar import Progbar


class Callback:
    """Base class. ``self.model`` is set by ``fit``; set ``self.model.stop_training = True``
    to stop after the current epoch."""

    def __init__(self):
        self.model: Any = None  # the Model, once fit (or set_model) has given it
        self.params: dict = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def _siblings(self):
        """The callbacks of the running fit (set by CallbackList), this one included."""
        return getattr(self, "_fit_callbacks", ())

    def starting_epoch(self, initial_epoch: int) -> int:
        """shendu's hook for resuming: called by ``fit`` after every ``on_train_begin``
        with the epoch it would start from; return the epoch to start from instead
        (``BackupAndRestore``: the one after its backup's). Keras's BackupAndRestore sets a
        private model attribute for this; here it is a hook of the callback."""
        return initial_epoch

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        """As Keras: calls ``on_batch_begin`` (the Keras 2 name a callback may override)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """As Keras: calls ``on_batch_end``."""
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class CallbackList:
    """Calls each hook on every callback, in order.

    Args:
        callbacks: the Callbacks, called in this order.
        model: the model given to each (set_model).
        params: the run's parameters given to each (set_params: epochs, steps, verbose).
    """

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
            cb._fit_callbacks = self.callbacks  # the running fit's (BackupAndRestore saves them)

    def starting_epoch(self, initial_epoch: int) -> int:
        """The epoch ``fit`` starts from, after each callback's ``starting_epoch``."""
        for cb in self.callbacks:
            initial_epoch = cb.starting_epoch(initial_epoch)
        return initial_epoch

    def __getattr__(self, name):
        if not name.startswith("on_"):
            raise AttributeError(name)
        # as Keras's CallbackList: ``logs`` is always passed, positionally, and always a
        # dict (empty when the caller has none), so a LambdaCallback's two-argument lambdas
        # and ``logs.get(...)`` / ``logs[...] = ...`` in any hook work
        leading = 0 if name.endswith(("train_begin", "train_end", "test_begin", "test_end")) else 1
        leading = 0 if name in ("on_predict_begin", "on_predict_end") else leading

        def call(*args, logs=None):
            if len(args) > leading:
                args, logs = args[:leading], args[leading]
            args = (*args, {} if logs is None else logs)
            for cb in self.callbacks:
                getattr(cb, name)(*args)

        return call


class History(Callback):
    """Records the epoch logs: ``history.history['loss']`` is the loss per epoch."""

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class ProgbarLogger(Callback):
    """Prints ``Epoch i/N`` and the progress bar (verbose 1) or one line per epoch (2).

    Args:
        verbose: 1: a progress bar; 2: one line per epoch.
        stream: where to write (standard output when None).
    """

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            out = self.stream or sys.stdout
            epochs = self.params.get("epochs")
            if epochs and epochs > 0:
                out.write(f"Epoch {epoch + 1}/{epochs}\n")
            out.flush()
        # the logs are running means already: shown as given (no averaging again)
        self.bar = Progbar(
            self.params.get("steps"),
            verbose=self.verbose,
            stateless_metrics=(),
            stream=self.stream,
        )

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.update(self.bar.seen, logs, finalize=True)


class _Monitor(Callback):
    def __init__(self, monitor, mode, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        self.monitor = monitor
        if mode == "auto":
            mode = (
                "max"
                if (
                    "acc" in monitor
                    or monitor.endswith("auc")
                    or "precision" in monitor
                    or "recall" in monitor
                )
                else "min"
            )
        self.mode = mode
        self.min_delta = abs(min_delta)

    def _better(self, current, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def _get(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__}: metric {self.monitor!r} is not in the logs "
                f"(available: {sorted(logs or {})}); skipping",
                stacklevel=3,
            )
        return value


class _StatefulMixin:
    """State saved and restored for exact resume (``BackupAndRestore``): the plain
    attributes named in ``state_attributes``, plus arrays (``get_state_arrays``)."""

    state_attributes: tuple = ()

    def get_state(self):
        return {k: _jsonable(getattr(self, k, None)) for k in self.state_attributes}

    def get_state_arrays(self) -> dict:
        return {}

    def set_state(self, state, arrays=None):
        for k in self.state_attributes:
            if k in state:
                setattr(self, k, state[k])


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


class EarlyStopping(_StatefulMixin, _Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``restore_best_weights`` puts back the best epoch's weights when it stops (or ends);
    ``start_from_epoch`` ignores the first epochs; ``baseline`` is a value to beat.

    Args:
        monitor: the logged quantity to watch ("val_loss").
        min_delta: the least change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints when it stops.
        mode: "min", "max", or "auto" (from the quantity's name).
        baseline: a value the quantity must beat.
        restore_best_weights: put back the weights of the best epoch.
        start_from_epoch: epochs to wait before watching.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        self.state_attributes = ("wait", "stopped_epoch", "best", "best_epoch")
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._get(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._better(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def get_state(self):
        return {**super().get_state(), "has_best_weights": self.best_weights is not None}

    def get_state_arrays(self):
        return {f"best_weights/{i}": w for i, w in enumerate(self.best_weights or [])}

    def set_state(self, state, arrays=None):
        super().set_state(state)
        self.best_weights = None
        if state.get("has_best_weights"):
            arrays = arrays or {}
            n = len(arrays)
            self.best_weights = [np.array(arrays[f"best_weights/{i}"]) for i in range(n)]

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_StatefulMixin, _Monitor):
    """Save the model (or its weights) after each epoch to ``filepath``.

    ``filepath`` may hold ``{epoch}`` and log keys (``{val_loss:.2f}``); with
    ``save_best_only`` only improvements of ``monitor`` are saved. Files are written
    to a temporary file and renamed into place. A full save (not weights only) also
    stores the optimizer state, the epoch, the history and every RNG state, as
    BackupAndRestore does.

    Args:
        filepath: where to save; may hold ``{epoch}`` and logged keys.
        monitor: the logged quantity deciding the best model ("val_loss").
        verbose: 1 prints each save.
        save_best_only: save only when ``monitor`` improves.
        save_weights_only: save the weights alone (``.weights.h5``).
        mode: "min", "max", or "auto".
        save_freq: "epoch" (a save after each epoch; a number of batches is refused).
        initial_value_threshold: a value the first saved model must beat.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode)
        self.state_attributes = ("best",)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch":
            raise ValueError(
                f"ModelCheckpoint: only save_freq='epoch' is supported. Received: {save_freq!r}"
            )
        self.best = initial_value_threshold

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(
                f"ModelCheckpoint: the filepath {self.filepath!r} names {err.args[0]!r}, which "
                f"is not in the logs. Available keys: {sorted(['epoch', *logs])}"
            ) from None
        except (ValueError, IndexError) as err:
            raise ValueError(
                f"ModelCheckpoint: cannot format the filepath {self.filepath!r} ({err}). "
                f"Available keys: {sorted(['epoch', *logs])}"
            ) from None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._path(epoch, logs)
        if self.save_best_only:
            current = self._get(logs)
            if current is None or not self._better(current, self.best):
                return
            if self.verbose:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                    f"{current}, saving model to {path}"
                )
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            state, arrays = training_state(self.model, epoch, self._siblings())
            save_model = files.saving("save_model")
            save_model(self.model, path, training_state=state, training_arrays=arrays)


class ReduceLROnPlateau(_StatefulMixin, _Monitor):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Args:
        monitor: the logged quantity to watch ("val_loss").
        factor: the learning rate is multiplied by this.
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: "min", "max", or "auto".
        min_delta: the least change that counts as an improvement.
        cooldown: epochs to wait after a reduction.
        min_lr: the lowest learning rate.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: `factor` must be < 1. Received: {factor}")
        super().__init__(monitor, mode, min_delta)
        self.state_attributes = ("wait", "cooldown_counter", "best")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        current = self._get(logs)
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.model.optimizer.learning_rate
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start: ``schedule(epoch, lr) -> new lr``.

    Args:
        schedule: a function (epoch, lr) -> the new learning rate (or of the epoch alone).
        verbose: 1 prints each change.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.learning_rate
        new = self.schedule(epoch, lr) if _takes_two(self.schedule) else self.schedule(epoch)
        if not isinstance(new, (float, int, np.floating)):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a float. Received: {new!r}"
            )
        self.model.optimizer.learning_rate = float(new)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate


def _takes_two(function) -> bool:
    """Whether ``function`` can be called with two positional arguments (Keras's schedules
    take (epoch, lr); its older ones, still accepted, take the epoch alone)."""
    try:
        inspect.signature(function).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): call it as Keras's new API does
        return True
    return True


class CSVLogger(Callback):
    """Append one CSV row per epoch (epoch and the logs) to ``filename``.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file instead of replacing it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename)
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self._header_written = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.file, fieldnames=["epoch"] + self.keys, delimiter=self.sep
            )
            if not self._header_written:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class TerminateOnNaN(Callback):
    """Stop training when the loss becomes NaN or infinite; with ``raise_error=True``,
    raise a RuntimeError there instead (no other callback's ``on_train_end`` runs).

    Args:
        raise_error: raise a RuntimeError instead of stopping quietly.
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Args:
        on_epoch_begin: a function (epoch, logs).
        on_epoch_end: a function (epoch, logs).
        on_train_begin: a function (logs).
        on_train_end: a function (logs).
        on_train_batch_begin: a function (batch, logs).
        on_train_batch_end: a function (batch, logs).
        **kwargs: any other hook by its name (``on_test_end=...``).
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
            **kwargs,
        )
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


def _stateful_callbacks(callbacks, exclude=None):
    """The ``callbacks`` (of the running fit) that carry state, by a key that does not
    depend on their position in the list: the class name and its count among those of its
    class."""
    keyed: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for cb in callbacks:
        if cb is exclude or not isinstance(cb, _StatefulMixin):
            continue
        name = type(cb).__name__
        n = counts.get(name, 0)
        counts[name] = n + 1
        keyed[f"{name}:{n}"] = cb
    return keyed


def training_state(model, finished_epoch, callbacks=(), exclude=None):
    """Everything besides weights and optimizer slots that exact resume needs:
    (a JSON-able dict, arrays by name). ``callbacks``: those of the running fit, whose
    state is saved (but ``exclude``'s)."""
    from . import backend

    lr = model.optimizer.get_config()["learning_rate"]  # a number, or a schedule's config
    generators = {
        layer.name: layer.generator
        for layer in model.flatten_layers()
        if getattr(layer, "generator", None) is not None
    }
    strategy = getattr(model, "distribute_strategy", None)
    states, arrays = {}, {}
    for key, cb in _stateful_callbacks(callbacks, exclude).items():
        states[key] = cb.get_state()
        for name, arr in cb.get_state_arrays().items():
            arrays[f"callbacks/{key}/{name}"] = arr
    state = {
        "epoch": finished_epoch,
        "history": model.history.history if model.history is not None else {},
        "rng": backend.generator().bit_generator.state,
        "layer_rngs": {k: g.bit_generator.state for k, g in generators.items()},
        "callbacks": states,
        "learning_rate": lr if isinstance(lr, float) else None,
        "data_parallel_seed": None if strategy is None else strategy.get_state()["seed"],
    }
    return state, arrays


class RemoteMonitor(Callback):
    """POST each epoch's logs to ``root + path`` (the URL the user gives; nothing else is
    ever contacted): as a form field ``field`` holding the JSON of the logs, or as a JSON
    body with ``send_as_json``. An unreachable server is a warning, not an error (Keras's
    behaviour); the standard library sends it (no ``requests`` needed).

    Args:
        root: the server's URL.
        path: the path posted to.
        field: the form field holding the logs' JSON.
        headers: extra HTTP headers (a dict).
        send_as_json: send the logs as a JSON body instead of a form.
    """

    def __init__(
        self,
        root="http://localhost:9000",
        path="/publish/epoch/end/",
        field="data",
        headers=None,
        send_as_json=False,
    ):
        super().__init__()
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json = dict(headers or {}), bool(send_as_json)

    def on_epoch_end(self, epoch, logs=None):
        import json
        import urllib.error
        import urllib.parse
        import urllib.request

        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = float(value) if np.ndim(value) == 0 else np.asarray(value).tolist()
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers = {"Content-Type": "application/json", **self.headers}
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **self.headers}
        try:  # a malformed URL is a warning too: training goes on, as in Keras
            request = urllib.request.Request(self.root + self.path, data=body, headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(
                f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2
            )


class SwapEMAWeights(Callback):
    """Evaluate (and predict) with the optimizer's moving averages of the weights
    (``use_ema=True``): they are swapped into the model for the test and swapped back after.
    With ``swap_on_epoch=True`` they are also in the model between the end of an epoch and
    the start of the next, so a checkpoint written at the epoch's end holds them.

    Args:
        swap_on_epoch: keep the moving averages in the model between epochs too.
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self.averages_in_model = False

    def _swap(self):
        self.model.optimizer.swap_ema_weights()
        self.averages_in_model = not self.averages_in_model

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self.averages_in_model:
            self._swap()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self.averages_in_model:
            self._swap()

    def on_test_begin(self, logs=None):
        self._swapped_for_test = not self.averages_in_model
        if self._swapped_for_test:
            self._swap()

    def on_test_end(self, logs=None):
        if getattr(self, "_swapped_for_test", False) and self.averages_in_model:
            self._swap()

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end

    def on_train_end(self, logs=None):
        if self.averages_in_model:  # fit's end copies the averages in anyway (use_ema)
            self._swap()


class BackupAndRestore(Callback):
    """Exact resume after an interruption (a crash, a killed job).

    At the start of every epoch after the first it writes ``backup_dir/backup.shendu``
    (atomically): the weights, the optimizer slots and iterations, the finished epoch,
    the history, every RNG state (the library's generator, which draws the shuffle order
    and unseeded dropout, and each seeded layer's own generator), the state of the other
    callbacks (EarlyStopping, ReduceLROnPlateau) and the learning rate. When ``fit``
    starts and a backup exists, all of it is restored and training continues with the
    next epoch, so an interrupted run ends with the same weights and history, bit for
    bit, as an uninterrupted one. The backup is removed when training ends (unless
    ``delete_checkpoint=False``). Resume is per epoch, not per batch.

    Args:
        backup_dir: the folder of the backup file.
        save_freq: "epoch" (the only resume point; a number of batches is refused).
        delete_checkpoint: remove the backup when training ends.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(
                f"BackupAndRestore: only save_freq='epoch' is supported. Received: {save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, "backup.shendu")

    def _generators(self):
        return {
            layer.name: layer.generator
            for layer in self.model.flatten_layers()
            if getattr(layer, "generator", None) is not None
        }

    def on_train_begin(self, logs=None):
        from . import backend

        restore_into = files.saving("restore_into")

        self._pending = None
        self._resume_epoch = None
        if not os.path.exists(self.path):
            return
        state, arrays = restore_into(self.model, self.path)
        if not state:
            return
        backend.generator().bit_generator.state = state["rng"]
        for name, g in self._generators().items():
            if name in state["layer_rngs"]:
                g.bit_generator.state = state["layer_rngs"][name]
        if state.get("learning_rate") is not None:
            self.model.optimizer.learning_rate = state["learning_rate"]
        strategy = getattr(self.model, "distribute_strategy", None)
        if strategy is not None and state.get("data_parallel_seed") is not None:
            strategy.set_state({"seed": state["data_parallel_seed"]})
        self._resume_epoch = state["epoch"] + 1
        # History and the other callbacks reset their state in their own on_train_begin,
        # which may run after this one: their saved state goes back at the first epoch's
        # start, before any epoch ends, whatever the order of the callbacks list.
        self._pending = (state, arrays)

    def starting_epoch(self, initial_epoch):
        """The epoch after the backup's, when ``on_train_begin`` restored one."""
        resume = getattr(self, "_resume_epoch", None)
        return initial_epoch if resume is None else resume

    def _restore_callbacks(self):
        if not self._pending:
            return
        state, arrays = self._pending
        self._pending = None
        # the resumed fit's History holds the epochs it runs, as Keras's (the backup keeps
        # the earlier ones: ``state["history"]``)
        states = state.get("callbacks") or {}
        for key, cb in _stateful_callbacks(self._siblings(), self).items():
            if key in states:
                prefix = f"callbacks/{key}/"
                own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                cb.set_state(states[key], own)

    def on_epoch_begin(self, epoch, logs=None):
        self._restore_callbacks()
        if epoch > 0:  # the end of the previous epoch, after every callback has run
            self._save(epoch - 1)

    def _save(self, finished_epoch):
        state, arrays = training_state(self.model, finished_epoch, self._siblings(), self)
        save_model = files.saving("save_model")
        save_model(self.model, self.path, training_state=state, training_arrays=arrays)

    def on_train_end(self, logs=None):
        self._restore_callbacks()
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)


#: Callbacks that write files: under data parallel training only rank 0 runs them.
FILE_WRITING = (ModelCheckpoint, CSVLogger, BackupAndRestore)


class TensorBoard(Callback):
    """Keras's TensorBoard callback: event files under ``log_dir/train`` and
    ``log_dir/validation`` (the ``[tensorboard]`` extra).

    Each epoch writes ``epoch_<name>`` scalars (step = the epoch): the training logs and the
    learning rate to ``train``, the ``val_`` logs (without the prefix) to ``validation``;
    with ``update_freq='batch'`` or an integer N, ``batch_<name>`` every N training batches
    (step = the batch count since the start of training); at the end of each evaluation,
    ``evaluation_<name>_vs_iterations`` (step = the optimizer's iterations) to
    ``validation``; with ``histogram_freq`` N, a histogram of every weight each N epochs
    (``<weight path>/histogram``). ``write_steps_per_second`` adds ``steps_per_second``.
    shendu writes no graph (``write_graph`` is accepted), and no weight images, profiles or
    embeddings (those options warn).

    Args:
        log_dir: the folder of the event files.
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: accepted; no graph is written.
        write_images: accepted with a warning; no images are written.
        write_steps_per_second: add ``steps_per_second`` to the scalars.
        update_freq: "epoch", "batch", or a number of batches between batch scalars.
        profile_batch: accepted with a warning when set; no profiles are written.
        embeddings_freq: accepted with a warning when set; no embeddings are written.
        embeddings_metadata: accepted; unused.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        update_freq = 1 if update_freq == "batch" else update_freq
        if update_freq != "epoch" and (
            not isinstance(update_freq, int) or isinstance(update_freq, bool) or update_freq < 1
        ):
            raise ValueError(
                "`update_freq` must be 'epoch', 'batch' or a positive integer. "
                f"Received: update_freq={update_freq!r}"
            )
        self.update_freq = update_freq
        self.profile_batch, self.embeddings_freq = profile_batch, embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        unsupported = [
            name
            for name, value in (
                ("write_images", write_images),
                ("profile_batch", profile_batch),
                ("embeddings_freq", embeddings_freq),
            )
            if value
        ]
        if unsupported:
            warnings.warn(
                f"TensorBoard: shendu writes scalars and histograms; {', '.join(unsupported)} "
                "not written",
                stacklevel=2,
            )
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = self._batch_start = 0.0
        self._epoch_batches = 0

    def _writer(self, run):
        writer = self._writers.get(run)
        if writer is None:
            from .utils.tensorboard_writer import EventWriter

            writer = self._writers[run] = EventWriter(os.path.join(self.log_dir, run))
        return writer

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._writer("train")  # fails early (and clearly) without the extra

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._epoch_batches = time.time(), 0

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._epoch_batches += 1
        self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start
            writer.scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-9), step)
        for name, value in (logs or {}).items():
            if _is_scalar(value):
                writer.scalar(f"batch_{name}", value, step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_") and _is_scalar(v)}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_") and _is_scalar(v)}
        optimizer: Any = getattr(self.model, "optimizer", None)
        try:  # no optimizer, or a MultiOptimizer has no single learning rate
            train["learning_rate"] = float(optimizer.learning_rate)
        except AttributeError:
            pass
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_batches / elapsed
        for run, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(run)
                for name, value in values.items():
                    writer.scalar(f"epoch_{name}", value, epoch)
                writer.flush()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for weight in layer.weights:
                    name = (weight.path or "weight").replace(":", "_")
                    writer.histogram(f"{name}/histogram", weight.numpy(), epoch)
            writer.flush()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            if _is_scalar(value):
                writer.scalar(f"evaluation_{name}_vs_iterations", value, optimizer.iterations)
        writer.flush()


def _is_scalar(value):
    return np.ndim(value) == 0
