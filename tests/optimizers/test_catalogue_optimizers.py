"""Ftrl, Lamb and Adafactor: one step against the update rules written out by hand, the
checks, a fit that lowers the loss, a config round trip; Keras 3 where installed."""

import os

import numpy as np
import pytest

import shendu
from shendu import optimizers

RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((3, 4))
G = RNG.standard_normal((3, 4))


def _one_step(opt):
    w = shendu.Variable(W0.copy())
    opt.apply([G.copy()], [w])
    return w.numpy()


def test_ftrl_step_by_hand():
    lr, l1, l2, shrink, beta = 0.1, 0.01, 0.02, 0.03, 0.1
    opt = optimizers.Ftrl(
        lr,
        l1_regularization_strength=l1,
        l2_regularization_strength=l2,
        l2_shrinkage_regularization_strength=shrink,
        beta=beta,
    )
    n = np.full_like(W0, 0.1)
    new_n = n + G**2
    z = (G + 2 * shrink * W0) - (new_n**0.5 - n**0.5) / lr * W0
    quadratic = new_n**0.5 / lr + 2 * (l2 + beta / (2 * lr))
    expected = (np.clip(z, -l1, l1) - z) / quadratic
    np.testing.assert_allclose(_one_step(opt), expected, rtol=1e-10)


def test_lamb_step_by_hand():
    opt = optimizers.Lamb(0.01)
    m = 0.1 * G
    v = 0.001 * G**2
    u = (m / 0.1) / (np.sqrt(v / 0.001) + 1e-7)
    ratio = np.linalg.norm(W0) / np.linalg.norm(u)
    np.testing.assert_allclose(_one_step(opt), W0 - 0.01 * ratio * u, rtol=1e-10)
    assert not optimizers.Lamb.elementwise and optimizers.Ftrl.elementwise


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="`l1_regularization_strength` needs to be non-negative"):
        optimizers.Ftrl(l1_regularization_strength=-1)
    with pytest.raises(ValueError, match="`learning_rate_power` needs to be negative or zero"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match=r"`beta_1` must be in \[0, 1\]"):
        optimizers.Lamb(beta_1=2.0)


@pytest.mark.parametrize("name", ["ftrl", "lamb"])
def test_fit_lowers_the_loss_and_config_round_trips(name):
    shendu.utils.set_random_seed(0)
    x = RNG.standard_normal((64, 4)).astype("float32")
    y = x @ RNG.standard_normal((4, 1)).astype("float32")
    model = shendu.Sequential([shendu.Input((4,)), shendu.layers.Dense(1)])
    opt = optimizers.get(name)
    opt.learning_rate = 0.1
    model.compile(opt, "mse")
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    back = optimizers.deserialize(optimizers.serialize(opt))
    assert type(back) is type(opt) and back.get_config() == opt.get_config()


def test_match_keras_where_installed():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    for ours, theirs in (
        (
            optimizers.Ftrl(0.1, l1_regularization_strength=0.01),
            keras.optimizers.Ftrl(0.1, l1_regularization_strength=0.01),
        ),
        (optimizers.Lamb(0.01), keras.optimizers.Lamb(0.01)),
    ):
        w = keras.Variable(W0.astype("float32"))
        for _ in range(3):
            theirs.apply([G.astype("float32")], [w])
        mine = shendu.Variable(W0.astype("float32"))
        for _ in range(3):
            ours.apply([G.astype("float32")], [mine])
        np.testing.assert_allclose(mine.numpy(), np.asarray(w), rtol=1e-5, atol=1e-6)


def test_adafactor_step_by_hand():
    w0 = RNG.standard_normal((2, 3))
    g = RNG.standard_normal((2, 3))
    opt = optimizers.Adafactor(0.5)  # relative step: the rate is min(0.5, 1/sqrt(1)) = 0.5
    w = shendu.Variable(w0.copy())
    opt.apply([g.copy()], [w])
    alpha = max(1e-3, np.sqrt(np.mean(w0**2))) * 0.5
    g2 = g**2 + 1e-30
    b = 1 - 1.0**-0.8  # 0 at the first step
    r = (1 - b) * g2.mean(-1)
    c = (1 - b) * g2.mean(-2)
    v = (r / r.mean())[:, None] * c[None, :]
    u = g / np.sqrt(v)
    expected = w0 - alpha * u / max(1.0, np.sqrt(np.mean(u**2)))
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-10)
    assert set(opt._slots[0]) == {"r", "c"} and opt._slots[0]["r"].shape == (2,)


def test_adafactor_matches_keras_where_installed():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    w0 = RNG.standard_normal((2, 3, 4)).astype("float32")
    grads = [RNG.standard_normal((2, 3, 4)).astype("float32") for _ in range(3)]
    theirs, mine = keras.Variable(w0.copy()), shendu.Variable(w0.copy())
    k_opt, s_opt = keras.optimizers.Adafactor(0.1), optimizers.Adafactor(0.1)
    for g in grads:
        k_opt.apply([g], [theirs])
        s_opt.apply([g], [mine])
    np.testing.assert_allclose(mine.numpy(), np.asarray(theirs), rtol=1e-5, atol=1e-6)
