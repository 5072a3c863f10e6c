"""Keras's scopes: ``StatelessScope``, ``SymbolicScope``, ``name_scope`` and ``device``.

- ``StatelessScope(state_mapping)``: inside, the variables of ``state_mapping`` hold the
  given values and every variable assignment lands on a copy; on exit each variable gets
  its old value back, and ``scope.get_current_value(v)`` gives the value it had at the end
  of the block (Keras's functional way to run stateful layers without changing them).
- ``SymbolicScope``: accepted for Keras code (shendu builds symbolic graphs with
  ``Input``; nothing changes inside).
- ``name_scope(name)``: a stack of names; ``current_path()`` joins them with '/'.
- ``device("cpu" | "gpu" | "gpu:0")``: new weights and batches go to that device inside.
"""

from __future__ import annotations

import threading

import numpy as np

from . import backend

_LOCAL = threading.local()


def _stack(name):
    stack = getattr(_LOCAL, name, None)
    if stack is None:
        stack = []
        setattr(_LOCAL, name, stack)
    return stack


class StatelessScope:
    def __init__(self, state_mapping=None, collect_losses=False, initialize_variables=True):
        self.state_mapping = list(state_mapping or [])
        self.collect_losses = collect_losses
        self.losses = []
        self._saved = {}
        self._final = {}

    def __enter__(self):
        _stack("stateless").append(self)
        for variable, value in self.state_mapping:
            self.protect(variable)
            data = (
                value.data
                if hasattr(value, "data") and not isinstance(value, np.ndarray)
                else value
            )
            variable.data[...] = np.asarray(data, dtype=variable.dtype)
        return self

    def protect(self, variable):
        """Give ``variable`` a private copy of its value for the rest of the scope."""
        if id(variable) not in self._saved:
            self._saved[id(variable)] = (variable, variable.data)
            variable.data = variable.data.copy()

    def get_current_value(self, variable):
        """The variable's value inside the scope (at its end, once the scope has exited)."""
        if id(variable) in self._final:
            return self._final[id(variable)]
        return variable.data

    def add_loss(self, loss):
        self.losses.append(loss)

    def __exit__(self, *exc):
        _stack("stateless").pop()
        for key, (variable, original) in self._saved.items():
            self._final[key] = variable.data
            variable.data = original
        self._saved = {}
        return False


def active_stateless_scope():
    """The innermost StatelessScope of this thread, or None."""
    stack = _stack("stateless")
    return stack[-1] if stack else None


def in_stateless_scope() -> bool:
    return active_stateless_scope() is not None


class SymbolicScope:
    def __enter__(self):
        _stack("symbolic").append(self)
        return self

    def __exit__(self, *exc):
        _stack("symbolic").pop()
        return False


def in_symbolic_scope() -> bool:
    return bool(_stack("symbolic"))


class name_scope:  # noqa: N801 - the Keras name
    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name_scope: `name` must be a non-empty string. Received: {name!r}")
        self.name = name

    def __enter__(self):
        _stack("names").append(self.name)
        return self

    def __exit__(self, *exc):
        _stack("names").pop()
        return False


def current_path() -> str:
    """The names of the open ``name_scope`` blocks, joined with '/'."""
    return "/".join(_stack("names"))


class device:  # noqa: N801 - the Keras name
    def __init__(self, device_name):
        name = str(device_name).lower().split(":")[0]
        if name in ("cuda",):
            name = "gpu"
        if name not in ("cpu", "gpu"):
            raise ValueError(
                f"Invalid device name: {device_name!r}. Expected 'cpu' or 'gpu' (optionally "
                "with ':index')"
            )
        self.device_name = name

    def __enter__(self):
        self._previous = backend.device()
        backend.set_device(self.device_name)
        return self

    def __exit__(self, *exc):
        backend.set_device(self._previous)
        return False


__all__ = [
    "StatelessScope",
    "SymbolicScope",
    "active_stateless_scope",
    "current_path",
    "device",
    "in_stateless_scope",
    "in_symbolic_scope",
    "name_scope",
]
