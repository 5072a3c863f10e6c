"""Sample inputs shared by the op test families (float64)."""

import numpy as np

UNARY_SHAPES = [(), (3,), (5,), (10,), (3, 4), "noncontig", (0,)]
BINARY_SHAPES = [
    ((), ()),
    ((3,), (3,)),
    ((5,), ()),
    ((10,), (10,)),
    ((3, 4), (3, 1)),
    ((3, 1), (1, 4)),
    ("noncontig", "noncontig"),
    ((0,), (0,)),
]


def make(shape, rng, low=-2.0, high=2.0, avoid=None):
    if shape == "noncontig":
        a = rng.uniform(low, high, size=(4, 3)).T  # a (3, 4) view, not C-contiguous
    else:
        a = rng.uniform(low, high, size=shape)
    a = np.asarray(a, dtype=np.float64)
    if avoid is not None:  # keep finite differences away from kinks
        for k in avoid:
            close = np.abs(a - k) < 0.05
            a = np.where(close, a + 0.1, a)
    return a
