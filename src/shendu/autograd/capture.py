"""Capturing the ops that run: the autograd hook a recorded training step uses.

``with capturing(observer):`` makes every op that runs in this context (this thread, this
task) call ``observer.record(function, inputs, settings, outputs)`` after its forward:
the node, its inputs as given (Tensors, arrays, constants), its settings (``Function.settings``,
what a replay copies) and its outputs. Outside the block nothing is observed. The hook is a
context variable, so two threads can capture two steps at once without seeing each other's
ops, and a capture cannot leak past its block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

#: the observer of the current context, or None
current: ContextVar[Any] = ContextVar("shendu_op_capture", default=None)


class OpObserver(Protocol):
    def record(self, function: Any, inputs: tuple, settings: dict, outputs: Any) -> None: ...


@contextlib.contextmanager
def capturing(observer: OpObserver) -> Iterator[OpObserver]:
    """Within the block, every op of this context is passed to ``observer.record``."""
    token = current.set(observer)
    try:
        yield observer
    finally:
        current.reset(token)


def active_observer() -> OpObserver | None:
    """The observer capturing this context's ops, or None."""
    return current.get()


__all__ = ["OpObserver", "active_observer", "capturing"]
