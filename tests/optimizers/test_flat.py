"""The flat parameter buffer: shared storage, and identical results to the per-variable path."""

import numpy as np
import pytest

import shendu
from shendu import layers as L
from shendu.layers.base import Variable
from shendu.optimizers.flat import FlatBuffer

from .test_optimizers import CASES


def test_variables_are_views_of_the_buffer():
    m = shendu.Sequential([L.Input((3,)), L.Dense(4), L.Dense(2)])
    flat = FlatBuffer(m.trainable_weights)
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
        assert opt.use_flat_buffer(variables)
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
    assert opt_b._flat is not None
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


def test_fit_uses_the_flat_buffer_and_memory_stays_flat():
    import resource  # noqa: F401

    m = shendu.Sequential([L.Input((4,)), L.Dense(16, activation="relu"), L.Dense(3)])
    m.compile("adam", shendu.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    y = np.arange(40) % 3
    m.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert m.optimizer._flat is not None

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
        assert opt.use_flat_buffer([w])
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
