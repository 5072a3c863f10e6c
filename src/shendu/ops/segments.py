"""Segment reductions (``keras.ops.segment_*``): out[s] reduces the rows of ``data`` whose
``segment_ids`` equal s (ids of -1 are dropped; ``num_segments`` defaults to the largest id
plus one; empty segments hold the reduction's identity: 0, 1, -inf, +inf).

Gradients: segment_sum scatters back (d data_i = g[id_i]); segment_prod gives each row the
product of the others of its segment times g; segment_max and segment_min share g among
the rows that attain the extreme.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ._util import as_tensor, data_of

_IDENTITY = {"sum": 0.0, "prod": 1.0, "max": -np.inf, "min": np.inf}
_UFUNC = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}


class SegmentReduce(Function):
    def __init__(self, kind, ids, num_segments):
        self.kind, self.ids, self.num_segments = kind, ids, num_segments

    def forward(self, data):
        valid = self.ids >= 0
        self.data, self.valid = data, valid
        out = np.full((self.num_segments,) + data.shape[1:], _IDENTITY[self.kind], data.dtype)
        if data.dtype.kind in "iub" and self.kind in ("max", "min"):
            if data.dtype.kind == "b":  # the identities of max and min over bools
                low, high = 0, 1  # False, True
            else:
                info = np.iinfo(data.dtype)
                low, high = info.min, info.max
            out = np.full(out.shape, low if self.kind == "max" else high, data.dtype)
        _UFUNC[self.kind].at(out, self.ids[valid], data[valid])
        self.out = out
        return out

    def backward(self, g):
        ids, valid, data = self.ids, self.valid, self.data
        gx = np.zeros_like(data)
        rows = np.flatnonzero(valid)
        seg = ids[valid]
        if self.kind == "sum":
            gx[rows] = g[seg]
        elif self.kind == "prod":
            # the product of the other rows of the segment, exact with zeros
            for s in np.unique(seg):
                members = rows[seg == s]
                block = data[members]
                n = len(members)
                left = np.cumprod(np.concatenate([np.ones_like(block[:1]), block[:-1]]), axis=0)
                right = np.cumprod(
                    np.concatenate([np.ones_like(block[:1]), block[::-1][:-1]]), axis=0
                )[::-1]
                gx[members] = g[s] * left * right if n else 0
        else:
            hit = (data[rows] == self.out[seg]).astype(data.dtype)
            counts = np.zeros_like(self.out)
            np.add.at(counts, seg, hit)
            gx[rows] = hit * g[seg] / np.maximum(counts[seg], 1)
        return gx


def _segment(kind, data, segment_ids, num_segments, sorted):  # noqa: A002
    data = as_tensor(data)
    ids = np.asarray(data_of(segment_ids)).astype(np.int64).reshape(-1)
    if ids.shape[0] != data.shape[0]:
        raise ValueError(
            f"segment_{kind}: `segment_ids` has {ids.shape[0]} entries but `data` has "
            f"{data.shape[0]} rows"
        )
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    if ids.size and ids.max() >= num_segments:
        raise ValueError(
            f"segment_{kind}: a segment id {int(ids.max())} is not below num_segments="
            f"{num_segments}"
        )
    return SegmentReduce(kind, ids, int(num_segments)).apply(data)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment("sum", data, segment_ids, num_segments, sorted)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment("prod", data, segment_ids, num_segments, sorted)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment("max", data, segment_ids, num_segments, sorted)


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment("min", data, segment_ids, num_segments, sorted)


__all__ = ["segment_max", "segment_min", "segment_prod", "segment_sum"]


from ._util import export_ops  # noqa: E402

export_ops(globals())
