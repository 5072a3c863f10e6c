"""fit chooses its thread counts from its own measured step times.

OpenBLAS splits every matrix product statically over its threads, so when another process
holds one of the cores, each product waits for the starved thread; on an idle machine 2
threads are faster. Neither fixed choice is right, so ``fit`` measures: it runs a block of
``PROBE_STEPS`` + 1 steps with all threads (the BLAS's and shendu.parallel's) and one with one
thread, not counting the first step of each block (threads waking, caches) or of each
``fit`` call (another program may just have used the cores), and keeps all
threads only if their median step time is at most ``MARGIN`` (90%) of one thread's. One
thread is probed first: a passing load such as another library's threads still spinning
slows the multi-threaded steps, not the one-threaded ones, and passes during that block. It
probes again after an interval of training (time spent in steps: whatever the program does
between two fits does not count) that starts at ``REPROBE_MIN_S``
(1 s, or ``PROBE_SPACING`` times the time of the probe's steps when that is longer) and doubles
while the choice holds, up to ``REPROBE_S`` (30 s); a changed choice starts the intervals
over. So a load that passes (another library's threads still spinning when ``fit`` starts)
costs about a second of the slower setting instead of 30 s, and probing takes at most a
tenth of the time. All threads are dropped at once when a step
takes over ``CUT_SHORT`` times one thread's median, so a probe on a loaded machine costs two
slow steps. (Alternating the count every step was
tried first: the switches slowed the multi-threaded steps so much that one thread won on an
idle machine.) The thread counts in force before ``fit`` are restored when it returns.

Two things make a probe come sooner (#33, measured in docs/benchmarks.md, "Round 3"): a
close call, whose medians are within ``CLOSE`` (1.25x) of each other, is probed again after
``CLOSE_SPACING`` times the time of the probe's steps (at least ``REPROBE_MIN_S``), because a few
steps of noise decide it (a loaded machine's one-thread probe once measured 95.5 ms against
63 ms for the same steps later, and two threads were kept at 0.68x); and other programs'
use of the cores (``models.cpu_load``, read every ``LOAD_CHECK_S``) moving by ``LOAD_SHIFT``
(half a core) since the decision starts a probe at once: a program starting or stopping
changes which count is faster. When other programs already hold the cores the other
threads would need (``BUSY_SHARE`` of them, read over the one-thread block), the probe keeps
one thread without timing all threads: that block would cost a few steps 1.3-4x slower. A
model's first ``WARMUP_STEPS`` steps (its memory and
replayed step being set up) are not counted either. The measurements behind these choices
are in docs/benchmarks.md ("the thread tuner").

Nothing is tuned when the BLAS already runs one thread (a user's ``threadpoolctl`` limit or
``OPENBLAS_NUM_THREADS=1`` is respected), when the BLAS is not OpenBLAS, when the model
trains on the GPU, or with the environment variable ``SHENDU_BLAS_THREADS=fixed``.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator

from .. import backend, blas, parallel
from .cpu_load import OtherProgramsLoad

PROBE_STEPS = 4
BLOCK = PROBE_STEPS + 1  # a block of steps per candidate; its first step is not counted
REPROBE_MIN_S = 1.0  # the first interval before probing again (doubling up to REPROBE_S)
REPROBE_S = 30.0
PROBE_SPACING = 10.0  # an interval is at least this many times the probe's steps' time
CUT_SHORT = 2.0  # an alternative whose step takes this many times the current median stops
# All threads must beat one thread by 10%: on a loaded machine they can lose 2-3x, on an idle
# one a single thread loses 1.2-1.6x, so a near tie goes to the safe side.
MARGIN = 0.9
CLOSE = 1.25  # medians within this ratio: a close call, probed again soon
CLOSE_SPACING = 2.0  # ...after this many times its steps' time (at least REPROBE_MIN_S)
LOAD_CHECK_S = 1.0  # how often other programs' use of the cores is read between probes
LOAD_SHIFT = 0.5  # cores: other programs' use moving this much since a probe starts one
WARMUP_STEPS = 3  # a model's first fit does not count this many steps (the first fit: 1)
# Other programs using this share of the cores beyond one (during the one-thread block) make
# the probe keep one thread without running all threads: on the 2-core machine, one busy
# program reads as 1.0 core there, and all threads ran 1.3-4x slower beside it.
BUSY_SHARE = 0.75


def on_gpu(device: str | None = None) -> bool:
    """Training on the GPU: the CPU's thread counts do not matter there."""
    return (device or backend.device()) != "cpu"


class BlasThreadTuner:
    """Probes all threads and one thread in blocks of steps and keeps the faster count."""

    def __init__(
        self,
        clock: Callable[[], float] = time.perf_counter,
        load: Callable[[], float | None] | None = None,
    ):
        self.clock = clock
        # other programs' cores since the last call (None: not measurable here)
        self.load = load if load is not None else OtherProgramsLoad().read
        self.probe_load: float | None = None  # other programs' cores during the last probe
        self.next_load_check = 0.0
        self.warmup = WARMUP_STEPS  # steps of the next fit not counted
        self.candidates: list[int] = []  # thread counts: [all, 1]
        self.choice: int | None = None
        self.times: dict[int, list[float]] = {}
        self.probing = False
        self.next_probe = 0.0  # in seconds of training (``trained``)
        self.trained = 0.0  # seconds spent in steps by this tuner's fits
        self.interval: float | None = None  # seconds from the last decision to the next probe
        self.probe_spent = 0.0  # seconds of steps taken during the current probe
        self.current: int | None = None
        self.started = 0.0
        self.counted = False
        self.order: list[int] = []
        self.probe_step = 0
        self._restore: int | None = None

    @contextlib.contextmanager
    def fitting(self, device: str | None = None) -> Iterator[BlasThreadTuner]:
        """The block of one ``fit``: tuned thread counts inside, the previous ones after
        (also when the block raises)."""
        self.begin_fit(device)
        try:
            yield self
        finally:
            self.end_fit()

    def begin_fit(self, device: str | None = None) -> None:
        """Called when fit starts (``device``: the model's): find the candidates, and apply
        the last choice."""
        full = blas.num_threads()
        self._restore = full
        fixed = os.environ.get("SHENDU_BLAS_THREADS", "auto").lower() == "fixed"
        if fixed or not full or full < 2 or on_gpu(device):
            self.candidates = []
            return
        if self.candidates != [full, 1]:
            self.candidates = [full, 1]
            self.choice = full
            self._start_probe()
        self._use(self.choice if not self.probing else self.order[self._block()])
        # the first step of a fit is not counted either (data, caches), nor the first few of
        # a model's first fit (its memory and replayed step being set up)
        self.warmup = max(self.warmup, 1)

    def _use(self, n):
        blas.set_num_threads(n)
        parallel.limit_threads(None if n == self.candidates[0] else n)

    def _block(self):
        return self.probe_step // BLOCK

    def _start_probe(self):
        self.probing = True
        self.times = {c: [] for c in self.candidates}
        self.probe_step = 0
        self.probe_spent = 0.0
        self.load()  # other programs' use is measured over the probe
        # one thread first: another program's threads still spinning when a fit starts slow
        # the multi-threaded steps, not the one-threaded ones (docs/benchmarks.md, "the
        # thread tuner"), so the all-threads block comes once that has passed; all threads
        # are cut short when clearly slower
        self.order = sorted(self.candidates)

    def begin_step(self) -> None:
        if not self.candidates:
            return
        now = self.clock()
        self.started = now
        due = self.trained >= self.next_probe
        if not self.probing and (due or self._load_moved(now)):
            self._start_probe()
        if self.probing:
            # the block's first step, right after switching (threads waking, caches), is
            # not counted
            self.current = self.order[self._block()]
            first_of_block = self.probe_step % BLOCK == 0
            self.counted = not first_of_block and not self.warmup
            if first_of_block:
                self._use(self.current)
        self.warmup = max(0, self.warmup - 1)

    def _load_moved(self, now):
        """Whether other programs' use of the cores has moved by ``LOAD_SHIFT`` since the
        last probe (read at most every ``LOAD_CHECK_S``)."""
        if now < self.next_load_check:
            return False
        self.next_load_check = now + LOAD_CHECK_S
        cores = self.load()
        if cores is None or self.probe_load is None:
            return False
        return abs(cores - self.probe_load) >= LOAD_SHIFT

    def end_step(self) -> None:
        if not self.candidates:
            return
        now = self.clock()
        # intervals and a probe's cost are counted in time spent in steps, not wall time:
        # between two fits the program may do other work (another library's run, a data
        # pass), which would otherwise bring probes on at every fit or push them back
        self.trained += now - self.started
        if not self.probing:
            return
        self.probe_spent += now - self.started
        current = self.order[self._block()] if self.current is None else self.current
        if self.counted:
            self.times[current].append(now - self.started)
            self.probe_step += 1
        elif self.probe_step % BLOCK == 0:
            self.probe_step += 1  # the block's uncounted first step
        # an uncounted first step of a fit inside a block is simply repeated
        first = self.times[self.order[0]]
        if self.counted and current != self.order[0] and first:
            if self.times[current][-1] > CUT_SHORT * statistics.median(first):
                self._decide(now, self.order[0])  # clearly slower: stop probing it
                return
        if self.probe_step == BLOCK and self.counted:  # the one-thread block has ended
            cores = self.load()
            full = self.candidates[0]
            if cores is not None and cores >= BUSY_SHARE * (full - 1):
                # other programs hold the cores the other threads would need: all threads
                # would lose (1.3-4x measured), so they are not run; a shift of the load
                # starts the next probe
                self._decide(now, 1, load=cores)
                return
        if self.probe_step >= BLOCK * len(self.candidates):
            full, one = self.candidates
            full_s = statistics.median(self.times[full])
            one_s = statistics.median(self.times[one])
            close = max(full_s, one_s) < CLOSE * min(full_s, one_s)
            self._decide(now, full if full_s < MARGIN * one_s else one, close)

    def _decide(self, now, choice, close=False, load=None):
        self.probe_load = self.load() if load is None else load
        self.next_load_check = now + LOAD_CHECK_S
        spacing = CLOSE_SPACING if close else PROBE_SPACING
        floor = max(REPROBE_MIN_S, spacing * self.probe_spent)
        if close:
            self.interval = floor  # a few steps of noise decided it: probed again soon
        elif self.interval is None or choice != self.choice:
            self.interval = floor  # a new choice is checked again soon
        else:
            self.interval = max(floor, min(REPROBE_S, 2 * self.interval))
        self.choice = choice
        self._use(choice)
        self.probing = False
        self.next_probe = self.trained + self.interval

    def end_fit(self) -> None:
        """Called when fit returns: the BLAS gets back the thread count it had before."""
        if self._restore and self.candidates:
            blas.set_num_threads(self._restore)
            parallel.limit_threads(None)
