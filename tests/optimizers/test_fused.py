"""Fused storage: shared arrays, and the same results as the per-variable path."""

import numpy as np
import pytest

import shendu
from shendu import layers as L
from shendu.layers.base import Variable
from shendu.optimizers.fused import FusedStorage

from .test_optimizers import CASES


def test_variables_are_views_of_the_buffer():
    m = shendu.Sequential([L.Input((3,)), L.Dense(4), L.Dense(2)])
    flat = FusedStorage(m.trainable_weights, [])
    m.trainable_weights[0].assign(np.full((3, 4), 7.0))
    assert np.all(flat.params[:12] == 7.0)
    flat.params[12:16] = -1
    np.testing.assert_array_equal(m.trainable_weights[1].numpy(), -np.ones(4))


def _train(opt_factory, flat, clip=None):
    shendu.set_random_seed(3)
    m = shendu.Sequential([L.Input((5,)), L.Dense(6, activation="tanh"), L.Dense(2)])
    kwargs = {} if clip is None else clip
    opt = opt_factory(**kwargs) if kwargs else opt_factory()
    variables = m.trainable_weights
    if flat:
        assert opt.fuse_variables(variables)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal((8, 5)).astype(np.float32)
        for v in variables:
            v.grad = None
        loss = (m(x) ** 2).mean()
        loss.backward()
        opt.apply([v.grad for v in variables], variables)
    return m.get_weights(), opt


@pytest.mark.parametrize("name", sorted(CASES))
def test_flat_and_per_variable_paths_agree(name):
    make = CASES[name][0]
    a, opt_a = _train(make, flat=False)
    b, opt_b = _train(make, flat=True)
    assert opt_b._fused is not None
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)
    sa, sb = opt_a.get_state(), opt_b.get_state()
    assert len(sa) == len(sb)  # same entries (layer names differ between the two models)
    for x, y in zip(sa.values(), sb.values()):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "clip", [{"clipnorm": 0.1}, {"global_clipnorm": 0.1}, {"clipvalue": 0.01}]
)
def test_flat_clipping_agrees(clip):
    a, _ = _train(lambda **k: shendu.optimizers.Adam(0.01, **k), False, clip)
    b, _ = _train(lambda **k: shendu.optimizers.Adam(0.01, **k), True, clip)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)


def test_fit_fuses_the_variables_and_memory_stays_flat():
    import resource  # noqa: F401

    m = shendu.Sequential([L.Input((4,)), L.Dense(16, activation="relu"), L.Dense(3)])
    m.compile("adam", shendu.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    y = np.arange(40) % 3
    m.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert m.optimizer._fused is not None

    def rss_kib():
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("VmRSS")).split()[1])

    m.fit(x, y, epochs=10, batch_size=4, verbose=0)  # 100 steps
    before = rss_kib()
    m.fit(x, y, epochs=90, batch_size=4, verbose=0)  # 900 more
    assert rss_kib() - before < 10 * 1024


def _large_updates(make, threads, flat):
    """Three updates of a variable large enough to be split over threads."""
    shendu.parallel.set_num_threads(threads)
    rng = np.random.default_rng(5)
    w = Variable(rng.standard_normal((600, 500)).astype(np.float32))
    opt = make()
    if flat:
        assert opt.fuse_variables([w])
    for _ in range(3):
        w.grad = shendu.tensor(rng.standard_normal(w.shape).astype(np.float32))
        opt.apply([w.grad], [w])
    return w.numpy()


@pytest.mark.parametrize("flat", [False, True], ids=["per-variable", "flat"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_parallel_update_of_a_large_variable_is_bit_identical(name, flat):
    make = CASES[name][0]
    before = shendu.parallel.num_threads()
    try:
        serial = _large_updates(make, 1, flat)
        split = _large_updates(make, 3, flat)
    finally:
        shendu.parallel.set_num_threads(before)
    assert make().elementwise
    np.testing.assert_array_equal(serial, split)


def test_custom_optimizer_is_not_split_unless_elementwise():
    seen = []

    class RowNorm(shendu.optimizers.Optimizer):
        """w <- w - lr * g / |g| per row: not elementwise, must see whole variables."""

        def update(self, g, w, slots, lr):
            seen.append(w.shape)
            w -= lr * g / np.linalg.norm(g, axis=-1, keepdims=True)

    before = shendu.parallel.num_threads()
    shendu.parallel.set_num_threads(2)
    try:
        w = Variable(np.ones((600, 500), np.float32))
        RowNorm().apply([np.ones((600, 500), np.float32)], [w])
    finally:
        shendu.parallel.set_num_threads(before)
    assert seen == [(600, 500)]


def test_a_rule_that_is_not_elementwise_is_not_fused():
    """A custom rule that looks at whole variables (a norm per row) must never see the
    fused vector: fuse_variables declines and fit updates variable by variable."""
    seen = []

    class RowNorm(shendu.optimizers.Optimizer):
        def update(self, g, w, slots, lr):
            seen.append(w.shape)
            w -= lr * g / (np.linalg.norm(g, axis=-1, keepdims=True) + 1e-12)

    m = shendu.Sequential([L.Input((3,)), L.Dense(4), L.Dense(2)])
    assert not RowNorm().fuse_variables(m.trainable_weights)
    m.compile(RowNorm(0.1), "mse")
    m.fit(np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0)
    assert sorted(seen) == [(2,), (3, 4), (4,), (4, 2)]
    assert m.optimizer._fused is None


def test_plain_tensors_are_not_fused():
    w = shendu.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = shendu.optimizers.SGD(0.5)
    assert not opt.fuse_variables([w])
    opt.apply([np.ones(3, np.float32)], [w])
    np.testing.assert_array_equal(w.numpy(), [0.5, 0.5, 0.5])


def test_fused_storage_follows_the_variable_set():
    """Each apply with another set of variables rebuilds the storage: variables that left
    it get arrays of their own, the slots move with their variables."""
    a = Variable(np.ones((2, 2), np.float32), name="a")
    b = Variable(np.ones(3, np.float32), name="b")
    opt = shendu.optimizers.Adam(0.1)
    assert opt.fuse_variables([a, b])
    first = opt._fused
    assert np.shares_memory(a.data, first.params) and np.shares_memory(b.data, first.params)
    opt.apply([np.ones((2, 2), np.float32), np.ones(3, np.float32)], [a, b])
    momentum_b = opt._slots[opt._index[id(b)]]["momentum"].copy()
    opt.apply([np.ones(3, np.float32)], [b])  # a frozen
    assert opt._fused is not first and opt._fused.variables == [b]
    assert not np.shares_memory(a.data, first.params) and a.grad_buffer is None
    np.testing.assert_allclose(opt._slots[opt._index[id(b)]]["momentum"], momentum_b * 0.9 + 0.1)
    assert np.shares_memory(
        opt._slots[opt._index[id(b)]]["momentum"], opt._fused.slots["momentum"]
    )


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "per-variable"])
def test_gradient_reduction_runs_before_the_update(fused):
    """One call on the fused buffer per step, else one per variable (on a copy: the
    caller's gradient arrays stay as they were); nothing after the block."""
    m = shendu.Sequential([L.Input((3,)), L.Dense(4), L.Dense(2)])
    variables = m.trainable_weights
    opt = shendu.optimizers.SGD(0.1)
    if fused:
        assert opt.fuse_variables(variables)
    calls = []

    def double(array):
        calls.append(array.shape)
        array *= 2

    grads = [np.full(v.shape, i, np.float32) for i, v in enumerate(variables)]
    before = [v.numpy().copy() for v in variables]
    with opt.gradient_reduction(double):
        opt.apply(grads, variables)
    expected = [(26,)] if fused else [v.shape for v in variables]
    assert calls == expected
    for i, (v, w0, g) in enumerate(zip(variables, before, grads)):
        np.testing.assert_allclose(v.numpy(), w0 - 0.1 * 2 * i, rtol=1e-6)
        assert np.all(g == i)
    opt.apply(grads, variables)
    assert calls == expected


def test_a_fused_gradient_of_the_wrong_shape_is_named():
    m = shendu.Sequential([L.Input((3,)), L.Dense(4)])
    variables = m.trainable_weights
    opt = shendu.optimizers.SGD(0.1)
    assert opt.fuse_variables(variables)
    before = [v.numpy().copy() for v in variables]
    with pytest.raises(ValueError, match=r"Gradient of shape \(4, 3\) for variable .*kernel"):
        opt.apply([np.ones((4, 3), np.float32), np.ones(4, np.float32)], variables)
    for v, w0 in zip(variables, before):
        np.testing.assert_array_equal(v.numpy(), w0)
    assert opt.iterations == 0


def test_constraints_apply_to_fused_variables():
    m = shendu.Sequential(
        [L.Input((3,)), L.Dense(4, kernel_constraint=shendu.constraints.NonNeg()), L.Dense(2)]
    )
    opt = shendu.optimizers.SGD(1.0)
    assert opt.fuse_variables(m.trainable_weights)
    grads = [np.ones(v.shape, np.float32) * 10 for v in m.trainable_weights]
    opt.apply(grads, m.trainable_weights)
    assert m.layers[0].kernel.numpy().min() == 0.0
    assert m.layers[1].kernel.numpy().min() < 0
