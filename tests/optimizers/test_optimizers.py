"""Every optimizer against its update rule written out by hand for 3 steps (and torch.optim)."""

import math

import numpy as np
import pytest

import shendu
from shendu import optimizers
from shendu.layers import Variable

G = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.0]), np.array([1.5, -0.7, -0.1])]
W0 = np.array([1.0, -2.0, 0.5])


def run(opt, steps=3):
    v = Variable(W0.copy())
    for g in G[:steps]:
        opt.apply([g], [v])
    return v.numpy()


def reference(rule, **state):
    w = W0.copy()
    s = {k: (np.full(3, v) if np.isscalar(v) else v.copy()) for k, v in state.items()}
    for t, g in enumerate(G, start=1):
        w = rule(w, g, t, s)
    return w


def sgd(lr, momentum=0.0, nesterov=False):
    def rule(w, g, t, s):
        if not momentum:
            return w - lr * g
        s["m"] = momentum * s["m"] - lr * g
        return w + (momentum * s["m"] - lr * g if nesterov else s["m"])

    return rule


def adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    def rule(w, g, t, s):
        if wd:
            w = w - w * wd * lr
        s["m"] = s["m"] + (1 - b1) * (g - s["m"])
        s["v"] = s["v"] + (1 - b2) * (g * g - s["v"])
        v = s["v"]
        if amsgrad:
            s["vh"] = np.maximum(s["vh"], s["v"])
            v = s["vh"]
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return w - alpha * s["m"] / (np.sqrt(v) + eps)

    return rule


def adagrad(lr=0.001, init=0.1, eps=1e-7):
    def rule(w, g, t, s):
        s["a"] = s["a"] + g * g
        return w - lr * g / np.sqrt(s["a"] + eps)

    return rule


def rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def rule(w, g, t, s):
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        denom = s["v"]
        if centered:
            s["mg"] = rho * s["mg"] + (1 - rho) * g
            denom = s["v"] - s["mg"] ** 2
        step = lr * g / np.sqrt(denom + eps)
        if momentum:
            s["m"] = momentum * s["m"] + step
            return w - s["m"]
        return w - step

    return rule


def adadelta(lr=0.001, rho=0.95, eps=1e-7):
    def rule(w, g, t, s):
        s["a"] = rho * s["a"] + (1 - rho) * g * g
        d = -np.sqrt(s["b"] + eps) / np.sqrt(s["a"] + eps) * g
        s["b"] = rho * s["b"] + (1 - rho) * d * d
        return w + lr * d

    return rule


def adamax(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    def rule(w, g, t, s):
        s["m"] = s["m"] + (1 - b1) * (g - s["m"])
        s["u"] = np.maximum(b2 * s["u"], np.abs(g))
        return w - lr * s["m"] / ((1 - b1**t) * (s["u"] + eps))

    return rule


def nadam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    def mu(t):
        return b1 * (1 - 0.5 * 0.96**t)

    def rule(w, g, t, s):
        s["p"] = s["p"] * mu(t)
        s["m"] = s["m"] + (1 - b1) * (g - s["m"])
        s["v"] = s["v"] + (1 - b2) * (g * g - s["v"])
        m_hat = mu(t + 1) * s["m"] / (1 - s["p"] * mu(t + 1)) + (1 - mu(t)) * g / (1 - s["p"])
        v_hat = s["v"] / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    return rule


def lion(lr=0.001, b1=0.9, b2=0.99):
    def rule(w, g, t, s):
        w = w - lr * np.sign(b1 * s["m"] + (1 - b1) * g)
        s["m"] = b2 * s["m"] + (1 - b2) * g
        return w

    return rule


CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), sgd(0.1), {}),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), sgd(0.1, 0.9), {"m": 0.0}),
    "sgd_nesterov": (
        lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
        sgd(0.1, 0.9, True),
        {"m": 0.0},
    ),
    "adam": (lambda: optimizers.Adam(0.1), adam(0.1), {"m": 0.0, "v": 0.0}),
    "adam_amsgrad": (
        lambda: optimizers.Adam(0.1, amsgrad=True),
        adam(0.1, amsgrad=True),
        {"m": 0.0, "v": 0.0, "vh": 0.0},
    ),
    "adamw": (
        lambda: optimizers.AdamW(0.1, weight_decay=0.1),
        adam(0.1, wd=0.1),
        {"m": 0.0, "v": 0.0},
    ),
    "adagrad": (lambda: optimizers.Adagrad(0.1), adagrad(0.1), {"a": 0.1}),
    "rmsprop": (lambda: optimizers.RMSprop(0.1), rmsprop(0.1), {"v": 0.0}),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSprop(0.1, momentum=0.5, centered=True),
        rmsprop(0.1, momentum=0.5, centered=True),
        {"v": 0.0, "mg": 0.0, "m": 0.0},
    ),
    "adadelta": (lambda: optimizers.Adadelta(1.0), adadelta(1.0), {"a": 0.0, "b": 0.0}),
    "adamax": (lambda: optimizers.Adamax(0.1), adamax(0.1), {"m": 0.0, "u": 0.0}),
    "nadam": (lambda: optimizers.Nadam(0.1), nadam(0.1), {"m": 0.0, "v": 0.0, "p": 1.0}),
    "lion": (lambda: optimizers.Lion(0.1), lion(0.1), {"m": 0.0}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_update_rule_by_hand_for_3_steps(name):
    make, rule, state = CASES[name]
    np.testing.assert_allclose(run(make()), reference(rule, **state), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_round_trip_and_config(name):
    make, _, _ = CASES[name]
    opt = make()
    v = Variable(W0.copy())
    opt.apply([G[0]], [v])
    state = opt.get_state()
    opt2 = type(opt).from_config(opt.get_config())
    v2 = Variable(v.numpy().copy())
    opt2.build([v2])
    opt2.set_state(state)
    opt.apply([G[1]], [v])
    opt2.apply([G[1]], [v2])
    np.testing.assert_array_equal(v.numpy(), v2.numpy())
    assert opt2.iterations == 2


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "adam", "adamw_torch"])
def test_against_torch_optim(name):
    torch = pytest.importorskip("torch")
    p = torch.tensor(W0.copy(), requires_grad=True)
    if name == "sgd":
        topt, ours = torch.optim.SGD([p], lr=0.1), optimizers.SGD(0.1)
    elif name == "sgd_momentum":
        # torch: buf = m*buf + g; w -= lr*buf  ==  Keras form with the lr folded in
        topt, ours = torch.optim.SGD([p], lr=0.1, momentum=0.9), optimizers.SGD(0.1, momentum=0.9)
    elif name == "adam":
        # torch puts eps outside sqrt(v_hat); Keras outside sqrt(v) with the bias-corrected
        # step: they agree when eps is negligible
        topt, ours = torch.optim.Adam([p], lr=0.1, eps=1e-12), optimizers.Adam(0.1, epsilon=1e-12)
    else:
        topt = torch.optim.AdamW([p], lr=0.1, eps=1e-12, weight_decay=0.1)
        ours = optimizers.AdamW(0.1, weight_decay=0.1, epsilon=1e-12)
    for g in G:
        p.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(run(ours), p.detach().numpy(), rtol=1e-6)


def test_clipping_weight_decay_and_errors():
    v = Variable(np.array([3.0, 4.0]))
    optimizers.SGD(1.0, clipnorm=1.0).apply([np.array([3.0, 4.0])], [v])
    np.testing.assert_allclose(v.numpy(), [3 - 0.6, 4 - 0.8])
    a, b = Variable(np.zeros(1)), Variable(np.zeros(1))
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([3.0]), np.array([4.0])], [a, b])
    np.testing.assert_allclose([a.item(), b.item()], [-0.6, -0.8])
    c = Variable(np.zeros(2))
    optimizers.SGD(1.0, clipvalue=0.5).apply([np.array([3.0, -0.1])], [c])
    np.testing.assert_allclose(c.numpy(), [-0.5, 0.1])
    with pytest.raises(
        ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set"
    ):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'. Did you mean 'adam'"):
        optimizers.get("adamm")
    with pytest.raises(
        ValueError, match="Expected `learning_rate` as a non-negative finite float"
    ):
        optimizers.SGD(-1.0)
    with pytest.raises(RuntimeError, match="step\\(\\): no variables"):
        optimizers.SGD().step()


def test_schedules():
    s = optimizers.schedules
    assert s.ExponentialDecay(1.0, 10, 0.5)(10) == pytest.approx(0.5)
    assert s.ExponentialDecay(1.0, 10, 0.5, staircase=True)(15) == pytest.approx(0.5)
    assert s.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])(7) == 0.5
    assert s.PolynomialDecay(1.0, 10, 0.0)(5) == pytest.approx(0.5)
    assert s.InverseTimeDecay(1.0, 1, 1.0)(1) == pytest.approx(0.5)
    assert s.CosineDecay(1.0, 10)(10) == pytest.approx(0.0)
    assert s.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=5)(5) == pytest.approx(1.0)
    assert s.CosineDecayRestarts(1.0, 10)(10) == pytest.approx(1.0)
    opt = optimizers.SGD(s.ExponentialDecay(1.0, 1, 0.5))
    v = Variable(np.zeros(1))
    for _ in range(3):
        opt.apply([np.ones(1)], [v])
    np.testing.assert_allclose(v.numpy(), [-(1 + 0.5 + 0.25)])
    clone = optimizers.SGD.from_config(opt.get_config())
    assert clone.learning_rate == pytest.approx(1.0)


def test_ema_overwrites_at_the_end_of_fit():
    model = shendu.Sequential([shendu.layers.Input((2,)), shendu.layers.Dense(1)])
    model.compile(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    x = np.ones((8, 2), np.float32)
    model.fit(x, np.ones((8, 1)), epochs=2, batch_size=4, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], model.optimizer._ema[0])
