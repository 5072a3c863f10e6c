"""Whole-sequence RNN ops and attention: against explicit step loops, gradient checks, masks."""

import numpy as np
import pytest

from shendu import ops
from shendu.testing import gradcheck

RNG = np.random.default_rng(0)


def sig(x):
    return 1 / (1 + np.exp(-x))


def lstm_loop(x, h, c, w, u, b, mask=None):
    units = u.shape[0]
    outs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ w + h @ u + b
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c_new = sig(f) * c + sig(i) * np.tanh(g)
        h_new = sig(o) * np.tanh(c_new)
        if mask is not None:
            keep = mask[:, t][:, None]
            c_new, h_new = np.where(keep, c_new, c), np.where(keep, h_new, h)
        h, c = h_new, c_new
        outs.append(h)
    return np.stack(outs, 1), h, c


def gru_loop(x, h, w, u, b, reset_after=True):
    units = u.shape[0]
    outs = []
    for t in range(x.shape[1]):
        if reset_after:
            xz = x[:, t] @ w + b[0]
            hz = h @ u + b[1]
            z = sig(xz[:, :units] + hz[:, :units])
            r = sig(xz[:, units : 2 * units] + hz[:, units : 2 * units])
            hh = np.tanh(xz[:, 2 * units :] + r * hz[:, 2 * units :])
        else:
            xz = x[:, t] @ w + b
            z = sig(xz[:, :units] + h @ u[:, :units])
            r = sig(xz[:, units : 2 * units] + h @ u[:, units : 2 * units])
            hh = np.tanh(xz[:, 2 * units :] + (r * h) @ u[:, 2 * units :])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, 1), h


def _params(f, units, gates, bias_shape=None):
    return (
        RNG.standard_normal((f, gates * units)) * 0.5,
        RNG.standard_normal((units, gates * units)) * 0.5,
        RNG.standard_normal(bias_shape or (gates * units,)) * 0.5,
    )


def test_lstm_forward_matches_loop_float32():
    x = RNG.standard_normal((3, 5, 4))
    w, u, b = _params(4, 6, 4)
    h0, c0 = RNG.standard_normal((3, 6)), RNG.standard_normal((3, 6))
    seq, h, c = ops.lstm(*(a.astype(np.float32) for a in (x, h0, c0, w, u, b)))
    ref_seq, ref_h, ref_c = lstm_loop(x, h0, c0, w, u, b)
    assert seq.dtype == np.float32
    np.testing.assert_allclose(seq.numpy(), ref_seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), ref_c, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_gradcheck(return_sequences, go_backwards, masked):
    x = RNG.standard_normal((2, 4, 3))
    w, u, b = _params(3, 2, 4)
    h0, c0 = RNG.standard_normal((2, 2)), RNG.standard_normal((2, 2))
    mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool) if masked else None

    def f(*a):
        return ops.lstm(
            *a, mask=mask, go_backwards=go_backwards, return_sequences=return_sequences
        )

    assert gradcheck(f, (x, h0, c0, w, u, b))


def test_masked_lstm_equals_lstm_on_trimmed_sequence():
    x = RNG.standard_normal((1, 6, 3))
    w, u, b = _params(3, 4, 4)
    mask = np.array([[1, 1, 1, 1, 0, 0]], bool)
    _, h_masked, c_masked = ops.lstm(x, None, None, w, u, b, mask=mask)
    _, h_trim, c_trim = ops.lstm(x[:, :4], None, None, w, u, b)
    np.testing.assert_allclose(h_masked.numpy(), h_trim.numpy(), atol=1e-12)
    np.testing.assert_allclose(c_masked.numpy(), c_trim.numpy(), atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_forward_and_gradcheck(reset_after):
    x = RNG.standard_normal((2, 4, 3))
    w, u, b = _params(3, 2, 3, (2, 6) if reset_after else (6,))
    h0 = RNG.standard_normal((2, 2))
    seq, h = ops.gru(x, h0, w, u, b, reset_after=reset_after)
    ref_seq, ref_h = gru_loop(x, h0, w, u, b, reset_after)
    np.testing.assert_allclose(seq.numpy(), ref_seq, atol=1e-12)
    for go_backwards in (False, True):
        for mask in (None, np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)):
            assert gradcheck(
                lambda *a, m=mask, g=go_backwards: ops.gru(
                    *a, reset_after=reset_after, mask=m, go_backwards=g
                ),
                (x, h0, w, u, b),
            )


def test_simple_rnn_forward_and_gradcheck():
    x = RNG.standard_normal((2, 4, 3))
    w, u, b = _params(3, 2, 1)
    h0 = RNG.standard_normal((2, 2))
    seq, h = ops.simple_rnn(x, h0, w, u, b)
    hh, outs = h0, []
    for t in range(4):
        hh = np.tanh(x[:, t] @ w + hh @ u + b)
        outs.append(hh)
    np.testing.assert_allclose(seq.numpy(), np.stack(outs, 1), atol=1e-12)
    mask = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)
    assert gradcheck(
        lambda *a: ops.simple_rnn(*a, mask=mask, return_sequences=False), (x, h0, w, u, b)
    )


def test_rnn_errors():
    with pytest.raises(
        ValueError, match=r"lstm: expected inputs of rank 3 .*Received: input shape=\(4, 3\)"
    ):
        ops.lstm(np.ones((4, 3)), None, None, np.ones((3, 8)), np.ones((2, 8)))
    with pytest.raises(ValueError, match=r"gru: expected a kernel of shape \(3, 6\)"):
        ops.gru(np.ones((1, 4, 3)), None, np.ones((3, 5)), np.ones((2, 6)))


def attention_loop(q, k, v, mask=None, causal=False):
    b, tq, n, h = q.shape
    out = np.zeros(q.shape[:3] + v.shape[-1:])
    for bi in range(b):
        for ni in range(n):
            s = q[bi, :, ni] @ k[bi, :, ni].T / np.sqrt(h)
            if causal:
                s = np.where(np.tril(np.ones((tq, k.shape[1]), bool)), s, -1e9)
            if mask is not None:
                s = np.where(mask[bi, ni], s, -1e9)
            p = np.exp(s - s.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            out[bi, :, ni] = p @ v[bi, :, ni]
    return out


def test_dot_product_attention():
    q = RNG.standard_normal((2, 3, 2, 4))
    k = RNG.standard_normal((2, 5, 2, 4))
    v = RNG.standard_normal((2, 5, 2, 3))
    np.testing.assert_allclose(
        ops.dot_product_attention(q, k, v).numpy(), attention_loop(q, k, v), atol=1e-12
    )
    mask = RNG.random((2, 2, 3, 5)) > 0.3
    mask[..., 0] = True
    np.testing.assert_allclose(
        ops.dot_product_attention(q, k, v, mask=mask).numpy(),
        attention_loop(q, k, v, mask),
        atol=1e-12,
    )
    kc, vc = k[:, :3], v[:, :3]
    np.testing.assert_allclose(
        ops.dot_product_attention(q, kc, vc, is_causal=True).numpy(),
        attention_loop(q, kc, vc, causal=True),
        atol=1e-12,
    )
    assert gradcheck(lambda a, b, c: ops.dot_product_attention(a, b, c, mask=mask), (q, k, v))
    bias = RNG.standard_normal((1, 2, 3, 5))
    assert gradcheck(
        lambda a, b, c, d: ops.dot_product_attention(a, b, c, bias=d), (q, k, v, bias)
    )
    assert gradcheck(
        lambda a, b, c: ops.dot_product_attention(a, b, c, is_causal=True), (q, kc, vc)
    )
    with pytest.raises(ValueError, match="dot_product_attention: expected rank-4 inputs"):
        ops.dot_product_attention(q[0], k[0], v[0])


def test_torch_oracle_lstm_gru():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    wi, wh = lstm.weight_ih_l0.detach().numpy(), lstm.weight_hh_l0.detach().numpy()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy()
    # torch gate order i, f, g, o == Keras i, f, c, o
    seq, _, _ = ops.lstm(x, None, None, wi.T, wh.T, bias)
    ref = lstm(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(seq.numpy(), ref, rtol=1e-5, atol=1e-5)
    gru = torch.nn.GRU(3, 4, batch_first=True)
    wi, wh = gru.weight_ih_l0.detach().numpy(), gru.weight_hh_l0.detach().numpy()
    bi, bh = gru.bias_ih_l0.detach().numpy(), gru.bias_hh_l0.detach().numpy()
    # torch order r, z, n; Keras z, r, h
    perm = np.r_[4:8, 0:4, 8:12]
    seq, _ = ops.gru(x, None, wi[perm].T, wh[perm].T, np.stack([bi[perm], bh[perm]]))
    ref = gru(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(seq.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_recurrent_dropout_masks_gradcheck():
    x = RNG.standard_normal((2, 4, 3))
    h0 = RNG.standard_normal((2, 2))
    rm = (RNG.random((2, 2)) > 0.4) / 0.6
    w, u, b = _params(3, 2, 4)
    assert gradcheck(lambda *a: ops.lstm(*a, recurrent_mask=rm), (x, h0, h0 * 0.5, w, u, b))
    w, u, b = _params(3, 2, 1)
    assert gradcheck(lambda *a: ops.simple_rnn(*a, recurrent_mask=rm), (x, h0, w, u, b))
    w, u, b = _params(3, 2, 3, (2, 6))
    assert gradcheck(lambda *a: ops.gru(*a, recurrent_mask=rm), (x, h0, w, u, b))
