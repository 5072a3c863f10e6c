"""Scaled dot-product attention as one graph node."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ._util import as_tensor, data_of, split_batch, sum_to_shape

_NEG = -1e9


class DotProductAttention(Function):
    """out = softmax(q k^T * scale + bias, masked) v over (batch, heads) blocks.

    With P the attention weights and gO the output gradient:
    dV = P^T gO, dP = gO V^T, dS = P * (dP - sum(dP * P)), dQ = dS K scale,
    dK = dS^T Q scale, dbias = dS.  First-order only.
    """

    def __init__(self, scale, mask, causal=False):
        self.scale, self.mask, self.causal = scale, mask, causal

    def forward(self, q, k, v, bias=None):
        xp = backend.array_module(q)
        mask = self.mask
        if self.causal:  # made here, so that a recorded training step holds no mask array
            tq, tk = q.shape[1], k.shape[1]
            causal = xp.tril(xp.ones((tq, tk), dtype=bool), k=tk - tq)
            mask = causal if mask is None else (mask & causal)
        self.full_mask = mask
        # (B, T, N, H) -> (B, N, T, H); the scale goes on q, the smaller operand
        qh = (q * q.dtype.type(self.scale)).transpose(0, 2, 1, 3)
        kh, vh = (a.transpose(0, 2, 1, 3) for a in (k, v))
        b, n, t_q, _ = qh.shape
        p = xp.empty((b, n, t_q, kh.shape[2]), dtype=q.dtype)
        out = xp.empty((b, n, t_q, vh.shape[3]), dtype=xp.result_type(q.dtype, v.dtype))
        ones = xp.ones(p.shape[-1], dtype=p.dtype)

        def rows(a, e):  # the samples a..e-1
            s = qh[a:e] @ kh[a:e].transpose(0, 1, 3, 2)
            if bias is not None:
                s = s + _batch_rows(bias, a, e)
            if mask is not None:
                s = xp.where(_batch_rows(mask, a, e), s, _NEG)
            # softmax over the last axis, in place; the row sums as a matrix-vector
            # product (faster than a reduction along short rows)
            s -= s.max(axis=-1, keepdims=True)
            pr = p[a:e]
            xp.exp(s, out=pr)
            pr /= (pr @ ones)[..., None]
            xp.matmul(pr, vh[a:e], out=out[a:e])

        split_batch(xp, rows, b, p.size, own_products=True)
        self.saved = (qh, kh, vh, p, None if bias is None else np.shape(bias))
        return out.transpose(0, 2, 1, 3)

    def backward(self, gy):
        qh, kh, vh, p, bias_shape = self.saved
        xp = backend.array_module(gy)
        dt = xp.result_type(gy.dtype, p.dtype)
        gq, gk, gv = (xp.empty(a.shape, dtype=dt) for a in (qh, kh, vh))
        gs_all = None if bias_shape is None else xp.empty(p.shape, dtype=dt)
        scale = gq.dtype.type(self.scale)

        def rows(a, e):  # the samples a..e-1
            go = gy[a:e].transpose(0, 2, 1, 3)
            pr = p[a:e]
            xp.matmul(pr.transpose(0, 1, 3, 2), go, out=gv[a:e])
            gs = go @ vh[a:e].transpose(0, 1, 3, 2)  # dP, turned into dS in place
            gs -= xp.einsum("...i,...i->...", gs, pr)[..., None]
            gs *= pr
            if self.full_mask is not None:
                gs = xp.where(_batch_rows(self.full_mask, a, e), gs, 0)
            xp.matmul(gs, kh[a:e], out=gq[a:e])
            gq[a:e] *= scale
            # qh already carries the scale
            xp.matmul(gs.transpose(0, 1, 3, 2), qh[a:e], out=gk[a:e])
            if gs_all is not None:
                gs_all[a:e] = gs

        split_batch(xp, rows, p.shape[0], p.size, own_products=True)
        out = tuple(g.transpose(0, 2, 1, 3) for g in (gq, gk, gv))
        if gs_all is not None:
            out += (sum_to_shape(gs_all, bias_shape),)
        return out


def _batch_rows(a, start, stop):
    """Rows start..stop-1 of a mask or bias that broadcasts against (B, N, T, S)."""
    if a.ndim == 4 and a.shape[0] != 1:
        return a[start:stop]
    return a


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Attention over inputs of shape (batch, seq, heads, head_dim), as ``keras.ops``.

    ``mask`` (broadcastable to (batch, heads, q_len, k_len)) is True where attending is
    allowed; ``is_causal`` adds the lower-triangular mask; ``scale`` defaults to
    1 / sqrt(head_dim). ``attn_logits_soft_cap`` c caps the logits as c tanh(logits / c)
    (computed by composed ops); ``flash_attention`` is accepted (the fused node is used).
    """
    if attn_logits_soft_cap is not None:
        return _soft_capped_attention(
            query, key, value, bias, mask, scale, is_causal, float(attn_logits_soft_cap)
        )
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
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    fn = DotProductAttention(scale, m, bool(is_causal))
    if bias is None:
        return fn.apply(q, k, v)
    return fn.apply(q, k, v, bias)


def _soft_capped_attention(query, key, value, bias, mask, scale, is_causal, cap):
    """softmax(c tanh((q k^T scale + bias) / c), masked) v, from differentiable ops."""
    from .arithmetic import tanh, where
    from .linalg import einsum
    from .nn import softmax

    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    logits = einsum("bthd,bshd->bhts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    logits = cap * tanh(logits / cap)
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed &= np.broadcast_to(np.asarray(data_of(mask)).astype(bool), logits.shape)
    if is_causal:
        allowed &= np.tril(np.ones(logits.shape[-2:], bool))
    probs = softmax(where(allowed, logits, -1e9), axis=-1)
    return einsum("bhts,bshd->bthd", probs, v)


from ._util import export_ops  # noqa: E402

export_ops(globals())
