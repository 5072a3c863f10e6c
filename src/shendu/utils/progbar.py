"""The progress bar, in Keras 3's format.

Interactive terminal (verbose=1)::

    12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9500 - loss: 0.1234

redrawn in place with a carriage return, at most every ``interval`` seconds.
On a stream that is not a terminal (a log file, CI), nothing is redrawn: one
line is written when the target is reached. verbose=2 writes one line per
epoch: ``12/12 - 0s - 2ms/step - accuracy: 0.9500 - loss: 0.1234``.
"""

from __future__ import annotations

import sys
import time

BAR_WIDTH = 20


def _format_value(v):
    if isinstance(v, (int, float)):
        return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"
    return str(v)


def _format_time(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """Progress bar for ``target`` steps (None when unknown).

    Args:
        target: total number of steps, or None.
        width: bar width in characters.
        verbose: 1 (bar), 2 (one line at the end), 0 (silent).
        interval: minimum seconds between redraws.
        stateful_metrics: names shown as given; every other value is shown as its mean
            over the steps so far (weighted by the steps each update covers), as Keras.
        stateless_metrics: the other way round: only these are averaged (give one of
            the two).
        unit_name: the unit of the per-step time ("step").
        stream: where to write (default ``sys.stdout``).
    """

    def __init__(
        self,
        target,
        width=BAR_WIDTH,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
        stream=None,
    ):
        from ..config import is_interactive_logging_enabled

        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                "`stateful_metrics` is used to make metrics stateless by default (with an "
                "exclusion list), while `stateless_metrics` is used to make metrics "
                "stateful by default (with an exclusion list)."
            )
        self.stateful_metrics = (
            None if stateless_metrics is not None else set(stateful_metrics or ())
        )
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._sums: dict = {}

        if verbose == 1 and not is_interactive_logging_enabled():
            verbose = 2  # one line per epoch instead of a redrawn bar
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stream = stream or sys.stdout
        self.dynamic = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.values: dict = {}
        self.seen = 0
        self.prev_len = 0

    def update(self, current, values=None, finalize=None):
        """Record progress ``current`` and the latest ``values`` (a dict or pairs): the
        averaged ones weigh by the steps since the last update; at the end (``finalize``)
        every value is taken as given, as Keras."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for key, value in dict(values or {}).items():
            if self.stateful_metrics is not None:
                averaged = key not in self.stateful_metrics
            else:
                averaged = key in (self.stateless_metrics or ())
            if averaged and not finalize:
                steps = max(current - self.seen, 1)
                total, count = self._sums.get(key, (0.0, 0))
                self._sums[key] = (total + value * steps, count + steps)
                total, count = self._sums[key]
                self.values[key] = total / count
            else:
                self._sums[key] = (value, 1)
                self.values[key] = value
        self.seen = current
        if self.verbose != 1:
            if finalize and self.verbose == 2:
                self.stream.write(self._line(current, compact=True) + "\n")
                self.stream.flush()
            return
        now = time.perf_counter()
        if not finalize and (not self.dynamic or now - self.last_draw < self.interval):
            return
        self.last_draw = now
        line = self._line(current)
        if self.dynamic:
            pad = max(self.prev_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self.prev_len = len(line)
            if finalize:
                self.stream.write("\n")
        elif finalize:
            self.stream.write(line + "\n")
        self.stream.flush()

    def add(self, n, values=None):
        self.update(self.seen + n, values)

    def _values_text(self):
        return "".join(f" - {k}: {_format_value(v)}" for k, v in sorted(self.values.items()))

    def _line(self, current, compact=False):
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(current, 1)
        target = self.target
        count = f"{current}/{target}" if target else f"{current}"
        if compact:
            return (
                f"{count} - {_format_time(elapsed)} - {_format_per_step(per_step)}"
                + self._values_text()
            )
        if target:
            filled = int(self.width * min(current, target) / target)
            bar_done, bar_left = "━" * filled, "━" * (self.width - filled)
            if self.dynamic:
                bar = f"\x1b[32m{bar_done}\x1b[0m\x1b[37m{bar_left}\x1b[0m"
                count = f"\x1b[1m{count}\x1b[0m"
            else:
                bar = bar_done + bar_left
            eta = per_step * (target - current) if current < target else elapsed
            time_text = _format_time(eta)
            if self.dynamic:
                time_text = f"\x1b[1m{time_text}\x1b[0m"
            head = f"{count} {bar} {time_text}"
        else:
            head = f"{count} {_format_time(elapsed)}"
        return f"{head} {_format_per_step(per_step)}" + self._values_text()
