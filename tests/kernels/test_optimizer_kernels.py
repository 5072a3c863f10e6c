"""Each optimizer kernel's numba loop against its NumPy reference, and the optimizers that
use them equal on both paths."""

import numpy as np
import pytest

import shendu
from shendu.kernels import optimizer_updates as K

pytest.importorskip("numba")

SIZES = [0, 1, 7, 1000]


def _arrays(n, dtype, count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(count)]


def _both(kernel, make):
    """Run the reference and the compiled loop on equal fresh arguments; both results."""
    out = []
    for fn in (kernel.reference, kernel.compiled()):
        args = make()
        fn(*args)
        out.append(args)
    return out


def _assert_close(ref, got, dtype):
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(ref, got):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_adam(n, dtype):
    def make():
        g, w, m = _arrays(n, dtype, 3)
        v = np.abs(_arrays(n, dtype, 1, seed=1)[0])
        return (g, w, m, v, *K.scalars(w, 3e-4, 0.1, 0.001, 1e-7), np.empty(n, dtype))

    ref, got = _both(K.ADAM, make)
    _assert_close(ref[:4], got[:4], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_adam_amsgrad(n, dtype):
    def make():
        g, w, m = _arrays(n, dtype, 3)
        v, vh = (np.abs(a) for a in _arrays(n, dtype, 2, seed=1))
        return (g, w, m, v, vh, *K.scalars(w, 3e-4, 0.1, 0.001, 1e-7), np.empty(n, dtype))

    ref, got = _both(K.ADAM_AMSGRAD, make)
    _assert_close(ref[:5], got[:5], dtype)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_sgd_momentum(n, dtype, nesterov):
    def make():
        g, w, m = _arrays(n, dtype, 3)
        return (g, w, m, *K.scalars(w, 0.01, 0.9), nesterov)

    ref, got = _both(K.SGD_MOMENTUM, make)
    _assert_close(ref[:3], got[:3], dtype)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 7, 1000])
def test_rmsprop(n, dtype, centered, momentum):
    def make():
        g, w, m = _arrays(n, dtype, 3)
        v = np.abs(_arrays(n, dtype, 1, seed=1)[0]) + 1
        mg = _arrays(n, dtype, 1, seed=2)[0] * 0.1 if centered else w[:0]
        m = m if momentum else w[:0]
        return (g, w, v, mg, m, *K.scalars(w, 0.001, 0.9, 0.1, 1e-7, momentum))

    ref, got = _both(K.RMSPROP, make)
    _assert_close(ref[:5], got[:5], dtype)


def test_non_contiguous_gradient():
    """A strided gradient (a view) is read where it lies."""
    g = np.arange(20, dtype=np.float32)[::2] / 10
    ref, got = _both(
        K.SGD_MOMENTUM,
        lambda: (
            g,
            np.ones(10, np.float32),
            np.zeros(10, np.float32),
            *K.scalars(g, 0.1, 0.5),
            False,
        ),
    )
    _assert_close(ref[:3], got[:3], np.float32)


def test_flat_refuses_non_contiguous_arrays():
    w = np.ones((4, 6), np.float32)
    assert K.flat(w, w) is not None
    assert K.flat(w[:, ::2]) is None


def test_scalars_take_the_arrays_dtype():
    assert all(type(s) is np.float32 for s in K.scalars(np.ones(2, np.float32), 0.1, 2))


def _train(optimizer, kernels_mode, select):
    select(kernels_mode)
    shendu.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.standard_normal((64, 2)).astype(np.float32)
    model = shendu.Sequential(
        [
            shendu.layers.Input((5,)),
            shendu.layers.Dense(8, activation="tanh"),
            shendu.layers.Dense(2),
        ]
    )
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)  # 24 steps
    return [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize(
    "make",
    [
        lambda: shendu.optimizers.Adam(0.01),
        lambda: shendu.optimizers.Adam(0.01, amsgrad=True),
        lambda: shendu.optimizers.AdamW(0.01),
        lambda: shendu.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        lambda: shendu.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        lambda: shendu.optimizers.RMSprop(0.01),
    ],
    ids=["adam", "amsgrad", "adamw", "nesterov", "rmsprop-centered", "rmsprop"],
)
def test_training_equal_on_both_paths(make, kernel_mode):
    ref = _train(make(), "numpy", kernel_mode)
    got = _train(make(), "numba", kernel_mode)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: shendu.optimizers.Adam(0.1),
        lambda: shendu.optimizers.RMSprop(0.1),
        lambda: shendu.optimizers.SGD(0.1, momentum=0.9),
    ],
    ids=["adam", "rmsprop", "sgd"],
)
def test_a_fortran_ordered_variable_is_updated_in_place(make, kernel_mode):
    """Its flat form would be a copy: the NumPy rule runs on it as it is."""
    out = []
    for mode in ("numpy", "numba"):
        kernel_mode(mode)
        v = shendu.Variable(np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)))
        g = np.asfortranarray(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
        opt = make()
        for _ in range(3):
            opt.apply([g], [v])
        out.append(v.numpy())
    assert not np.array_equal(out[1], np.arange(12).reshape(3, 4))
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6)
