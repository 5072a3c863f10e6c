"""Fused storage: an optimizer's variables, their gradients and its slots, each in one array.

``FusedStorage(variables, slots)`` copies every variable into its segment of ``params``
and binds it there (``Variable.bind_storage``): the variable's value is a view of
``params`` and backward writes its gradient into its view of ``grads``. The optimizer's
slots (Adam's moments...) move into arrays laid out the same way. An elementwise update
rule then runs once over the whole buffers, whatever the number of layers, and a
data-parallel step needs one allreduce of ``grads``.

Per-variable settings become segments: weight decay runs over the merged ranges of the
variables it applies to, constraints on each constrained variable's view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from .. import backend
from ..annotations import Array, TensorLike
from ..autograd.tensor import Tensor


class Bindable(Protocol):
    """What fused storage needs of a variable (``layers.Variable`` has it)."""

    data: Array
    path: str | None
    constraint: Any

    @property
    def shape(self) -> tuple: ...

    @property
    def size(self) -> int: ...

    @property
    def dtype(self) -> Any: ...

    @property
    def grad_buffer(self) -> Array | None: ...

    def bind_storage(self, value_view: Array, grad_view: Array) -> None: ...

    def unbind_storage(self) -> None: ...


def can_fuse(variables: Sequence[Any]) -> str | None:
    """Why ``variables`` cannot share one storage, or None."""
    if not variables:
        return "no variables"
    if not all(hasattr(v, "bind_storage") for v in variables):
        return "a Tensor that is not a Variable (it cannot be bound to storage)"
    if len({v.dtype for v in variables}) != 1:
        return f"variables of several dtypes {sorted({str(v.dtype) for v in variables})}"
    if len({backend.array_module(v.data).__name__ for v in variables}) != 1:
        return "variables on several devices"
    return None


class FusedStorage:
    """Contiguous storage for ``variables`` (one dtype, one device) and their slots.

    ``slots``: per variable, a dict of slot name -> array of the variable's shape; each
    array is replaced (in the dict) by its view of the fused slot array of that name.
    """

    def __init__(self, variables: Sequence[Bindable], slots: list[dict]):
        self.variables: list[Bindable] = list(variables)
        variables = self.variables
        reason = can_fuse(variables)
        if reason is not None:
            raise ValueError(f"FusedStorage: {reason}")
        xp = backend.array_module(variables[0].data)
        self.sizes = [v.size for v in variables]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        total = int(self.offsets[-1])
        dtype = variables[0].dtype
        self.params = xp.empty(total, dtype=dtype)
        self.grads = xp.zeros(total, dtype=dtype)
        for v, lo, hi in self.segments():
            v.bind_storage(self.params[lo:hi].reshape(v.shape), self.grads[lo:hi].reshape(v.shape))
        self.slots: dict[str, Array] = {}
        for name in slots[0] if slots else ():
            buffer = xp.empty(total, dtype=slots[0][name].dtype)
            for own, (v, lo, hi) in zip(slots, self.segments()):
                buffer[lo:hi] = own[name].reshape(-1)
                own[name] = buffer[lo:hi].reshape(v.shape)
            self.slots[name] = buffer
        self._decay_key: Any = None
        self._decay_ranges: list[tuple[int, int]] = []

    def segments(self) -> Iterator[tuple[Bindable, int, int]]:
        """(variable, start, stop) per variable."""
        return zip(self.variables, self.offsets[:-1], self.offsets[1:])

    def matches(self, variables: Sequence[Any]) -> bool:
        """Whether ``variables`` are this storage's, in order, each still bound to it."""
        return (
            len(variables) == len(self.variables)
            and all(a is b for a, b in zip(variables, self.variables))
            and all(v.data.base is self.params for v in self.variables)
        )

    def release(self) -> None:
        """Give every variable an array of its own again."""
        for v in self.variables:
            if v.data.base is self.params:
                v.unbind_storage()

    def gather(self, grads: Sequence[TensorLike | None]) -> Array:
        """The flat gradient: the views backward filled stay, other arrays are copied in."""
        for given, (v, lo, hi) in zip(grads, self.segments()):
            g = given.data if isinstance(given, Tensor) else given
            if g is None:
                raise ValueError(f"No gradient for variable {v.path!r} of fused storage")
            if g is not v.grad_buffer:
                if tuple(g.shape) != v.shape:
                    raise ValueError(
                        f"Gradient of shape {tuple(g.shape)} for variable {v.path!r} of shape "
                        f"{v.shape}"
                    )
                self.grads[lo:hi] = g.reshape(-1)
        return self.grads

    def decay_ranges(self, decays: Callable[[Any], bool], key: Any) -> list[tuple[int, int]]:
        """Merged (start, stop) ranges of the variables for which ``decays(v)`` holds,
        recomputed when ``key`` (the optimizer's exclusion settings) changes."""
        if key != self._decay_key:
            ranges: list[list[int]] = []
            for v, lo, hi in self.segments():
                if not decays(v):
                    continue
                if ranges and ranges[-1][1] == lo:
                    ranges[-1][1] = int(hi)
                else:
                    ranges.append([int(lo), int(hi)])
            self._decay_ranges = [(lo, hi) for lo, hi in ranges]
            self._decay_key = key
        return self._decay_ranges

    def segment_norms(self, g: Array) -> Array:
        xp = backend.array_module(g)
        sq = g * g
        return xp.sqrt(xp.add.reduceat(sq, self.offsets[:-1])) if len(g) else sq
