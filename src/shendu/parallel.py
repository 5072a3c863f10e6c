"""Memory-bound array work split over the CPU's cores.

BLAS already runs the matrix products on every core, but NumPy's elementwise loops, copies and
strided adds run on one. They release the GIL, so a few threads working on disjoint slices of
the batch axis run them in parallel: pooling, im2col copies, activation derivatives and the
optimizer updates of large variables use ``for_chunks``.

The number of threads is the number of CPUs this process may run on (``os.sched_getaffinity``),
at most 8; set ``SHENDU_NUM_THREADS`` (1 turns the splitting off) or call ``set_num_threads``.
The calling thread takes chunks too, and a chunk no thread has started goes to whichever thread
is free, so a pool thread that cannot get a core does not hold the work up; ``fit``'s thread
tuning (shendu.models.thread_tuning) lowers the count with ``limit_threads`` when one thread
is measured faster. Arrays below
``MIN_ELEMENTS`` are never split: there a thread hand-off (tens of microseconds) costs more
than it saves.
"""

from __future__ import annotations

import os
import threading
from typing import Any

MIN_ELEMENTS = 1 << 18
# A single pass over memory (an elementwise op, a normalisation pass) gains from more threads
# only from about a million elements: a ReLU of 2**21 float32 elements not in cache took 1.08
# ms on one thread and 0.63 on two, of 2**20 0.48 and 0.41, of 2**19 0.21 and 0.24 (#33).
MIN_PASS_ELEMENTS = 1 << 20
MAX_THREADS = 8

_state: dict[str, Any] = {"threads": None, "pool": None, "limit": None}
_lock = threading.Lock()


def _default_threads() -> int:
    env = os.environ.get("SHENDU_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(
                f"SHENDU_NUM_THREADS must be a positive integer. Received: {env!r}"
            ) from None
        if n < 1:
            raise ValueError(f"SHENDU_NUM_THREADS must be a positive integer. Received: {env!r}")
        return n
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_THREADS))


def num_threads() -> int:
    """The number of threads ``for_chunks`` splits work over."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def active_threads() -> int:
    """The threads ``for_chunks`` uses now: ``num_threads()``, or fewer while ``fit``'s
    thread tuning (shendu.models.thread_tuning) has limited them."""
    limit = _state["limit"]
    n = num_threads()
    return n if limit is None else max(1, min(n, limit))


def limit_threads(n) -> None:
    """Use at most ``n`` threads until called with None (no pool restart: cheap per step)."""
    _state["limit"] = None if n is None else int(n)


def set_num_threads(n: int) -> None:
    """Split memory-bound work over ``n`` threads from now on (1: never split)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer. Received: {n!r}")
    with _lock:
        old = _state["pool"]
        _state["threads"], _state["pool"] = n, None
    if old is not None:
        old.shutdown(wait=True)


def _pool():
    pool = _state["pool"]
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        with _lock:
            if _state["pool"] is None:
                _state["pool"] = ThreadPoolExecutor(
                    max_workers=num_threads() - 1, thread_name_prefix="shendu"
                )
            pool = _state["pool"]
    return pool


CHUNKS_PER_THREAD = 2  # more than one, so that a late thread's share can be taken over


def splits(n_rows: int, size: int) -> bool:
    """Whether ``for_chunks`` splits work of ``size`` elements over ``n_rows`` rows."""
    return min(active_threads(), n_rows) >= 2 and size >= MIN_ELEMENTS


def for_chunks(fn, n_rows: int, size: int, chunks_per_thread: int = CHUNKS_PER_THREAD) -> None:
    """Call ``fn(start, stop)`` over contiguous chunks covering ``range(n_rows)``.

    ``size`` is the number of elements the work touches: below ``MIN_ELEMENTS``, with one
    row, or with one thread, ``fn(0, n_rows)`` runs once on the calling thread. Otherwise the
    rows are cut into ``chunks_per_thread`` chunks per thread, and the calling thread and the
    pool's threads take chunks until none is left: a pool thread that is slow to start (its
    core busy) leaves its share to the others instead of holding them up. ``fn`` must only
    write to the rows it is given. The first error raised by a chunk is re-raised after every
    started chunk has ended.
    """
    if not splits(n_rows, size):
        fn(0, n_rows)
        return
    threads = min(active_threads(), n_rows)
    _Chunks(fn, n_rows, min(chunks_per_thread * threads, n_rows)).run(threads - 1)


class _Chunks:
    """Chunks of rows handed out to whichever thread asks first."""

    def __init__(self, fn, n_rows, n_chunks):
        self.fn = fn
        self.bounds = [n_rows * i // n_chunks for i in range(n_chunks + 1)]
        self.n_chunks = n_chunks
        self.next = 0
        self.finished = 0
        self.error = None
        self.cond = threading.Condition()

    def _take(self):
        with self.cond:
            i = self.next
            self.next += 1
        return i

    def drain(self):
        while (i := self._take()) < self.n_chunks:
            try:
                self.fn(self.bounds[i], self.bounds[i + 1])
            except BaseException as exc:
                self.error = self.error or exc
            with self.cond:
                self.finished += 1
                self.cond.notify_all()

    def run(self, helpers):
        pool = _pool()
        for _ in range(helpers):
            pool.submit(self.drain)
        self.drain()
        with self.cond:
            self.cond.wait_for(lambda: self.finished == self.n_chunks)
        if self.error is not None:
            raise self.error
