"""The LSTM's recurrence over a block of samples, forward and backward, in place.

``ops.rnn`` computes the input projection x W + b of all steps in one product, then runs
these kernels on blocks of samples (rows a..e-1), each for the whole sequence. Per step:
the recurrent product h U, then memory-bound elementwise work (the gates, the cell update;
in backward the gates' pre-activation gradients), which NumPy does in a dozen passes over
(rows, units) arrays. The numba loops do the elementwise work in one pass and call the BLAS
product themselves (``kernels.cblas``), so a block runs without returning to Python and
without the GIL: blocks run side by side on the cores.

Gates are laid out i, f, c, o along the last axis (Keras's order), each ``units`` wide.
The loops compute in float32 (float64 arrays take the NumPy path: their tanh must be
exact to float64 precision, which the rational approximation below is not).

Arrays are time-major: xw, gates (T, N, 4u); hs, cs, tcs (T, N, u) hold h, c and tanh(c)
after each step. Optional inputs are empty arrays when unused: ``mask`` (T, N) booleans
(a masked step keeps the state), ``rm`` (N, u) the recurrent dropout mask (h rm enters the
product; ``h_in`` (T, N, u) keeps it for the kernel's gradient).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .cblas import NO_TRANS, ROW_MAJOR, sgemm
from .dispatch import Kernel

F32 = np.float32
# tanh(x) = x P(x^2) / Q(x^2) on [-7.9053, 7.9053] (beyond it tanh is +-1 in float32): a
# rational approximation with a maximal error of a few float32 ulps, which LLVM vectorises
# where numba's np.tanh calls the scalar libm function.
_CLAMP = F32(7.90531110763549805)
_P = tuple(
    F32(c)
    for c in (
        -2.76076847742355e-16,
        2.00018790482477e-13,
        -8.60467152213735e-11,
        5.12229709037114e-08,
        1.48572235717979e-05,
        6.37261928875436e-04,
        4.89352455891786e-03,
    )
)
_Q = tuple(F32(c) for c in (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03))
_Q0 = F32(4.89352518554385e-03)
_ZERO, _HALF, _ONE = F32(0.0), F32(0.5), F32(1.0)


def tanh_rational(x):
    """tanh(x) for a float32 x (numba inlines it into the loops; pure Python otherwise)."""
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = _P[0]
    p = p * x2 + _P[1]
    p = p * x2 + _P[2]
    p = p * x2 + _P[3]
    p = p * x2 + _P[4]
    p = p * x2 + _P[5]
    p = p * x2 + _P[6]
    q = _Q[0]
    q = q * x2 + _Q[1]
    q = q * x2 + _Q[2]
    q = q * x2 + _Q0
    return x * p / q


def sigmoid_rational(x):
    """sigmoid(x) = tanh(x / 2) / 2 + 1 / 2."""
    return _HALF * tanh_rational(_HALF * x) + _HALF


def carry_back(dhp, dh, mask, rm, t, a):
    """dh <- dhp (times rm) for rows of block a.. at step t; a masked row adds it to its dh
    (the gradient passes through the step it skipped)."""
    rows, units = dh.shape
    for r in range(rows):
        keep = mask.size == 0 or mask[t, a + r]
        for j in range(units):
            v = dhp[r, j]
            if rm.size:
                v *= rm[a + r, j]
            dh[r, j] = v if keep else v + dh[r, j]


def state_product(hp, rm, hr, h_in, t, a, u, out):
    """out = h U for the rows of block a.. at step t, with h = hp, or h = hp rm under
    recurrent dropout (then kept in h_in[t] for U's gradient; hr is its scratch)."""
    rows, units = hp.shape
    width = out.shape[1]
    if rm.size:
        for r in range(rows):
            for j in range(units):
                hr[r, j] = hp[r, j] * rm[a + r, j]
                h_in[t, a + r, j] = hr[r, j]
        sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, width, units, _ONE, hr.ctypes, units,
              u.ctypes, width, _ZERO, out.ctypes, width)  # fmt: skip
    else:
        sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, width, units, _ONE, hp.ctypes, units,
              u.ctypes, width, _ZERO, out.ctypes, width)  # fmt: skip


def back_product(dz, u_t, out):
    """out = dz U^T: the gradient on the state from the gates' gradients dz."""
    rows, width = dz.shape
    units = out.shape[1]
    sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, units, width, _ONE, dz.ctypes, width,
          u_t.ctypes, units, _ZERO, out.ctypes, units)  # fmt: skip


HELPERS = (tanh_rational, sigmoid_rational, carry_back, state_product, back_product)


def _step_forward(xp, z, xw_t, c_prev, gates_t, c_t, tc_t, h_t):
    """The elementwise work of one forward step in NumPy (z = h U on entry)."""
    units = c_t.shape[1]
    z += xw_t
    # sigmoid(z) = (tanh(z / 2) + 1) / 2: one transcendental pass, no overflow
    xp.multiply(z, 0.5, out=gates_t)
    xp.tanh(gates_t, out=gates_t)
    gates_t *= 0.5
    gates_t += 0.5
    xp.tanh(z[:, 2 * units : 3 * units], out=gates_t[:, 2 * units : 3 * units])
    i, f = gates_t[:, :units], gates_t[:, units : 2 * units]
    g, o = gates_t[:, 2 * units : 3 * units], gates_t[:, 3 * units :]
    xp.multiply(f, c_prev, out=c_t)
    xp.multiply(i, g, out=h_t)  # h_t as scratch: written last
    c_t += h_t
    xp.tanh(c_t, out=tc_t)
    xp.multiply(o, tc_t, out=h_t)


def _forward_reference(xw, u, h0, c0, gates, hs, cs, tcs, h_in, mask, rm, a, e):
    xp = backend.array_module(xw)
    h, c = h0[a:e], c0[a:e]
    z = xp.empty((e - a, xw.shape[2]), dtype=xw.dtype)
    for t in range(xw.shape[0]):
        hr = h if rm.size == 0 else h * rm[a:e]
        xp.matmul(hr, u, out=z)
        if h_in.size:
            h_in[t, a:e] = hr
        c_new, h_new = cs[t, a:e], hs[t, a:e]
        _step_forward(xp, z, xw[t, a:e], c, gates[t, a:e], c_new, tcs[t, a:e], h_new)
        if mask.size:
            keep = mask[t, a:e][:, None]
            c_new[...] = xp.where(keep, c_new, c)
            h_new[...] = xp.where(keep, h_new, h)
        h, c = h_new, c_new


def _forward_loop(xw, u, h0, c0, gates, hs, cs, tcs, h_in, mask, rm, a, e):
    t_len, rows, units = xw.shape[0], e - a, u.shape[0]
    z = np.empty((rows, 4 * units), dtype=np.float32)
    hr = np.empty((rows, units), dtype=np.float32)
    for t in range(t_len):
        hp = h0[a:e] if t == 0 else hs[t - 1, a:e]
        cp = c0[a:e] if t == 0 else cs[t - 1, a:e]
        state_product(hp, rm, hr, h_in, t, a, u, z)
        for r in range(rows):  # row by row, gate by gate: contiguous runs LLVM vectorises
            zr, xr, gr = z[r], xw[t, a + r], gates[t, a + r]
            for j in range(2 * units):
                gr[j] = sigmoid_rational(zr[j] + xr[j])
            for j in range(2 * units, 3 * units):
                gr[j] = tanh_rational(zr[j] + xr[j])
            for j in range(3 * units, 4 * units):
                gr[j] = sigmoid_rational(zr[j] + xr[j])
            cr, tr, hn = cs[t, a + r], tcs[t, a + r], hs[t, a + r]
            for j in range(units):
                c = gr[units + j] * cp[r, j] + gr[j] * gr[2 * units + j]
                tc = tanh_rational(c)
                cr[j] = c
                tr[j] = tc
                hn[j] = gr[3 * units + j] * tc
            if mask.size and not mask[t, a + r]:
                for j in range(units):
                    cr[j] = cp[r, j]
                    hn[j] = hp[r, j]


def _linked():
    from . import cblas

    function = cblas.sgemm_function()
    if function is None:
        return None
    return {"sgemm": function}


LSTM_FORWARD = Kernel("lstm_forward", _forward_reference, _forward_loop, (F32,), HELPERS, _linked)
"""Per step t, rows a..e-1: z = h U + xw_t; i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_c);
c_t = f c + i g; h_t = o tanh(c_t) (gates holds i, f, g, o; tcs tanh(c_t))."""


def _step_backward(xp, dh, dc, gates_t, tc_t, c_prev, dz_t):
    """The elementwise work of one backward step in NumPy; dc becomes dc_t f."""
    units = dh.shape[1]
    i, f = gates_t[:, :units], gates_t[:, units : 2 * units]
    g, o = gates_t[:, 2 * units : 3 * units], gates_t[:, 3 * units :]
    dct = dh * o
    dct *= 1 - tc_t * tc_t
    dct += dc
    dz_t[:, :units] = dct * g * i * (1 - i)
    dz_t[:, units : 2 * units] = dct * c_prev * f * (1 - f)
    dz_t[:, 2 * units : 3 * units] = dct * i * (1 - g * g)
    dz_t[:, 3 * units :] = dh * tc_t * o * (1 - o)
    xp.multiply(dct, f, out=dc)


def _backward_reference(gh_seq, dh0, dc0, u_t, gates, cs, tcs, c0, dz_all, mask, rm, a, e):
    xp = backend.array_module(dz_all)
    dh, dc = dh0[a:e], dc0[a:e]
    for t in range(dz_all.shape[0] - 1, -1, -1):
        if gh_seq.size:
            dh += gh_seq[t, a:e]
        if mask.size:
            keep = mask[t, a:e][:, None]
            dh_step, dc_step = xp.where(keep, dh, 0), xp.where(keep, dc, 0)
        else:
            dh_step, dc_step = dh, dc
        c_prev = c0[a:e] if t == 0 else cs[t - 1, a:e]
        dz = dz_all[t, a:e]
        _step_backward(xp, dh_step, dc_step, gates[t, a:e], tcs[t, a:e], c_prev, dz)
        dh_prev = dz @ u_t
        if rm.size:
            dh_prev *= rm[a:e]
        if mask.size:
            dh_prev += xp.where(keep, 0, dh)
            dc_step += xp.where(keep, 0, dc)
        dh, dc = dh_prev, dc_step
    dh0[a:e] = dh
    dc0[a:e] = dc


def _backward_loop(gh_seq, dh0, dc0, u_t, gates, cs, tcs, c0, dz_all, mask, rm, a, e):
    t_len, rows, units = dz_all.shape[0], e - a, u_t.shape[1]
    dh, dc = dh0[a:e], dc0[a:e]
    dhp = np.empty((rows, units), dtype=np.float32)
    for t in range(t_len - 1, -1, -1):
        cp = c0[a:e] if t == 0 else cs[t - 1, a:e]
        for r in range(rows):
            keep = mask.size == 0 or mask[t, a + r]
            gr, dz, tr = gates[t, a + r], dz_all[t, a + r], tcs[t, a + r]
            dhr, dcr = dh[r], dc[r]
            if gh_seq.size:
                gs = gh_seq[t, a + r]
                for j in range(units):
                    dhr[j] += gs[j]
            if keep:
                for j in range(units):
                    i, f = gr[j], gr[units + j]
                    g, o = gr[2 * units + j], gr[3 * units + j]
                    tc, d = tr[j], dhr[j]
                    dct = d * o * (_ONE - tc * tc) + dcr[j]
                    dz[j] = dct * g * i * (_ONE - i)
                    dz[units + j] = dct * cp[r, j] * f * (_ONE - f)
                    dz[2 * units + j] = dct * i * (_ONE - g * g)
                    dz[3 * units + j] = d * tc * o * (_ONE - o)
                    dcr[j] = dct * f
            else:  # a masked step: no gradient into it, the state's passes through
                for j in range(4 * units):
                    dz[j] = _ZERO
        back_product(dz_all[t, a:e], u_t, dhp)
        carry_back(dhp, dh, mask, rm, t, a)


LSTM_BACKWARD = Kernel(
    "lstm_backward", _backward_reference, _backward_loop, (F32,), HELPERS, _linked
)
"""Back through time for rows a..e-1: dh gets the output's gradient gh_seq[t] (empty when
only the last output is used); dc_t = dh o (1 - tc^2) + dc; dz_i = dc_t g i (1 - i),
dz_f = dc_t c_prev f (1 - f), dz_c = dc_t i (1 - g^2), dz_o = dh tc o (1 - o); then
dh <- dz U^T (times rm), dc <- dc_t f. dh0 and dc0 hold the gradients on the final state on
entry and on the initial state on exit; dz_all the gates' pre-activation gradients."""


# --------------------------------------------------------------------------------- GRU
# reset_after (Keras 3's default): per step hu = (h rm) U + b_rec (3u wide);
# z, r = sigmoid(xw_zr + hu_zr); hh = tanh(xw_h + r hu_h); h' = z h + (1 - z) hh.
# Saved per step for backward: zs, rs, hhs and hun = hu_h.


def _gru_forward_reference(xw, u, b_rec, h0, hs, zs, rs, hhs, hun, h_in, mask, rm, a, e):
    xp = backend.array_module(xw)
    units = u.shape[0]
    h = h0[a:e]
    for t in range(xw.shape[0]):
        hr = h if rm.size == 0 else h * rm[a:e]
        if h_in.size:
            h_in[t, a:e] = hr
        hu = hr @ u
        if b_rec.size:
            hu += b_rec
        x_t = xw[t, a:e]
        z = zs[t, a:e]
        r = rs[t, a:e]
        hh = hhs[t, a:e]
        hun[t, a:e] = hu[:, 2 * units :]
        z[...] = 0.5 * xp.tanh(0.5 * (x_t[:, :units] + hu[:, :units])) + 0.5
        r[...] = 0.5 * xp.tanh(0.5 * (x_t[:, units : 2 * units] + hu[:, units : 2 * units])) + 0.5
        xp.tanh(x_t[:, 2 * units :] + r * hu[:, 2 * units :], out=hh)
        h_new = hs[t, a:e]
        h_new[...] = z * h + (1 - z) * hh
        if mask.size:
            h_new[...] = xp.where(mask[t, a:e][:, None], h_new, h)
        h = h_new


def _gru_forward_loop(xw, u, b_rec, h0, hs, zs, rs, hhs, hun, h_in, mask, rm, a, e):
    t_len, rows, units = xw.shape[0], e - a, u.shape[0]
    hu = np.empty((rows, 3 * units), dtype=np.float32)
    hr = np.empty((rows, units), dtype=np.float32)
    for t in range(t_len):
        hp = h0[a:e] if t == 0 else hs[t - 1, a:e]
        state_product(hp, rm, hr, h_in, t, a, u, hu)
        for r in range(rows):
            hur, xr = hu[r], xw[t, a + r]
            if b_rec.size:
                for j in range(3 * units):
                    hur[j] += b_rec[j]
            zr, rr, hhr, hnr, hn = (
                zs[t, a + r],
                rs[t, a + r],
                hhs[t, a + r],
                hun[t, a + r],
                hs[t, a + r],
            )
            for j in range(units):
                zr[j] = sigmoid_rational(xr[j] + hur[j])
            for j in range(units):
                rr[j] = sigmoid_rational(xr[units + j] + hur[units + j])
            for j in range(units):
                hnr[j] = hur[2 * units + j]
                hhr[j] = tanh_rational(xr[2 * units + j] + rr[j] * hnr[j])
            keep = mask.size == 0 or mask[t, a + r]
            for j in range(units):
                hn[j] = zr[j] * hp[r, j] + (_ONE - zr[j]) * hhr[j] if keep else hp[r, j]


GRU_FORWARD = Kernel(
    "gru_forward", _gru_forward_reference, _gru_forward_loop, (F32,), HELPERS, _linked
)
"""GRU (reset_after) over rows a..e-1: hu = (h rm) U + b_rec; z, r = sigmoid(xw + hu)
(first two thirds); hh = tanh(xw_h + r hu_h); h_t = z h + (1 - z) hh (zs, rs, hhs and
hun = hu_h kept for backward)."""


def _gru_backward_reference(
    gh_seq, dh0, u_t, h0, hs, zs, rs, hhs, hun, dxz_all, dhz_all, mask, rm, a, e
):
    xp = backend.array_module(dxz_all)
    units = u_t.shape[1]
    dh = dh0[a:e]
    for t in range(dxz_all.shape[0] - 1, -1, -1):
        if gh_seq.size:
            dh = dh + gh_seq[t, a:e]
        hp = h0[a:e] if t == 0 else hs[t - 1, a:e]
        z, r, hh = zs[t, a:e], rs[t, a:e], hhs[t, a:e]
        if mask.size:
            keep = mask[t, a:e][:, None]
            d = xp.where(keep, dh, 0)
        else:
            d = dh
        dpre_h = d * (1 - z) * (1 - hh * hh)
        dz_pre = d * (hp - hh) * z * (1 - z)
        dr_pre = dpre_h * hun[t, a:e] * r * (1 - r)
        dxz, dhz = dxz_all[t, a:e], dhz_all[t, a:e]
        dxz[:, :units] = dz_pre
        dxz[:, units : 2 * units] = dr_pre
        dxz[:, 2 * units :] = dpre_h
        dhz[:, : 2 * units] = dxz[:, : 2 * units]
        dhz[:, 2 * units :] = dpre_h * r
        dh_prev = dhz @ u_t
        if rm.size:
            dh_prev *= rm[a:e]
        dh_prev += d * z
        if mask.size:
            dh_prev += xp.where(keep, 0, dh)
        dh = dh_prev
    dh0[a:e] = dh


def _gru_backward_loop(
    gh_seq, dh0, u_t, h0, hs, zs, rs, hhs, hun, dxz_all, dhz_all, mask, rm, a, e
):
    t_len, rows, units = dxz_all.shape[0], e - a, u_t.shape[1]
    dh = dh0[a:e]
    dhp = np.empty((rows, units), dtype=np.float32)
    for t in range(t_len - 1, -1, -1):
        hp = h0[a:e] if t == 0 else hs[t - 1, a:e]
        for r in range(rows):
            dhr = dh[r]
            if gh_seq.size:
                gs = gh_seq[t, a + r]
                for j in range(units):
                    dhr[j] += gs[j]
            keep = mask.size == 0 or mask[t, a + r]
            zr, rr, hhr, hnr = zs[t, a + r], rs[t, a + r], hhs[t, a + r], hun[t, a + r]
            dxz, dhz = dxz_all[t, a + r], dhz_all[t, a + r]
            for j in range(units):
                d = dhr[j] if keep else _ZERO
                z, rv, hh = zr[j], rr[j], hhr[j]
                dpre_h = d * (_ONE - z) * (_ONE - hh * hh)
                dz_pre = d * (hp[r, j] - hh) * z * (_ONE - z)
                dr_pre = dpre_h * hnr[j] * rv * (_ONE - rv)
                dxz[j] = dz_pre
                dxz[units + j] = dr_pre
                dxz[2 * units + j] = dpre_h
                dhz[j] = dz_pre
                dhz[units + j] = dr_pre
                dhz[2 * units + j] = dpre_h * rv
        back_product(dhz_all[t, a:e], u_t, dhp)
        for r in range(rows):
            keep = mask.size == 0 or mask[t, a + r]
            zr = zs[t, a + r]
            for j in range(units):
                v = dhp[r, j]
                if rm.size:
                    v *= rm[a + r, j]
                dh[r, j] = v + dh[r, j] * zr[j] if keep else v + dh[r, j]


GRU_BACKWARD = Kernel(
    "gru_backward", _gru_backward_reference, _gru_backward_loop, (F32,), HELPERS, _linked
)
"""Back through time (reset_after) for rows a..e-1: with d the gradient on h_t,
dz = d (h - hh) z (1 - z), dh_h = d (1 - z)(1 - hh^2), dr = dh_h hu_h r (1 - r);
dxz = [dz, dr, dh_h] (the input projection's), dhz = [dz, dr, dh_h r] (the recurrent
product's); d <- dhz U^T (times rm) + d z. dh0 holds the gradient on the last state on
entry and on the initial state on exit."""


# ---------------------------------------------------------------------------- SimpleRNN
# h' = tanh(xw_t + (h rm) U); saved: acts (h' before masking) and, with dropout, h_in (h rm).


def _simple_forward_reference(xw, u, h0, hs, acts, h_in, mask, rm, a, e):
    xp = backend.array_module(xw)
    h = h0[a:e]
    for t in range(xw.shape[0]):
        hr = h if rm.size == 0 else h * rm[a:e]
        if h_in.size:
            h_in[t, a:e] = hr
        act = acts[t, a:e]
        xp.tanh(xw[t, a:e] + hr @ u, out=act)
        h_new = hs[t, a:e]
        h_new[...] = act if mask.size == 0 else xp.where(mask[t, a:e][:, None], act, h)
        h = h_new


def _simple_forward_loop(xw, u, h0, hs, acts, h_in, mask, rm, a, e):
    t_len, rows, units = xw.shape[0], e - a, u.shape[0]
    z = np.empty((rows, units), dtype=np.float32)
    hr = np.empty((rows, units), dtype=np.float32)
    for t in range(t_len):
        hp = h0[a:e] if t == 0 else hs[t - 1, a:e]
        state_product(hp, rm, hr, h_in, t, a, u, z)
        for r in range(rows):
            keep = mask.size == 0 or mask[t, a + r]
            ar, xr, hn = acts[t, a + r], xw[t, a + r], hs[t, a + r]
            for j in range(units):
                ar[j] = tanh_rational(xr[j] + z[r, j])
                hn[j] = ar[j] if keep else hp[r, j]


SIMPLE_RNN_FORWARD = Kernel(
    "simple_rnn_forward", _simple_forward_reference, _simple_forward_loop, (F32,), HELPERS,
    _linked,
)  # fmt: skip
"""SimpleRNN over rows a..e-1: act_t = tanh(xw_t + (h rm) U) (h rm kept in h_in under
recurrent dropout); h_t = act_t (the previous h where masked)."""


def _simple_backward_reference(gh_seq, dh0, u_t, acts, dz_all, mask, rm, a, e):
    xp = backend.array_module(dz_all)
    dh = dh0[a:e]
    for t in range(dz_all.shape[0] - 1, -1, -1):
        if gh_seq.size:
            dh = dh + gh_seq[t, a:e]
        if mask.size:
            keep = mask[t, a:e][:, None]
            d = xp.where(keep, dh, 0)
        else:
            d = dh
        act = acts[t, a:e]
        dz = dz_all[t, a:e]
        xp.multiply(d, 1 - act * act, out=dz)
        dh_prev = dz @ u_t
        if rm.size:
            dh_prev *= rm[a:e]
        if mask.size:
            dh_prev += xp.where(keep, 0, dh)
        dh = dh_prev
    dh0[a:e] = dh


def _simple_backward_loop(gh_seq, dh0, u_t, acts, dz_all, mask, rm, a, e):
    t_len, rows, units = dz_all.shape[0], e - a, u_t.shape[1]
    dh = dh0[a:e]
    dhp = np.empty((rows, units), dtype=np.float32)
    for t in range(t_len - 1, -1, -1):
        for r in range(rows):
            dhr, ar, dz = dh[r], acts[t, a + r], dz_all[t, a + r]
            if gh_seq.size:
                gs = gh_seq[t, a + r]
                for j in range(units):
                    dhr[j] += gs[j]
            keep = mask.size == 0 or mask[t, a + r]
            for j in range(units):
                dz[j] = dhr[j] * (_ONE - ar[j] * ar[j]) if keep else _ZERO
        back_product(dz_all[t, a:e], u_t, dhp)
        carry_back(dhp, dh, mask, rm, t, a)


SIMPLE_RNN_BACKWARD = Kernel(
    "simple_rnn_backward", _simple_backward_reference, _simple_backward_loop, (F32,),
    HELPERS, _linked,
)  # fmt: skip
"""Back through time for rows a..e-1: dz_t = d (1 - act_t^2) with d the gradient on h_t
(0 where masked); d <- dz_t U^T (times rm), plus the gradient passed through masked steps."""
