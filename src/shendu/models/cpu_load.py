"""How many cores other programs use, measured between two readings.

The machine's busy time comes from the first line of Linux's ``/proc/stat`` (user, nice,
system, irq, softirq and steal ticks: steal is a virtual machine's core taken by its host),
this process's own from ``os.times`` (all its threads). Over a wall interval ``dt``::

    others = (Δ machine busy - Δ this process's CPU time) / dt      (cores, at least 0)

``fit``'s thread tuning (``models.thread_tuning``) probes its thread counts again when this
figure moves by half a core: another program starting or stopping changes which count is
faster, and steps timed against an old probe would not show it. Where ``/proc/stat`` cannot
be read (not Linux) every reading is None and the tuner keeps to its timed probes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

#: the /proc/stat fields (after the label) counted as busy: user nice system idle iowait irq
#: softirq steal; guest time is already inside user
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


class OtherProgramsLoad:
    """Cores used by other programs since the previous ``read`` (or since construction)."""

    def __init__(self, path: str = "/proc/stat", clock: Callable[[], float] = time.monotonic):
        self.path = path
        self.clock = clock
        self.ticks = _clock_ticks()
        self.last = self._sample()

    def _machine_busy_s(self) -> float | None:
        try:
            with open(self.path, "rb") as f:
                fields = f.readline().split()[1:]
            return sum(int(fields[i]) for i in BUSY_FIELDS) / self.ticks
        except (OSError, ValueError, IndexError):
            return None

    def _sample(self) -> tuple[float, float, float] | None:
        busy = self._machine_busy_s()
        if busy is None:
            return None
        own = os.times()
        return self.clock(), busy, own.user + own.system

    def read(self) -> float | None:
        """Other programs' cores since the last reading; None where it cannot be measured
        (no ``/proc/stat``, or no time has passed). Each reading starts the next interval."""
        now = self._sample()
        before, self.last = self.last, now
        if now is None or before is None or now[0] <= before[0]:
            return None
        machine = now[1] - before[1]
        own = now[2] - before[2]
        return max(0.0, (machine - own) / (now[0] - before[0]))
