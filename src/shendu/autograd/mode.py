"""Grad mode: whether ops record the graph (``no_grad`` / ``enable_grad``)."""

from __future__ import annotations

import functools


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return _GradMode.enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    mode = True

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self._previous
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
