"""The LSTM's numba recurrence against its NumPy reference: outputs, states and every
gradient, for each combination of options, odd sizes and the batch split over threads."""

import itertools

import numpy as np
import pytest

import shendu
from shendu import parallel
from shendu.autograd.tensor import Tensor
from shendu.kernels import recurrent
from shendu.kernels.recurrent import tanh_rational
from shendu.ops import rnn

pytest.importorskip("numba")


GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def _run(cell, mode, select, n=7, t_len=5, features=3, units=6, dtype=np.float32, **options):
    """Outputs, final states and every gradient of one recurrent op on seeded data."""
    select(mode)
    r = np.random.default_rng(0)
    seq, mask, back, drop, states, bias2 = (
        options.get(k, False) for k in ("seq", "mask", "back", "drop", "states", "bias2")
    )

    def param(*shape, scale=1.0):
        return Tensor((r.standard_normal(shape) * scale).astype(dtype), requires_grad=True)

    width = GATES[cell] * units
    x = param(n, t_len, features)
    w, u = param(features, width, scale=0.3), param(units, width, scale=0.3)
    b = param(2, width, scale=0.1) if bias2 else param(width, scale=0.1)
    n_states = 2 if cell == "lstm" else 1
    init = [param(n, units) for _ in range(n_states)] if states else [None] * n_states
    m = r.random((n, t_len)) > 0.3 if mask else None
    rm = (r.random((n, units)) > 0.4).astype(dtype) / 0.6 if drop else None
    op = getattr(rnn, cell)
    outs = op(
        x, *init, w, u, b, mask=m, go_backwards=back, return_sequences=seq, recurrent_mask=rm
    )
    loss = sum((t * Tensor(r.standard_normal(t.shape).astype(dtype))).sum() for t in outs)
    loss.backward()
    grads = [t.grad for t in [x, w, u, b] + (init if states else [])]
    return [t.data for t in outs] + [np.asarray(getattr(g, "data", g)) for g in grads]


def _assert_equal_paths(select, cell="lstm", **kwargs):
    ref = _run(cell, "numpy", select, **kwargs)
    got = _run(cell, "numba", select, **kwargs)
    for a, b in zip(ref, got):
        # float32 sums err in proportion to their largest terms: the absolute bound scales
        # with the array (an element near zero among large ones, seen on an AMD EPYC:
        # 2.8e-6 beside values of 14)
        np.testing.assert_allclose(
            b, a, rtol=2e-5, atol=2e-6 * max(1.0, np.abs(a).max(initial=0.0))
        )


OPTIONS = list(itertools.product([False, True], repeat=5))


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("seq,mask,back,drop,states", OPTIONS)
def test_recurrent_options(cell, seq, mask, back, drop, states, kernel_mode):
    _assert_equal_paths(kernel_mode, cell, seq=seq, mask=mask, back=back, drop=drop, states=states)


def test_gru_with_a_recurrent_bias(kernel_mode):
    _assert_equal_paths(kernel_mode, "gru", seq=True, mask=True, states=True, bias2=True)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("n,t_len,units", [(1, 1, 1), (3, 2, 5), (0, 3, 4), (4, 0, 3), (5, 9, 17)])
def test_recurrent_sizes(cell, n, t_len, units, kernel_mode):
    _assert_equal_paths(kernel_mode, cell, n=n, t_len=t_len, units=units, seq=True, states=True)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_split_over_threads(cell, kernel_mode, monkeypatch):
    """A batch large enough to split: the blocks, each on its thread, give the whole's
    result."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    parallel.set_num_threads(2)
    try:
        _assert_equal_paths(kernel_mode, cell, n=33, t_len=6, units=8, seq=True, mask=True)
    finally:
        parallel.set_num_threads(parallel._default_threads())


def test_float64_takes_the_numpy_path(kernel_mode):
    kernel_mode("numba")
    arrays = (np.zeros((1, 1, 4)), np.zeros((1, 4)))
    assert not recurrent.LSTM_FORWARD.runs_compiled(*arrays)
    assert recurrent.LSTM_FORWARD.runs_compiled(*(a.astype(np.float32) for a in arrays))


def _tanh_over(x, out):
    for k in range(x.size):
        out[k] = tanh_rational(x[k])


def test_rational_tanh_within_float32_ulps():
    from shendu.kernels.dispatch import jit

    compiled = jit(_tanh_over, recurrent.HELPERS)
    x = np.linspace(-12, 12, 200_001, dtype=np.float32)
    out = np.empty_like(x)
    compiled(x, out)
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(out - exact).max() < 4e-7
    assert np.all(np.abs(out) <= 1)


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "SimpleRNN"])
def test_layer_trains_equal_on_both_paths(layer, kernel_mode):
    weights = []
    for mode in ("numpy", "numba"):
        kernel_mode(mode)
        shendu.set_random_seed(5)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((32, 6, 4)).astype(np.float32)
        y = rng.standard_normal((32, 1)).astype(np.float32)
        model = shendu.Sequential(
            [shendu.layers.Input((6, 4)), getattr(shendu.layers, layer)(8), shendu.layers.Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=8, epochs=5, verbose=0, shuffle=False)  # 20 steps
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
