"""Data-parallel training over MPI (the ``[mpi]`` extra: mpi4py and the mpich wheel).

One line turns it on: ``model.compile(..., distribute="mpi")``, then run the same script
under ``mpiexec -n 4 python train.py`` (or SLURM's ``srun``). In ``fit``:

1. every rank checks that all ranks run the same shendu version and the same model (config
   hash, variable names, shapes, dtypes), then rank 0's weights and optimizer state are
   broadcast, so all ranks start identical;
2. each epoch one permutation is drawn from a seed shared by all ranks and the epoch number;
   every global batch of ``size * batch_size`` samples is split into one disjoint slice per
   rank (``batch_size`` is the per-rank batch);
3. after backward, the gradients (one contiguous flat buffer) are averaged with a single
   upper-case ``Allreduce`` (no pickling), so parameters stay bit-identical across ranks;
4. the losses and metrics in the logs are reduced over all ranks; only rank 0 prints and
   runs the callbacks that write files (then a barrier); EarlyStopping and
   ReduceLROnPlateau see the same global logs on every rank and decide the same;
5. an exception on any rank aborts the whole job (``MPI_Abort``) after printing the rank and
   its traceback.

MPI has no authentication: run it on trusted networks only. Importing shendu never
starts MPI; ``init()`` (called by fit when ``distribute="mpi"``) does.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
import warnings
from typing import Any

import numpy as np

_COMM: Any = None  # the MPI communicator, once init() has made it
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID", "PMIX_RANK")
WAIT_WARNING_S = float(os.environ.get("SHENDU_WAIT_WARNING_S", 60.0))
_ARRIVAL_TAG = 7077
_step = [0]


def launched_by_mpi() -> bool:
    """True when a launcher (mpiexec, mpirun, srun) started this process."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(
            "Distributed training needs mpi4py and an MPI library. Install the extra: "
            "pip install 'shendu[mpi]' (mpi4py and the mpich wheel, which brings mpiexec)"
        ) from None
    return MPI


def init():
    """Start MPI (once) and install the abort-on-exception hook; returns the communicator."""
    global _COMM
    if _COMM is None:
        MPI = _mpi()
        _COMM = MPI.COMM_WORLD
        if _COMM.Get_size() > 1:
            _install_excepthook()
            _share_cores(MPI)
    return _COMM


def _share_cores(MPI):  # noqa: N803 - the mpi4py module
    """Give each rank on a machine its share of the cores for BLAS (threadpoolctl), so that
    ranks do not oversubscribe the machine. Without threadpoolctl the BLAS default stays."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    local = _COMM.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
    threadpool_limits(max(1, (os.cpu_count() or 1) // local), user_api="blas")


def rank() -> int:
    return init().Get_rank()


def size() -> int:
    return init().Get_size()


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    _wait(init().Ibarrier(), "barrier")


def _install_excepthook():
    previous = sys.excepthook

    def abort(exc_type, exc, tb):
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(
            f"shendu.distributed: rank {_COMM.Get_rank()} failed; aborting all "
            f"{_COMM.Get_size()} ranks\n{text}"
        )
        sys.stderr.flush()
        # the launcher forwards each rank's output through its own pipes; aborting at once
        # could end the job before the message is through them (seen as a run that failed
        # with an empty standard error on a busy machine)
        time.sleep(ABORT_GRACE_S)
        _COMM.Abort(1)
        previous(exc_type, exc, tb)

    sys.excepthook = abort


#: seconds a failing rank waits after printing its error before aborting the job
ABORT_GRACE_S = 0.5


def _wait(request, what, arrivals=None):
    """Wait for a non-blocking collective, warning once after WAIT_WARNING_S seconds.

    ``arrivals`` (rank 0 only): per-rank receive requests of the ranks' arrival notes for
    this collective; the warning names the ranks whose note has not come.
    """
    start = time.monotonic()
    warned = False
    while not request.Test():
        if not warned and time.monotonic() - start > WAIT_WARNING_S:
            missing = ""
            if arrivals:
                absent = [r for r, req in arrivals.items() if not req.Test()]
                missing = f"; missing: rank(s) {absent}" if absent else ""
            message = (
                f"shendu.distributed: rank {_COMM.Get_rank()} has waited "
                f"{WAIT_WARNING_S:.0f} s in {what}{missing}"
            )
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            sys.stderr.write(message + "\n")
            sys.stderr.flush()
            warned = True
        time.sleep(0.0005)


def allreduce_mean_(buffer: np.ndarray) -> np.ndarray:
    """Average ``buffer`` over all ranks in place (one Allreduce, then a division)."""
    comm = init()
    n = comm.Get_size()
    if n == 1:
        return buffer
    MPI = _mpi()
    # Arrival notes: every rank tells rank 0 it reached this step's allreduce, so that a
    # rank 0 left waiting can name the ranks that never came.
    _step[0] += 1
    note = np.array([_step[0]], dtype=np.int64)
    if comm.Get_rank() == 0:
        boxes = {r: np.empty(1, dtype=np.int64) for r in range(1, n)}
        arrivals = {r: comm.Irecv(boxes[r], source=r, tag=_ARRIVAL_TAG) for r in boxes}
        _wait(
            comm.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM), "the gradient allreduce", arrivals
        )
        MPI.Request.Waitall(list(arrivals.values()))
    else:
        sent = comm.Isend(note, dest=0, tag=_ARRIVAL_TAG)
        _wait(comm.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM), "the gradient allreduce")
        sent.Wait()
    buffer /= n
    return buffer


def allreduce_sum(values: np.ndarray) -> np.ndarray:
    comm = init()
    if comm.Get_size() == 1:
        return values
    MPI = _mpi()
    out = np.empty_like(values)
    _wait(comm.Iallreduce(values, out, op=MPI.SUM), "a metrics allreduce")
    return out


def broadcast_(buffer: np.ndarray, root=0) -> np.ndarray:
    comm = init()
    if comm.Get_size() > 1:
        _wait(comm.Ibcast(buffer, root=root), "a broadcast")
    return buffer


def broadcast_variables(model, root=0) -> None:
    """Give every rank rank 0's weights and optimizer state (custom loops: call once)."""
    for v in model.weights:
        arr = np.ascontiguousarray(v.data)
        broadcast_(arr, root)
        v.data[...] = arr
    opt = getattr(model, "optimizer", None)
    if opt is not None and opt.built:
        state = opt.get_state()
        for k in sorted(state):
            arr = np.ascontiguousarray(np.asarray(state[k], dtype=np.float64)).reshape(-1)
            broadcast_(arr, root)
            state[k] = arr.reshape(np.shape(state[k])).astype(np.asarray(state[k]).dtype)
        opt.set_state(state)


def allreduce_gradients(model) -> None:
    """Average the ``.grad`` of the model's trainable variables over ranks (custom loops)."""
    variables = [v for v in model.trainable_weights if v.grad is not None]
    if not variables:
        return
    flat = np.concatenate([v.grad.data.reshape(-1) for v in variables])
    allreduce_mean_(flat)
    start = 0
    for v in variables:
        n = v.size
        v.grad.data[...] = flat[start : start + n].reshape(v.shape)
        start += n


def model_signature(model) -> str:
    from ..release import __version__

    config = json.dumps(model.get_config(), sort_keys=True, default=str)
    variables = [(v.path.split("/")[-1], list(v.shape), str(v.dtype)) for v in model.weights]
    text = json.dumps([__version__, config, variables], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_consistency(model) -> None:
    """Abort every rank with a clear message when ranks run different models or versions."""
    comm = init()
    if comm.Get_size() == 1:
        return
    from ..release import __version__

    mine = (__version__, model_signature(model), len(model.weights))
    everyone = comm.allgather(mine)  # small strings only: the one pickled exchange
    reference = everyone[0]
    differing = [r for r, sig in enumerate(everyone) if sig != reference]
    if differing:
        what = (
            "shendu version"
            if any(everyone[r][0] != reference[0] for r in differing)
            else "model (config, variable names, shapes or dtypes)"
        )
        raise RuntimeError(
            f"shendu.distributed: rank(s) {differing} run a different {what} than rank 0 "
            f"(rank 0: version {reference[0]}, model hash {reference[1][:12]}; "
            + ", ".join(
                f"rank {r}: version {everyone[r][0]}, model hash {everyone[r][1][:12]}"
                for r in differing
            )
            + ")"
        )


def parameters_checksum(model) -> str:
    h = hashlib.sha256()
    for v in model.weights:
        h.update(np.ascontiguousarray(v.data).tobytes())
    return h.hexdigest()


def check_identical(model) -> None:
    """Raise when the parameters differ across ranks (a debugging check)."""
    comm = init()
    sums = comm.allgather(parameters_checksum(model))
    if len(set(sums)) != 1:
        raise RuntimeError(f"shendu.distributed: parameters differ across ranks: {sums}")


def reduce_metrics(metrics) -> dict:
    """The results of ``metrics`` over all ranks (their additive state summed), leaving each
    rank's own state as it was."""
    results = {}
    for m in metrics:
        state = m.get_state()
        keys = sorted(k for k, v in state.items() if v is not None)
        if not keys:
            results[m.name] = m.result()
            continue
        flat = np.concatenate([np.asarray(state[k], dtype=np.float64).reshape(-1) for k in keys])
        total = allreduce_sum(flat)
        merged, start = {}, 0
        for k in keys:
            n = np.size(state[k])
            val = total[start : start + n]
            merged[k] = (
                float(val[0]) if np.ndim(state[k]) == 0 else val.reshape(np.shape(state[k]))
            )
            start += n
        m.set_state(merged)
        r = m.result()
        results[m.name] = float(r) if np.ndim(r) == 0 else r
        m.set_state(state)
    return results


__all__ = [
    "allreduce_gradients",
    "barrier",
    "broadcast_variables",
    "check_consistency",
    "check_identical",
    "init",
    "is_main",
    "launched_by_mpi",
    "rank",
    "size",
]
