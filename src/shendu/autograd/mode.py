"""Grad mode: whether ops record the graph (``no_grad`` / ``enable_grad`` /
``set_grad_enabled``).

The mode belongs to the running context (a ``contextvars`` variable), as PyTorch's belongs
to its thread: a thread that enters ``no_grad`` (``predict`` in a thread pool) leaves every
other thread recording, and a new thread starts with recording on.
"""

from __future__ import annotations

import contextvars
import functools

#: whether ops record the graph, in this context
GRAD_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "shendu_grad_enabled", default=True
)


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward (in this thread or task)."""
    return GRAD_ENABLED.get()


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    mode = True

    def __enter__(self):
        self._token = GRAD_ENABLED.set(self.mode)
        return self

    def __exit__(self, *exc):
        GRAD_ENABLED.reset(self._token)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_SetGradMode):  # noqa: N801 - the PyTorch name
    """Ops inside record nothing and keep nothing alive for backward.

    Example:
    >>> import shendu
    >>> w = shendu.tensor([1.0, 2.0], requires_grad=True)
    >>> with shendu.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801 - the PyTorch name
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled:  # noqa: N801 - the PyTorch name
    """Set grad mode to ``mode`` now, in this thread or task (PyTorch's
    ``torch.set_grad_enabled``); used as a context manager, the previous mode comes back
    on exit.

    Example:
    >>> import shendu
    >>> with shendu.set_grad_enabled(False):
    ...     shendu.is_grad_enabled()
    False
    >>> shendu.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool):
        self._previous = GRAD_ENABLED.get()
        GRAD_ENABLED.set(bool(mode))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        GRAD_ENABLED.set(self._previous)
        return False
