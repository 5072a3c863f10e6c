"""The update rules. Each docstring states its rule; ``g`` is the (clipped) gradient, ``t``
the 1-based step, ``lr`` the learning rate at that step. All updates are in place."""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..annotations import Array
from ..autograd.tensor import Tensor
from ..kernels import optimizer_updates as kernels
from .base import LearningRate, Optimizer


def _check_unit(name, value):
    if not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value}")
    return float(value)


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    Without momentum: w <- w - lr * g.
    With momentum: m <- momentum * m - lr * g; w <- w + m
    (Nesterov: w <- w + momentum * m - lr * g).

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        momentum: the momentum (0: plain gradient descent).
        nesterov: use Nesterov momentum.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = _check_unit("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        if not self.momentum:
            w -= lr * g
            return
        m = s["momentum"]
        rule, (w, m) = kernels.over_flat(kernels.SGD_MOMENTUM, w, m)
        lr_, momentum = kernels.scalars(w, lr, self.momentum)
        rule(g.reshape(w.shape), w, m, lr_, momentum, self.nesterov)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Keras's form, epsilon outside the square root of the raw second moment).

    m <- m + (1 - b1)(g - m); v <- v + (1 - b2)(g^2 - v);
    w <- w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
    With amsgrad, v_hat <- max(v_hat, v) replaces v in the last line.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: added to the square root of the second moment.
        amsgrad: use the maximum of the second moments seen.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = _check_unit("beta_1", beta_1), _check_unit("beta_2", beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)
        self.slot_names = ("momentum", "velocity") + (("velocity_hat",) if amsgrad else ())

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        tmp = self._scratch(w)  # the NumPy rule's temporaries go here: no allocation
        named = [w, s["momentum"], s["velocity"]] + ([s["velocity_hat"]] if self.amsgrad else [])
        kernel = kernels.ADAM_AMSGRAD if self.amsgrad else kernels.ADAM
        rule, arrays = kernels.over_flat(kernel, *named, tmp)
        consts = kernels.scalars(w, alpha, 1 - self.beta_1, 1 - self.beta_2, self.epsilon)
        rule(g.reshape(arrays[0].shape), *arrays[:-1], *consts, arrays[-1])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): w <- w - lr * wd * w, then Adam.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        weight_decay: the decoupled decay rate (multiplied by the learning rate).
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: added to the square root of the second moment.
        amsgrad: use the maximum of the second moments seen.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float | None = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            weight_decay=weight_decay,
            **kwargs,
        )


class Adamax(Optimizer):
    """Adam with the infinity norm.

    m <- m + (1 - b1)(g - m); u <- max(b2 u, |g|); w <- w - lr / (1 - b1^t) * m / (u + eps).

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        beta_1: decay of the first moment.
        beta_2: decay of the infinity norm u.
        epsilon: added to u.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    slot_names = ("m", "u")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, float(epsilon)

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        t = self.iterations + 1
        m, u = s["m"], s["u"]
        m += (1 - self.beta_1) * (g - m)
        xp.maximum(self.beta_2 * u, xp.abs(g), out=u)
        w -= lr * m / ((1 - self.beta_1**t) * (u + self.epsilon))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Keras's schedule, decay 0.96).

    mu_t = b1 (1 - 0.5 * 0.96^t); P_t = prod_{i<=t} mu_i;
    m <- m + (1 - b1)(g - m); v <- v + (1 - b2)(g^2 - v);
    m_hat = mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t);
    v_hat = v / (1 - b2^t); w <- w - lr * m_hat / (sqrt(v_hat) + eps).

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        beta_1: decay of the first moment (before Nesterov's schedule).
        beta_2: decay of the second moment.
        epsilon: added to the square root of the second moment.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    slot_names = ("momentum", "velocity")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, float(epsilon)
        self.u_product = 1.0

    def _mu(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _before_update(self):
        self.u_product *= self._mu(self.iterations + 1)

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        t = self.iterations + 1
        u_t, u_next = self._mu(t), self._mu(t + 1)
        m, v = s["momentum"], s["velocity"]
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        m_hat = u_next * m / (1 - self.u_product * u_next) + (1 - u_t) * g / (1 - self.u_product)
        v_hat = v / (1 - self.beta_2**t)
        w -= lr * m_hat / (xp.sqrt(v_hat) + self.epsilon)

    def _extra_named_state(self):
        return {"u_product": self.u_product}

    def _set_extra_named_state(self, state):
        self.u_product = float(state["u_product"])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adagrad(Optimizer):
    """a <- a + g^2 (a starts at initial_accumulator_value); w <- w - lr * g / sqrt(a + eps).

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        initial_accumulator_value: the starting value of each accumulator a.
        epsilon: added to a under the square root.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, float(epsilon)

    slot_names = ("accumulator",)

    def build_slots(self, variable: Tensor) -> dict:
        xp = backend.array_module(variable.data)
        return {"accumulator": xp.full_like(variable.data, self.initial_accumulator_value)}

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        a = s["accumulator"]
        a += g * g
        w -= lr * g / xp.sqrt(a + self.epsilon)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class RMSprop(Optimizer):
    """v <- rho v + (1 - rho) g^2 (centred: minus the square of the running mean of g);
    step = lr * g / sqrt(v + eps); with momentum: m <- momentum * m + step, w <- w - m;
    else w <- w - step.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        rho: decay of the running mean of g^2.
        momentum: the momentum of the steps (0: none).
        epsilon: added to v under the square root.
        centered: subtract the square of the running mean of g (the variance instead of the
            second moment).
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum = _check_unit("rho", rho), _check_unit("momentum", momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)
        self.slot_names = (
            ("velocity",)
            + (("momentum",) if momentum else ())
            + (("average_gradient",) if centered else ())
        )

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        unused = w[:0]
        named = [w, s["velocity"]]
        named += [s["average_gradient"] if self.centered else unused]
        named += [s["momentum"] if self.momentum else unused]
        rule, arrays = kernels.over_flat(kernels.RMSPROP, *named)
        consts = kernels.scalars(w, lr, self.rho, 1 - self.rho, self.epsilon, self.momentum)
        rule(g.reshape(arrays[0].shape), *arrays, *consts)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adadelta(Optimizer):
    """a <- rho a + (1 - rho) g^2; d = -sqrt(b + eps) / sqrt(a + eps) * g;
    b <- rho b + (1 - rho) d^2; w <- w + lr * d.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        rho: decay of the running means of g^2 and of the squared steps.
        epsilon: added under both square roots.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = _check_unit("rho", rho), float(epsilon)

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        a, b = s["accumulated_grad"], s["accumulated_delta_var"]
        a *= self.rho
        a += (1 - self.rho) * g * g
        d = -xp.sqrt(b + self.epsilon) / xp.sqrt(a + self.epsilon) * g
        b *= self.rho
        b += (1 - self.rho) * d * d
        w += lr * d

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Lion(Optimizer):
    """w <- w - lr * sign(b1 m + (1 - b1) g); m <- b2 m + (1 - b2) g.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        beta_1: the interpolation between momentum and gradient inside the sign.
        beta_2: decay of the momentum.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    slot_names = ("momentum",)

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = _check_unit("beta_1", beta_1), _check_unit("beta_2", beta_2)

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        m = s["momentum"]
        w -= lr * xp.sign(self.beta_1 * m + (1 - self.beta_1) * g)
        m *= self.beta_2
        m += (1 - self.beta_2) * g

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Ftrl(Optimizer):
    """Follow the regularised leader (Keras's form), with p = -learning_rate_power:

    g' = g + 2 * l2_shrinkage * w; n_new = n + g^2;
    z <- z + g' - (n_new^p - n^p) / lr * w;
    w <- (clip(z, -l1, l1) - z) / (n_new^p / lr + 2 * (l2 + beta / (2 lr))); n <- n_new.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        learning_rate_power: -p, the power of the accumulator in the rate (<= 0).
        initial_accumulator_value: the starting value of the accumulator n.
        l1_regularization_strength: l1, the L1 penalty (weights with |z| <= l1 are 0).
        l2_regularization_strength: l2, the L2 penalty.
        l2_shrinkage_regularization_strength: the L2 shrinkage added to the gradient.
        beta: added to the denominator as beta / (2 lr).
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    slot_names = ("accumulator", "linear")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg, value in (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            if value < 0:
                raise ValueError(f"`{arg}` needs to be non-negative. Received: {arg}={value}")
        if learning_rate_power > 0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}"
            )
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def build_slots(self, variable: Tensor) -> dict:
        xp = backend.array_module(variable.data)
        return {
            "accumulator": xp.full_like(variable.data, self.initial_accumulator_value),
            "linear": xp.zeros_like(variable.data),
        }

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        n, z = s["accumulator"], s["linear"]
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        shrunk = g + 2 * self.l2_shrinkage_regularization_strength * w
        new_n = n + g * g
        z += shrunk - (new_n**power - n**power) / lr * w
        quadratic = new_n**power / lr + 2 * l2
        l1 = self.l1_regularization_strength
        w[...] = (xp.clip(z, -l1, l1) - z) / quadratic
        n[...] = new_n

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }


class Lamb(Optimizer):
    """Adam's direction scaled per variable by the trust ratio ||w|| / ||u|| (LAMB):

    m <- m + (1 - b1)(g - m); v <- v + (1 - b2)(g^2 - v);
    u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps);
    w <- w - lr * r * u, r = ||w|| / ||u|| (1 when either norm is 0).
    The norms are over the whole variable, so the rule is not elementwise.

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: added to the square root of the second moment.
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    slot_names = ("momentum", "velocity")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = _check_unit("beta_1", beta_1), _check_unit("beta_2", beta_2)
        self.epsilon = float(epsilon)

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        t = self.iterations + 1
        m, v = s["momentum"], s["velocity"]
        m += (g - m) * (1 - self.beta_1)
        v += (g * g - v) * (1 - self.beta_2)
        u = (m / (1 - self.beta_1**t)) / (xp.sqrt(v / (1 - self.beta_2**t)) + self.epsilon)
        w_norm = float(xp.sqrt((w * w).sum()))
        u_norm = float(xp.sqrt((u * u).sum()))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        w -= (ratio * lr) * u

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adafactor(Optimizer):
    """Adafactor (Keras's form): second moments factored into row and column means for
    variables of rank >= 2, a step relative to the weights' RMS, updates clipped by RMS.

    t the step; lr <- min(lr, 1 / sqrt(t)) (a constant rate with ``relative_step``);
    alpha = max(eps2, rms(w)) * min(lr, 1 / sqrt(t)); G = g^2 + eps1; b = 1 - t^decay;
    rank >= 2: r <- b r + (1 - b) mean(G, -1); c <- b c + (1 - b) mean(G, -2);
    v = (r / mean(r)) outer c; else v <- b v + (1 - b) G;
    u = g / sqrt(v); w <- w - alpha * u / max(1, rms(u) / clip_threshold).

    Args:
        learning_rate: a float, or a schedule of the iteration count.
        beta_2_decay: the decay exponent of the second-moment rate b = 1 - t^decay.
        epsilon_1: added to g^2.
        epsilon_2: the least RMS of the weights in the relative step.
        clip_threshold: updates are clipped to this RMS.
        relative_step: cap the rate at 1 / sqrt(t).
        name: the optimizer's name (Keras's default when None).
        **kwargs: the options of every optimizer: weight_decay, clipnorm, clipvalue,
            global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay, self.epsilon_1 = float(beta_2_decay), float(epsilon_1)
        self.epsilon_2, self.clip_threshold = float(epsilon_2), float(clip_threshold)
        self.relative_step = bool(relative_step)

    def build_slots(self, variable: Tensor) -> dict:
        xp = backend.array_module(variable.data)
        w = variable.data
        if w.ndim >= 2:  # the factored moments: rows (last axis gone), columns
            return {
                "r": xp.zeros(w.shape[:-1], w.dtype),
                "c": xp.zeros(w.shape[:-2] + w.shape[-1:], w.dtype),
            }
        return {"v": xp.zeros_like(w)}

    def update(self, g: Array, w: Array, s: dict, lr: float) -> None:
        xp = backend.array_module(w)
        t = self.iterations + 1
        if self.relative_step and not callable(self._learning_rate):
            lr = min(lr, 1 / math.sqrt(t))
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(self.epsilon_2, float(xp.sqrt(xp.mean(w * w)))) * rho
        g2 = g * g + self.epsilon_1
        b = 1 - t**self.beta_2_decay
        if w.ndim >= 2:
            r, c = s["r"], s["c"]
            r[...] = b * r + (1 - b) * g2.mean(axis=-1)
            c[...] = b * c + (1 - b) * g2.mean(axis=-2)
            v = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = s["v"]
            v[...] = b * v + (1 - b) * g2
        u = g / xp.sqrt(v)
        u_rms = float(xp.sqrt(xp.mean(u * u)))
        w -= alpha * u / max(1.0, u_rms / self.clip_threshold)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }


# Every rule above updates each element on its own: large variables update in parallel slices.
for _rule in (SGD, Adam, Adamax, Nadam, Adagrad, RMSprop, Adadelta, Lion, Ftrl):
    _rule.elementwise = True
