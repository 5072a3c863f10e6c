"""``KerasTensor``: a symbolic tensor of the functional API (a shape, a dtype, where it came
from). ``layers.symbolic`` records the layer calls on them."""

from __future__ import annotations

import numpy as np


class KerasTensor:
    """A placeholder with a shape (None for unknown), a dtype and the node that made it."""

    def __init__(self, shape, dtype=None, name=None, node=None, index=0, has_mask=False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype or "float32")
        self.name = name
        self.node = node
        self.index = index
        self.has_mask = has_mask

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def _unsupported(self, *args, **kwargs):
        raise TypeError(
            "Ops on symbolic inputs of a functional model must go through layers. "
            "Wrap the computation in a layer, e.g. shendu.layers.Lambda(lambda t: ...)(x)."
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unsupported
    __truediv__ = __rtruediv__ = __matmul__ = __pow__ = __neg__ = __getitem__ = _unsupported
    __array_ufunc__ = None
