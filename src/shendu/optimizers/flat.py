"""The flat parameter buffer: every trainable variable a view into one contiguous array.

After ``FlatBuffer(variables)`` each variable's ``.data`` is a view into ``params`` and
its gradient is written by the backward engine straight into its view of ``grads``.
An optimizer then updates all parameters with a handful of vectorised operations on
the two buffers, whatever the number of layers, and a data-parallel step needs one
allreduce of ``grads``.
"""

from __future__ import annotations

import numpy as np

from .. import backend


class FlatBuffer:
    """Contiguous storage for ``variables`` (all of one dtype and device)."""

    def __init__(self, variables):
        variables = list(variables)
        if not variables:
            raise ValueError("FlatBuffer needs at least one variable")
        dtypes = {v.dtype for v in variables}
        if len(dtypes) != 1:
            raise ValueError(f"FlatBuffer: variables of several dtypes {sorted(map(str, dtypes))}")
        xp = backend.array_module(variables[0].data)
        self.variables = variables
        self.sizes = [v.size for v in variables]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        total = int(self.offsets[-1])
        dtype = variables[0].dtype
        self.params = xp.empty(total, dtype=dtype)
        self.grads = xp.zeros(total, dtype=dtype)
        for v, lo, hi in zip(variables, self.offsets[:-1], self.offsets[1:]):
            v.bind_storage(self.params[lo:hi].reshape(v.shape), self.grads[lo:hi].reshape(v.shape))

    def segments(self):
        return zip(self.variables, self.offsets[:-1], self.offsets[1:])

    def gather_grads(self):
        """The flat gradient: the views backward filled, plus copies of any other arrays."""
        for v, lo, hi in self.segments():
            g = v.grad.data
            if g is not v.grad_buffer:
                self.grads[lo:hi] = g.reshape(-1)
        return self.grads

    def matches(self, variables) -> bool:
        return len(variables) == len(self.variables) and all(
            a is b for a, b in zip(variables, self.variables)
        )

    def is_intact(self) -> bool:
        """False when a variable's data was replaced (no longer a view of the buffer)."""
        params = self.params
        return all(v.data.base is params for v in self.variables)

    def segment_norms(self, g):
        xp = backend.array_module(g)
        sq = g * g
        return xp.sqrt(xp.add.reduceat(sq, self.offsets[:-1])) if len(g) else sq
