"""What an epoch of ``fit`` is, as Keras's ``EpochIterator`` defines it.

Without ``steps_per_epoch`` an epoch is one pass over the data. With it, an epoch is that
many batches taken from one pass that carries on across epochs: ``fit(x, y,
batch_size=10, epochs=5, steps_per_epoch=2)`` on 100 samples trains on batches 0-1, 2-3,
..., 8-9 (not batches 0-1 five times). When the pass runs out before an epoch has its
steps, the epoch ends there with a warning, and the next epoch starts a new pass (a new
shuffle); a generator that has nothing left ends the training, as in Keras.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches."
)


class EpochIterator:
    """Epochs of batches from ``batches`` (a data adapter of ``models.data``: its
    ``epoch(index)`` is one pass), ``steps_per_epoch`` at a time when given."""

    def __init__(self, batches: Any, steps_per_epoch: int | None = None):
        self.batches = batches
        self.steps_per_epoch = steps_per_epoch
        self._pass: Iterator | None = None
        self.passes = 0  # passes started (a pass that yields nothing after the first: done)

    def _new_pass(self, index: int) -> Iterator:
        self.passes += 1
        self._pass = iter(self.batches.epoch(index))
        return self._pass

    def epoch(self, index: int) -> Iterator[tuple]:
        """Epoch ``index``'s batches."""
        if self.steps_per_epoch is None:
            self.passes += 1
            yield from self.batches.epoch(index)
            return
        current = self._pass
        fresh = current is None
        if current is None:
            current = self._new_pass(index)
        step = 0
        while step < self.steps_per_epoch:
            try:
                batch = next(current)
            except StopIteration:
                self._pass = None
                if step == 0 and not fresh:  # the last pass ended with the last epoch
                    current, fresh = self._new_pass(index), True
                    continue
                if step:
                    warnings.warn(RAN_OUT, UserWarning, stacklevel=4)
                return
            yield batch
            step += 1


class Executions:
    """When batch callbacks run under ``compile(steps_per_execution=n)``, as in Keras: the
    steps go in executions of ``n``; ``on_*_batch_begin`` runs at the first step of each
    (its index) and ``on_*_batch_end`` after the last, with the index of the execution's
    last step (Keras counts a short last execution as a whole one: 10 steps in threes end
    at 2, 5, 8 and 11). With ``n = 1`` every step is its own execution."""

    def __init__(self, every: int = 1):
        self.every = max(int(every), 1)

    def begins(self, step: int) -> bool:
        """Whether ``step`` starts an execution."""
        return step % self.every == 0

    def ends(self, step: int) -> bool:
        """Whether ``step`` ends a full execution."""
        return (step + 1) % self.every == 0

    def last_index(self, steps: int) -> int | None:
        """The index an unfinished last execution reports after ``steps`` steps (None when
        the last execution was full: its end has run)."""
        if steps % self.every == 0:
            return None
        return steps - steps % self.every + self.every - 1
