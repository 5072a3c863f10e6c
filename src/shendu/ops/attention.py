"""Scaled dot-product attention as one graph node."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ._util import as_tensor, data_of

_NEG = -1e9


class DotProductAttention(Function):
    """out = softmax(q k^T * scale + bias, masked) v over (batch, heads) blocks.

    With P the attention weights and gO the output gradient:
    dV = P^T gO, dP = gO V^T, dS = P * (dP - sum(dP * P)), dQ = dS K scale,
    dK = dS^T Q scale, dbias = dS.  First-order only.
    """

    def __init__(self, scale, mask):
        self.scale, self.mask = scale, mask

    def forward(self, q, k, v, bias=None):
        xp = backend.array_module(q)
        # (B, T, N, H) -> (B, N, T, H); the scale goes on q, the smaller operand
        qh = (q * q.dtype.type(self.scale)).transpose(0, 2, 1, 3)
        kh, vh = (a.transpose(0, 2, 1, 3) for a in (k, v))
        s = qh @ kh.transpose(0, 1, 3, 2)
        if bias is not None:
            s = s + bias
        if self.mask is not None:
            s = xp.where(self.mask, s, _NEG)
        # softmax over the last axis, in place on the fresh scores; the row sums as a
        # matrix-vector product (faster than a reduction along short rows)
        s -= s.max(axis=-1, keepdims=True)
        p = xp.exp(s, out=s) if s.dtype == q.dtype else xp.exp(s).astype(q.dtype)
        p /= (p @ xp.ones(p.shape[-1], dtype=p.dtype))[..., None]
        out = p @ vh
        self.saved = (qh, kh, vh, p, bias is not None and np.shape(bias))
        return out.transpose(0, 2, 1, 3)

    def backward(self, gy):
        qh, kh, vh, p, bias_shape = self.saved
        xp = backend.array_module(gy)
        go = gy.transpose(0, 2, 1, 3)
        gv = p.transpose(0, 1, 3, 2) @ go
        gs = go @ vh.transpose(0, 1, 3, 2)  # dP, turned into dS in place
        gs -= xp.einsum("...i,...i->...", gs, p)[..., None]
        gs *= p
        if self.mask is not None:
            gs = xp.where(self.mask, gs, 0)
        gq = gs @ kh
        gq *= gq.dtype.type(self.scale)
        gk = gs.transpose(0, 1, 3, 2) @ qh  # qh already carries the scale
        out = tuple(g.transpose(0, 2, 1, 3) for g in (gq, gk, gv))
        if bias_shape is not False and bias_shape is not None:
            from ._util import sum_to_shape

            out += (sum_to_shape(gs, bias_shape),)
        return out


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Attention over inputs of shape (batch, seq, heads, head_dim), as ``keras.ops``.

    ``mask`` (broadcastable to (batch, heads, q_len, k_len)) is True where attending is
    allowed; ``is_causal`` adds the lower-triangular mask; ``scale`` defaults to
    1 / sqrt(head_dim).
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim != 4:
            raise ValueError(
                "dot_product_attention: expected rank-4 inputs (batch, seq, heads, head_dim). "
                f"Received: {name} shape={t.shape}"
            )
    if q.shape[-1] != k.shape[-1] or k.shape[1] != v.shape[1]:
        raise ValueError(
            "dot_product_attention: query/key head dims and key/value lengths must match. "
            f"Received: query={q.shape}, key={k.shape}, value={v.shape}"
        )
    xp = backend.array_module(q.data)
    m = None
    if mask is not None:
        m = xp.asarray(data_of(mask)).astype(bool)
    if is_causal:
        tq, tk = q.shape[1], k.shape[1]
        causal = xp.tril(xp.ones((tq, tk), dtype=bool), k=tk - tq)
        m = causal if m is None else (m & causal)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    fn = DotProductAttention(scale, m)
    if bias is None:
        return fn.apply(q, k, v)
    return fn.apply(q, k, v, bias)
