"""fit's data-parallel strategy: ``compile(..., distribute="mpi")`` (see ``shendu.distributed``).

The strategy owns everything that differs from a one-process fit:

- sharding (``batches``): every global batch of ``size * batch_size`` samples, from one
  permutation per epoch drawn from a seed all ranks share, is cut into one disjoint slice
  per rank;
- which callbacks run where (``callbacks``, ``verbose``): only rank 0 prints and runs the
  callbacks that write files;
- the start (``begin``): after the callbacks' ``on_train_begin`` (rank 0 may have restored
  a backup), every rank takes rank 0's weights, optimizer state, starting epoch and shuffle
  seed;
- the gradient reduction (``reducing_gradients``): gradients are averaged over ranks
  before every update, in one allreduce of the optimizer's fused gradient buffer;
- the logs (``epoch_logs``): the metrics are reduced over all ranks, so every rank sees the
  same global values (and EarlyStopping decides the same everywhere);
- the end of an epoch (``end_epoch``): a barrier, as rank 0 may have written files, and with
  ``SHENDU_DISTRIBUTED_DEBUG`` set a check that the parameters are identical on all ranks.

``get_state``/``set_state`` carry the shuffle seed, which checkpoints save so that a
resumed run shuffles exactly as the interrupted one would have.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..annotations import Structure
from ..autograd.mode import no_grad
from . import data as data_mod

if TYPE_CHECKING:
    from ..callbacks import Callback
    from .data import ShardedBatches
    from .trainer import Trainer


class DataParallel:
    """Data-parallel training over the ranks of an MPI job."""

    def __init__(self):
        self.seed = None  # the shuffle seed shared by all ranks, drawn when fit first starts
        self._batches: ShardedBatches | None = None

    @staticmethod
    def _mpi():
        from .. import distributed

        distributed.init()
        return distributed

    def get_state(self) -> dict:
        return {"seed": self.seed}

    def set_state(self, state: dict) -> None:
        seed = state.get("seed")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"Expected a non-negative integer seed. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    # --- before training ---
    def batches(
        self,
        model: Trainer,
        x: Structure,
        y: Structure,
        sample_weight: Structure,
        batch_size: int | None,
        shuffle: bool | str,
        class_weight: dict | None,
    ) -> ShardedBatches:
        """This rank's share of every global batch; checks that all ranks run the same
        model first."""
        dist = self._mpi()
        if not (data_mod.is_array_like(x) and data_mod.is_array_like(y)):
            raise ValueError("Data parallel fit (distribute='mpi') needs array inputs")
        x, y, sw, n = data_mod.prepare(x, y, sample_weight)
        if class_weight is not None:
            sw = data_mod.class_weight_to_sample_weight(class_weight, y, sw)
        if not model.built:
            with no_grad():
                model(data_mod.take(x, slice(0, 1)))
        dist.check_consistency(model)
        self._batches = data_mod.ShardedBatches(
            x, y, sw, n, batch_size or 32, shuffle, dist.rank(), dist.size()
        )
        return self._batches

    def verbose(self, verbose: int | str) -> int | str:
        """Only rank 0 prints."""
        return verbose if self._mpi().is_main() else 0

    def callbacks(self, callbacks: Sequence[Callback]) -> list[Callback]:
        """The callbacks this rank runs: on ranks other than 0, none that write files."""
        from .. import callbacks as callbacks_mod

        if self._mpi().is_main():
            return list(callbacks)
        return [c for c in callbacks if not isinstance(c, callbacks_mod.FILE_WRITING)]

    def begin(self, model: Trainer, initial_epoch: int) -> int:
        """After ``on_train_begin``: every rank takes rank 0's weights, optimizer state,
        starting epoch and shuffle seed. Returns the epoch to start from."""
        from .. import backend

        dist = self._mpi()
        model.optimizer.build(model.trainable_weights)
        dist.broadcast_variables(model)
        if self.seed is None:  # rank 0's draw is the one kept
            self.seed = int(backend.generator().integers(0, 2**31 - 1))
        shared = np.array([initial_epoch, self.seed], np.int64)
        dist.broadcast_(shared)
        self.seed = int(shared[1])
        if self._batches is not None:
            self._batches.seed = self.seed
        return int(shared[0])

    # --- during training ---
    def reducing_gradients(self, optimizer: Any) -> contextlib.AbstractContextManager:
        """Within the block, ``optimizer`` averages the gradients over ranks before each
        update."""
        return optimizer.gradient_reduction(self._mpi().allreduce_mean_)

    def epoch_logs(self, model: Trainer, logs: dict) -> dict:
        """The epoch's logs reduced over all ranks (the compiled metrics'; logs a custom
        ``train_step`` made up are this rank's)."""
        if set(logs) <= {m.name for m in model.metrics}:
            return self._mpi().reduce_metrics(model.metrics)
        return logs

    def end_epoch(self, model: Trainer) -> None:
        dist = self._mpi()
        dist.barrier()  # rank 0 may have written files
        if os.environ.get("SHENDU_DISTRIBUTED_DEBUG"):
            dist.check_identical(model)


class LocalTraining:
    """The strategy of a one-process ``fit`` (the default): the same hooks as
    ``DataParallel``, each doing what one process needs, so ``fit`` has one path."""

    def batches(
        self,
        model: Trainer,
        x: Structure,
        y: Structure,
        sample_weight: Structure,
        batch_size: int | None,
        shuffle: bool | str,
        class_weight: dict | None,
    ) -> Any:
        """The data adapter over all the data (``steps_per_epoch`` is the EpochIterator's
        business)."""
        return model._make_batches(x, y, sample_weight, batch_size, shuffle, None, class_weight)

    def verbose(self, verbose: int | str) -> int | str:
        return verbose

    def callbacks(self, callbacks: Sequence[Callback]) -> list[Callback]:
        return list(callbacks)

    def begin(self, model: Trainer, initial_epoch: int) -> int:
        return initial_epoch

    def reducing_gradients(self, optimizer: Any) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def epoch_logs(self, model: Trainer, logs: dict) -> dict:
        return logs

    def end_epoch(self, model: Trainer) -> None:
        return None
