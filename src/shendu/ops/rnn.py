"""Whole-sequence recurrent ops (LSTM, GRU, simple RNN), each one graph node.

Inputs are batch-major: x (N, T, F). The input projection of every time step is
one GEMM, (N*T, F) @ (F, G*units), before the loop; each step then does one GEMM
with the recurrent kernel for all gates. Backward through time runs the loop in
reverse, collecting the pre-activation gradients of all steps, so the input,
kernel and bias gradients are again single GEMMs after the loop.

A mask (N, T) of booleans skips steps: a masked step carries the state over
unchanged and outputs the previous output (Keras semantics). ``go_backwards``
processes the sequence in reverse (outputs are in processing order, as in Keras).
These fused ops are first-order only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, blas, parallel
from ..autograd.function import Function
from ..kernels.recurrent import (
    GRU_BACKWARD,
    GRU_FORWARD,
    LSTM_BACKWARD,
    LSTM_FORWARD,
    SIMPLE_RNN_BACKWARD,
    SIMPLE_RNN_FORWARD,
)
from ._util import as_tensor, column_sums

# The LSTM's recurrence runs over blocks of samples (kernels.recurrent), one block per
# thread when its numba loop runs: a step's products are too small for the BLAS to split
# well, the blocks are independent for the whole sequence, and a block no thread has started
# goes to whichever thread is free (docs/benchmarks.md, "LSTM batch split").


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _state(xp, s, n, units, dtype):
    """An initial state as an array: zeros when None (made here, in the node, so that a
    recorded training step holds no array made in Python; shendu.models.step_replay)."""
    return xp.zeros((n, units), dtype=dtype) if s is None else xp.asarray(s, dtype=dtype)


def _time_major(x, mask, go_backwards):
    xt = x.transpose(1, 0, 2)
    m = None if mask is None else mask.T
    if go_backwards:
        xt = xt[::-1]
        m = None if m is None else m[::-1]
    return xt, m


RECURRENCE_CHUNKS = 1  # blocks per thread (measured: more, smaller blocks ran slower)


def _unused(xp, ndim, dtype):
    """An empty array standing for an optional input a kernel does not get."""
    return xp.empty((0,) * ndim, dtype=dtype)


def _over_rows(xp, kernel, args, n, size):
    """``kernel(*args, a, e)`` over blocks of the batch: one block per thread when the
    kernel runs compiled (a block is one call without the GIL, its products on one BLAS
    thread: the blocks run side by side), the whole batch on this thread otherwise (NumPy's
    many small calls, each taking the GIL, measured slower split)."""
    if xp is np and parallel.splits(n, size) and kernel.runs_compiled(*args):
        with blas.process_threads(1):
            parallel.for_chunks(lambda a, e: kernel(*args, a, e), n, size, RECURRENCE_CHUNKS)
    else:
        kernel(*args, 0, n)


def _recurrent_kernel_grad(xp, states, dz_all, shape):
    """U's gradient, sum over steps of h_t^T dz_t: ``states`` are the states entering each
    step's product (T, N, u) (h rm under recurrent dropout), or ``(h0, hs)`` for h0 then
    hs[:-1] without a copy; dz_all (T, N, G) the product's gradients."""
    if not isinstance(states, tuple):
        return states.reshape(-1, states.shape[-1]).T @ dz_all.reshape(-1, dz_all.shape[-1])
    h0, hs = states
    if not dz_all.shape[0]:
        return xp.zeros(shape, dtype=dz_all.dtype)
    gu = h0.T @ dz_all[0]
    if dz_all.shape[0] > 1:
        gu += hs[:-1].reshape(-1, hs.shape[-1]).T @ dz_all[1:].reshape(-1, dz_all.shape[-1])
    return gu


class _Recurrent(Function):
    n_states = 1

    def __init__(self, mask, go_backwards, return_sequences, recurrent_mask=None):
        self.mask, self.go_backwards = mask, go_backwards
        self.return_sequences = return_sequences
        # recurrent dropout: h is multiplied by this (N, units) mask before h @ U
        self.rm = recurrent_mask

    def _outputs(self, hs, states):
        xp = backend.array_module(hs)
        # always a copy: backward reads hs, so the output must not share its memory
        if self.return_sequences:
            seq = xp.ascontiguousarray(hs.transpose(1, 0, 2))
        else:
            seq = hs[-1].copy()
        return (seq,) + tuple(states)

    def _kernel_masks(self, xp, m, dt):
        """The step mask (T, N) and the recurrent dropout mask as the kernels take them:
        contiguous, or empty arrays when unused."""
        mask = _unused(xp, 2, bool) if m is None else xp.ascontiguousarray(m)
        rm = _unused(xp, 2, dt) if self.rm is None else xp.ascontiguousarray(self.rm, dtype=dt)
        return mask, rm

    def _incoming(self, xp, g_out, g_h, dt):
        """(gh_seq, dh0): the output's gradient per step, time-major (empty when only the
        last output is used), and the gradient on the last state (the last output's added)."""
        dh0 = xp.array(g_h, dtype=dt)
        if self.return_sequences:
            return xp.ascontiguousarray(g_out.transpose(1, 0, 2)), dh0
        dh0 += g_out
        return _unused(xp, 3, dt), dh0

    def _input_grads(self, xp, xt, w, dx2, need_x, need_w):
        """The input's and the kernel's gradients from the gradient dx2 (T*N, G) of the
        input projection x W (time-major, as the op ran it)."""
        t_len, n, f_in = xt.shape
        gx = None
        if need_x:
            gx = (dx2 @ w.T).reshape(t_len, n, f_in)
            if self.go_backwards:
                gx = gx[::-1]
            gx = xp.ascontiguousarray(gx.transpose(1, 0, 2))
        gw = xt.reshape(t_len * n, f_in).T @ dx2 if need_w else None
        return gx, gw

    def _output_grad(self, gys, t_len, shape, xp):
        """Per-step gradient on h from the output sequence (or last output) gradient."""
        g_out = gys[0]
        gh_seq = xp.zeros((t_len,) + shape, dtype=g_out.dtype)
        if self.return_sequences:
            gh_seq += g_out.transpose(1, 0, 2)
        else:
            gh_seq[-1] += g_out
        return gh_seq

    def _param_grads(self, xp, xt, w, u, has_b, dz_all, h_prev, dh0, dc0):
        """The gradients of every input from the gates' pre-activation gradients
        ``dz_all`` (LSTM and SimpleRNN; GRU's recurrent product differs): x and W from
        dz W^T and x^T dz, U from h_prev^T dz, b from the column sums of dz."""
        t_len, n, f_in = xt.shape
        dz2 = dz_all.reshape(t_len * n, dz_all.shape[-1])
        needs = self.needs_input_grad
        k = 1 + self.n_states  # position of the kernel among the inputs
        gx, gw = self._input_grads(xp, xt, w, dz2, needs[0], needs[k])
        gu = _recurrent_kernel_grad(xp, h_prev, dz_all, u.shape) if needs[k + 1] else None
        gb = column_sums(xp, dz2) if has_b and needs[k + 2] else None
        grads: tuple = (gx, dh0 if needs[1] else None)
        if self.n_states == 2:
            grads += (dc0 if needs[2] else None,)
        return grads + (gw, gu, gb)


class LSTM(_Recurrent):
    """Keras LSTM (gates i, f, c, o; tanh and sigmoid) over a whole sequence.

    Per step: z = x_t W + h U + b; i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_c);
    c' = f c + i g; h' = o tanh(c').  Backward: dc = dh o (1 - tanh(c')^2) + dc_next,
    dz_i = dc g i (1 - i), dz_f = dc c f (1 - f), dz_c = dc i (1 - g^2),
    dz_o = dh tanh(c') o (1 - o); dh_prev = dz U^T; dc_prev = dc f.
    """

    n_states = 2

    def forward(self, x, h0, c0, w, u, b):
        xp = backend.array_module(x)
        n, t_len, _ = x.shape
        units = u.shape[0]
        xt, m = _time_major(x, self.mask, self.go_backwards)
        xw = (xt.reshape(t_len * n, xt.shape[-1]) @ w).reshape(t_len, n, 4 * units)
        if b is not None:
            xw += b
        dt = x.dtype
        h0 = xp.ascontiguousarray(_state(xp, h0, n, units, dt))
        c0 = xp.ascontiguousarray(_state(xp, c0, n, units, dt))
        hs = xp.empty((t_len, n, units), dtype=dt)
        gates = xp.empty((t_len, n, 4 * units), dtype=dt)  # i, f, g, o after activation
        cs = xp.empty((t_len, n, units), dtype=dt)
        tcs = xp.empty((t_len, n, units), dtype=dt)  # tanh(c), reused by backward
        # the state before step t is hs[t - 1] (h0 at t = 0); only recurrent dropout needs
        # its own copy (h * mask)
        h_in = xp.empty((t_len, n, units) if self.rm is not None else (0, 0, 0), dtype=dt)
        mask, rm = self._kernel_masks(xp, m, dt)
        u = xp.ascontiguousarray(u)
        args = (xw, u, h0, c0, gates, hs, cs, tcs, h_in, mask, rm)
        _over_rows(xp, LSTM_FORWARD, args, n, gates.size)
        h_last, c_last = (hs[-1], cs[-1]) if t_len else (h0, c0)
        if self.recording:
            h_prev = h_in if self.rm is not None else None
            self.saved = (xt, w, u, b is not None, gates, tcs, h_prev, (h0, hs, c0, cs), m)
        return self._outputs(hs, (h_last.copy(), c_last.copy()))

    def backward(self, g_out, g_h, g_c):
        xt, w, u, has_b, gates, tcs, h_prev, (h0, hs, c0, cs), m = self.saved
        xp = backend.array_module(g_out)
        t_len, n, _ = xt.shape
        dt = g_out.dtype
        gh_seq, dh0 = self._incoming(xp, g_out, g_h, dt)  # dh0, dc0: stepped back to the start
        dc0 = xp.array(g_c, dtype=dt)
        dz_all = xp.empty((t_len, n, 4 * u.shape[0]), dtype=dt)
        mask, rm = self._kernel_masks(xp, m, dt)
        u_t = xp.ascontiguousarray(u.T)
        args = (gh_seq, dh0, dc0, u_t, gates, cs, tcs, c0, dz_all, mask, rm)
        _over_rows(xp, LSTM_BACKWARD, args, n, gates.size)
        return self._param_grads(
            xp, xt, w, u, has_b, dz_all, h_prev if h_prev is not None else (h0, hs), dh0, dc0
        )


class GRU(_Recurrent):
    """Keras GRU (gates z, r, h) with ``reset_after`` (the Keras 3 default) or before.

    reset_after: xz = x W + b_x, hz = h U + b_h; z, r = sigmoid(xz + hz);
    hh = tanh(xz_h + r hz_h); h' = z h + (1 - z) hh.
    reset before: hh = tanh(xz_h + (r h) U_h).
    """

    def __init__(
        self, mask, go_backwards, return_sequences, reset_after=True, recurrent_mask=None
    ):
        super().__init__(mask, go_backwards, return_sequences, recurrent_mask)
        if recurrent_mask is not None and not reset_after:
            raise NotImplementedError(
                "gru: recurrent dropout needs reset_after=True (the Keras 3 default)"
            )
        self.reset_after = reset_after

    def forward(self, x, h0, w, u, b):
        if self.reset_after:
            return self._forward_after(x, h0, w, u, b)
        xp = backend.array_module(x)
        n, t_len, _ = x.shape
        units = u.shape[0]
        xt, m = _time_major(x, self.mask, self.go_backwards)
        xw = (xt.reshape(t_len * n, xt.shape[-1]) @ w).reshape(t_len, n, 3 * units)
        b_in, b_rec = (None, None) if b is None else ((b[0], b[1]) if b.ndim == 2 else (b, None))
        if b_in is not None:
            xw += b_in
        h = h0 = _state(xp, h0, n, units, x.dtype)
        hs = xp.empty((t_len, n, units), dtype=x.dtype)
        saved: Any = []
        u_zr, u_h = u[:, : 2 * units], u[:, 2 * units :]
        for t in range(t_len):  # reset before: hh = tanh(xw_h + (r h) U_h)
            hu = h @ u_zr
            zr = _sigmoid(xp, xw[t, :, : 2 * units] + hu)
            z, r = zr[:, :units], zr[:, units:]
            hh = xp.tanh(xw[t, :, 2 * units :] + (r * h) @ u_h)
            h_new = z * h + (1 - z) * hh
            if m is not None:
                h_new = xp.where(m[t][:, None], h_new, h)
            saved.append((h, z, r, hh, hu))
            h = h_new
            hs[t] = h
        if self.recording:
            self.saved = (xt, w, u, b, saved, m)
        return self._outputs(hs, (h,))

    def _forward_after(self, x, h0, w, u, b):
        """reset_after (Keras 3's default): the recurrence in kernels.recurrent."""
        xp = backend.array_module(x)
        n, t_len, _ = x.shape
        units, dt = u.shape[0], x.dtype
        xt, m = _time_major(x, self.mask, self.go_backwards)
        xw = (xt.reshape(t_len * n, xt.shape[-1]) @ w).reshape(t_len, n, 3 * units)
        b_in, b_rec = (None, None) if b is None else ((b[0], b[1]) if b.ndim == 2 else (b, None))
        if b_in is not None:
            xw += b_in
        b_rec = _unused(xp, 1, dt) if b_rec is None else xp.ascontiguousarray(b_rec, dtype=dt)
        h0 = xp.ascontiguousarray(_state(xp, h0, n, units, dt))
        hs, zs, rs, hhs, hun = (xp.empty((t_len, n, units), dtype=dt) for _ in range(5))
        h_in = xp.empty((t_len, n, units) if self.rm is not None else (0, 0, 0), dtype=dt)
        mask, rm = self._kernel_masks(xp, m, dt)
        u = xp.ascontiguousarray(u)
        args = (xw, u, b_rec, h0, hs, zs, rs, hhs, hun, h_in, mask, rm)
        _over_rows(xp, GRU_FORWARD, args, n, xw.size)
        if self.recording:
            self.saved = (xt, w, u, b, (h0, hs, zs, rs, hhs, hun, h_in), m)
        return self._outputs(hs, ((hs[-1] if t_len else h0).copy(),))

    def _backward_after(self, g_out, g_h):
        xt, w, u, b, (h0, hs, zs, rs, hhs, hun, h_in), m = self.saved
        xp = backend.array_module(g_out)
        t_len, n, _ = xt.shape
        units, dt = u.shape[0], g_out.dtype
        gh_seq, dh0 = self._incoming(xp, g_out, g_h, dt)
        dxz_all = xp.empty((t_len, n, 3 * units), dtype=dt)
        dhz_all = xp.empty((t_len, n, 3 * units), dtype=dt)
        mask, rm = self._kernel_masks(xp, m, dt)
        u_t = xp.ascontiguousarray(u.T)
        args = (gh_seq, dh0, u_t, h0, hs, zs, rs, hhs, hun, dxz_all, dhz_all, mask, rm)
        _over_rows(xp, GRU_BACKWARD, args, n, dxz_all.size)
        needs = self.needs_input_grad
        dx2 = dxz_all.reshape(t_len * n, 3 * units)
        dh2 = dhz_all.reshape(t_len * n, 3 * units)
        gx, gw = self._input_grads(xp, xt, w, dx2, needs[0], needs[2])
        states = h_in if self.rm is not None else (h0, hs)
        gu = _recurrent_kernel_grad(xp, states, dhz_all, u.shape) if needs[3] else None
        gb = None
        if b is not None and needs[4]:
            gb = column_sums(xp, dx2)
            if b.ndim == 2:
                gb = xp.stack([gb, column_sums(xp, dh2)])
        return gx, (dh0 if needs[1] else None), gw, gu, gb

    def backward(self, g_out, g_h):
        if self.reset_after:
            return self._backward_after(g_out, g_h)
        xt, w, u, b, saved, m = self.saved
        xp = backend.array_module(g_out)
        t_len, n, _ = xt.shape
        units = u.shape[0]
        gh_seq = self._output_grad((g_out,), t_len, (n, units), xp)
        dh = g_h.copy()
        dxz_all = xp.empty((t_len, n, 3 * units), dtype=g_out.dtype)
        dhz_all = xp.empty((t_len, n, 3 * units), dtype=g_out.dtype)
        h_prev_all = xp.empty((t_len, n, units), dtype=g_out.dtype)
        u_h = u[:, 2 * units :]
        for t in range(t_len - 1, -1, -1):
            dh = dh + gh_seq[t]
            h_prev, z, r, hh, hu = saved[t]
            h_prev_all[t] = h_prev if self.rm is None else h_prev * self.rm
            if m is not None:
                keep = m[t][:, None]
                dh_step = xp.where(keep, dh, 0)
            else:
                dh_step = dh
            dz = dh_step * (h_prev - hh)
            dhh = dh_step * (1 - z)
            dpre_h = dhh * (1 - hh * hh)
            dz_pre = dz * z * (1 - z)
            dxz = dxz_all[t]
            dhz = dhz_all[t]
            dxz[:, :units] = dz_pre
            dxz[:, 2 * units :] = dpre_h
            d_rh = dpre_h @ u_h.T
            dr = d_rh * h_prev
            dr_pre = dr * r * (1 - r)
            dxz[:, units : 2 * units] = dr_pre
            dhz[:, : 2 * units] = dxz[:, : 2 * units]
            dhz[:, 2 * units :] = dpre_h  # gradient of (r h) U_h wrt U_h uses r h
            dh_prev = dhz[:, : 2 * units] @ u[:, : 2 * units].T + d_rh * r
            dh_prev = dh_prev + dh_step * z
            if m is not None:
                dh_prev = dh_prev + xp.where(keep, 0, dh)
            dh = dh_prev
        needs = self.needs_input_grad
        dx2 = dxz_all.reshape(t_len * n, dxz_all.shape[-1])
        dh2 = dhz_all.reshape(t_len * n, dhz_all.shape[-1])
        gx, gw = self._input_grads(xp, xt, w, dx2, needs[0], needs[2])
        gu = None
        if needs[3]:
            hp = h_prev_all.reshape(t_len * n, h_prev_all.shape[-1])
            rh = xp.stack([s[2] * s[0] for s in saved])
            rh = rh.reshape(t_len * n, rh.shape[-1])
            gu = xp.concatenate([hp.T @ dh2[:, : 2 * units], rh.T @ dh2[:, 2 * units :]], 1)
        gb = None
        if b is not None and needs[4]:
            if b.ndim == 2:
                gb = xp.stack([dx2.sum(axis=0), dh2.sum(axis=0)])
            else:
                gb = dx2.sum(axis=0)
        return gx, (dh if needs[1] else None), gw, gu, gb


class SimpleRNN(_Recurrent):
    """h' = tanh(x_t W + h U + b).  Backward: dz = dh (1 - h'^2); dh_prev = dz U^T."""

    def forward(self, x, h0, w, u, b):
        xp = backend.array_module(x)
        n, t_len, _ = x.shape
        units, dt = u.shape[0], x.dtype
        xt, m = _time_major(x, self.mask, self.go_backwards)
        xw = (xt.reshape(t_len * n, xt.shape[-1]) @ w).reshape(t_len, n, units)
        if b is not None:
            xw += b
        h0 = xp.ascontiguousarray(_state(xp, h0, n, units, dt))
        hs, acts = (xp.empty((t_len, n, units), dtype=dt) for _ in range(2))
        h_in = xp.empty((t_len, n, units) if self.rm is not None else (0, 0, 0), dtype=dt)
        mask, rm = self._kernel_masks(xp, m, dt)
        u = xp.ascontiguousarray(u)
        _over_rows(xp, SIMPLE_RNN_FORWARD, (xw, u, h0, hs, acts, h_in, mask, rm), n, xw.size)
        if self.recording:
            states = h_in if self.rm is not None else (h0, hs)  # entering each step's product
            self.saved = (xt, w, u, b is not None, acts, states, m)
        return self._outputs(hs, ((hs[-1] if t_len else h0).copy(),))

    def backward(self, g_out, g_h):
        xt, w, u, has_b, acts, states, m = self.saved
        xp = backend.array_module(g_out)
        t_len, n, _ = xt.shape
        dt = g_out.dtype
        gh_seq, dh0 = self._incoming(xp, g_out, g_h, dt)
        dz_all = xp.empty(acts.shape, dtype=dt)
        mask, rm = self._kernel_masks(xp, m, dt)
        u_t = xp.ascontiguousarray(u.T)
        args = (gh_seq, dh0, u_t, acts, dz_all, mask, rm)
        _over_rows(xp, SIMPLE_RNN_BACKWARD, args, n, dz_all.size)
        return self._param_grads(xp, xt, w, u, has_b, dz_all, states, dh0, None)


def _mask_array(mask, n, t_len):
    if mask is None:
        return None
    m = mask.data if hasattr(mask, "data") and not isinstance(mask, np.ndarray) else mask
    m = np.asarray(m) if not hasattr(m, "shape") else m
    if m.shape != (n, t_len):
        raise ValueError(f"rnn: expected a mask of shape {(n, t_len)}. Received: {m.shape}")
    return m.astype(bool)


def _float_input(x, w):
    """Boolean or integer sequences (one-hot flags, counts) in the kernel's float dtype, as
    Keras's backends promote them (the fused kernels write into float buffers)."""
    if x.dtype.kind in "biu":
        from .arithmetic import cast

        return cast(x, w.dtype)
    return x


def _check_rnn_input(name, x, units, gates, w):
    if x.ndim != 3:
        raise ValueError(
            f"{name}: expected inputs of rank 3 (batch, timesteps, features). "
            f"Received: input shape={x.shape}"
        )
    if w.shape != (x.shape[-1], gates * units):
        raise ValueError(
            f"{name}: expected a kernel of shape {(x.shape[-1], gates * units)}. "
            f"Received: kernel shape={w.shape}"
        )


def lstm(
    inputs,
    initial_h,
    initial_c,
    kernel,
    recurrent_kernel,
    bias=None,
    mask=None,
    go_backwards=False,
    return_sequences=True,
    recurrent_mask=None,
):
    """LSTM over a whole sequence in one node.  Returns (outputs, h_last, c_last).

    ``recurrent_mask`` (N, units) multiplies h before h @ U (recurrent dropout).
    """
    x, w, u = as_tensor(inputs), as_tensor(kernel), as_tensor(recurrent_kernel)
    units = u.shape[0]
    _check_rnn_input("lstm", x, units, 4, w)
    x = _float_input(x, w)
    m = _mask_array(mask, x.shape[0], x.shape[1])
    fn = LSTM(m, go_backwards, return_sequences, recurrent_mask)
    return fn.apply(x, initial_h, initial_c, w, u, bias)


def gru(
    inputs,
    initial_h,
    kernel,
    recurrent_kernel,
    bias=None,
    mask=None,
    go_backwards=False,
    return_sequences=True,
    reset_after=True,
    recurrent_mask=None,
):
    """GRU over a whole sequence in one node.  Returns (outputs, h_last)."""
    x, w, u = as_tensor(inputs), as_tensor(kernel), as_tensor(recurrent_kernel)
    units = u.shape[0]
    _check_rnn_input("gru", x, units, 3, w)
    x = _float_input(x, w)
    m = _mask_array(mask, x.shape[0], x.shape[1])
    fn = GRU(m, go_backwards, return_sequences, reset_after, recurrent_mask)
    return fn.apply(x, initial_h, w, u, bias)


def simple_rnn(
    inputs,
    initial_h,
    kernel,
    recurrent_kernel,
    bias=None,
    mask=None,
    go_backwards=False,
    return_sequences=True,
    recurrent_mask=None,
):
    """Elman RNN (tanh) over a whole sequence in one node.  Returns (outputs, h_last)."""
    x, w, u = as_tensor(inputs), as_tensor(kernel), as_tensor(recurrent_kernel)
    units = u.shape[0]
    _check_rnn_input("simple_rnn", x, units, 1, w)
    x = _float_input(x, w)
    m = _mask_array(mask, x.shape[0], x.shape[1])
    fn = SimpleRNN(m, go_backwards, return_sequences, recurrent_mask)
    return fn.apply(x, initial_h, w, u, bias)


from ._util import export_ops  # noqa: E402

export_ops(globals())
