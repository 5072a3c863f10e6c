"""Connectionist temporal classification: ``ctc_loss`` and ``ctc_decode`` (Keras's names and
conventions: ``output`` holds logits (batch, time, classes), ``mask_index`` is the blank).

The loss is the forward (alpha) recursion of Graves et al. in log space over the labels
interleaved with blanks, written with differentiable ops (``logaddexp``, ``where``), so
its gradient is the exact derivative of -log p(target | output), as in Keras (which ports
optax's formulation). Decoding is greedy (best class per step, repeats merged, blanks
dropped) or a CTC prefix beam search.
"""

from __future__ import annotations

import numpy as np

from ._util import as_tensor, data_of

_LOG_EPS = -1e5


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC loss per sequence: -log of the total probability of the alignments of
    ``target`` (batch, max_label) to ``output`` (batch, time, classes: logits)."""
    from .. import backend
    from .arithmetic import cast
    from .elementwise import logaddexp
    from .nn import log_softmax
    from .reduction import sum as sum_
    from .shape import concatenate, take_along_axis

    labels = np.asarray(data_of(target)).astype(np.int64)
    logits = as_tensor(output)
    if logits.dtype.kind != "f":
        logits = cast(logits, backend.floatx())
    t_len = np.asarray(data_of(target_length)).astype(np.int64).reshape(-1)
    o_len = np.asarray(data_of(output_length)).astype(np.int64).reshape(-1)
    batch, steps, classes = logits.shape
    n = labels.shape[1]
    dtype = logits.dtype
    logprobs = log_softmax(logits, axis=-1)
    # emission scores of each label position and of the blank, per step
    idx = np.broadcast_to(np.clip(labels, 0, classes - 1)[:, None, :], (batch, steps, n))
    emit = take_along_axis(logprobs, idx, axis=-1)  # (B, T, N)
    blank = logprobs[:, :, mask_index : mask_index + 1]  # (B, T, 1)
    repeat = np.zeros((batch, n), dtype)
    repeat[:, :-1] = labels[:, :-1] == labels[:, 1:]
    phi0 = np.full((batch, n + 1), _LOG_EPS, dtype)
    phi0[:, 0] = 0.0
    phi = as_tensor(phi0)
    emit_state = as_tensor(np.full((batch, n), _LOG_EPS, dtype))
    pad = (np.arange(steps)[None, :] >= o_len[:, None]).astype(dtype)  # (B, T)

    def add_to_tail(p, score):
        return concatenate([p[:, :1], logaddexp(p[:, 1:], score)], axis=-1)

    for t in range(steps):
        e_t, b_t = emit[:, t], blank[:, t]
        prev_phi = phi
        phi_in = add_to_tail(phi, emit_state + _LOG_EPS * repeat)
        next_emit = logaddexp(phi_in[:, :-1] + e_t, emit_state + e_t)
        next_phi = add_to_tail(phi_in + b_t, emit_state + b_t + _LOG_EPS * (1.0 - repeat))
        keep = pad[:, t : t + 1]
        emit_state = keep * emit_state + (1.0 - keep) * next_emit
        phi = keep * prev_phi + (1.0 - keep) * next_phi
    phi = add_to_tail(phi, emit_state)
    lengths = np.clip(t_len, 0, n)
    pick = np.zeros((batch, n + 1), dtype)
    pick[np.arange(batch), lengths] = 1.0
    return -sum_(phi * pick, axis=-1)


def _greedy(scores, lengths, merge_repeated, blank):
    batch, steps, _ = scores.shape
    best = scores.argmax(-1)
    best_score = scores.max(-1)
    beyond = np.arange(steps)[None, :] >= lengths[:, None]
    best = np.where(beyond, blank, best)
    best_score = np.where(beyond, 0.0, best_score)
    if merge_repeated:
        repeat = np.zeros_like(best, bool)
        repeat[:, 1:] = best[:, 1:] == best[:, :-1]
        best = np.where(repeat, blank, best)
    invalid = best == blank
    best = np.where(invalid, -1, best)
    order = np.argsort(np.where(invalid, steps, np.arange(steps)[None, :]), axis=-1, kind="stable")
    decoded = np.take_along_axis(best, order, axis=-1)
    return decoded[None].astype(np.int32), (-best_score.sum(axis=1))[:, None]


def _logsumexp2(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    m = max(a, b)
    return m + np.log(np.exp(a - m) + np.exp(b - m))


def _beam_search(logprobs, length, beam_width, top_paths, blank):
    """CTC prefix beam search over one sequence: (prefix, log probability) pairs."""
    beams: dict = {(): (0.0, -np.inf)}  # prefix -> (log p ending in blank, log p ending in label)
    for t in range(length):
        nxt: dict = {}
        row = logprobs[t]
        for prefix, (p_b, p_nb) in beams.items():
            total = _logsumexp2(p_b, p_nb)
            for c in range(len(row)):
                p = row[c]
                if c == blank:
                    b, nb = nxt.get(prefix, (-np.inf, -np.inf))
                    nxt[prefix] = (_logsumexp2(b, total + p), nb)
                    continue
                last = prefix[-1] if prefix else None
                extended = prefix + (c,)
                b, nb = nxt.get(extended, (-np.inf, -np.inf))
                if c == last:
                    nxt[extended] = (b, _logsumexp2(nb, p_b + p))
                    b0, nb0 = nxt.get(prefix, (-np.inf, -np.inf))
                    nxt[prefix] = (b0, _logsumexp2(nb0, p_nb + p))
                else:
                    nxt[extended] = (b, _logsumexp2(nb, total + p))
        ranked = sorted(nxt.items(), key=lambda kv: -_logsumexp2(*kv[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda kv: -_logsumexp2(*kv[1]))[:top_paths]
    return [(list(prefix), _logsumexp2(*probs)) for prefix, probs in ranked]


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decode (batch, time, classes) scores: (decoded, scores), decoded of shape
    (top_paths, batch, time) padded with -1. Greedy scores are minus the sum of the best
    scores per step; beam search scores are the paths' log probabilities."""
    from ..autograd.tensor import Tensor

    scores = np.asarray(data_of(as_tensor(inputs)), np.float64)
    lengths = np.asarray(data_of(sequence_lengths)).astype(np.int64).reshape(-1)
    blank = scores.shape[-1] - 1 if mask_index is None else mask_index
    if strategy == "greedy":
        decoded, score = _greedy(scores, lengths, merge_repeated, blank)
        return Tensor.wrap(decoded), Tensor.wrap(score.astype(np.float32))
    if strategy != "beam_search":
        raise ValueError(
            f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'."
        )
    batch, steps, _ = scores.shape
    logprobs = (
        scores
        - np.log(np.exp(scores - scores.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - scores.max(-1, keepdims=True)
    )
    decoded = np.full((top_paths, batch, steps), -1, np.int32)
    log_p = np.full((batch, top_paths), -np.inf)
    for b in range(batch):
        for k, (path, lp) in enumerate(
            _beam_search(logprobs[b], lengths[b], beam_width, top_paths, blank)
        ):
            decoded[k, b, : len(path)] = path
            log_p[b, k] = lp
    return Tensor.wrap(decoded), Tensor.wrap(log_p.astype(np.float32))


__all__ = ["ctc_decode", "ctc_loss"]


from ._util import export_ops  # noqa: E402

export_ops(globals())
