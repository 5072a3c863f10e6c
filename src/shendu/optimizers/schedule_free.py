"""Schedule-free AdamW: no learning-rate schedule, the weights an interpolation of a
base sequence and its running average (Keras 3's form)."""

from __future__ import annotations

from typing import Any

from .. import backend
from ..annotations import Array
from ..autograd.tensor import Tensor
from .base import LearningRate, Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Defazio et al. 2024, Keras 3's form): no learning-rate
    schedule; the weights are an interpolation of a base sequence z (slot "momentum",
    started at w) and its running average x.

    lr_t = lr * min(t / warmup_steps, 1); v <- v + (1 - b2)(g^2 - v);
    z <- z - lr_t g / (sqrt(v / (1 - b2^t)) + eps);
    x_old = (w - (1 - b1) z_old) / b1; x = (1 - 1/t) x_old + z / t;
    w <- (1 - b1) z + b1 x.
    """

    elementwise = True
    slot_names = ("momentum", "velocity")

    def __init__(
        self,
        learning_rate: LearningRate = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 < beta_1 <= 1:
            raise ValueError(f"`beta_1` must be in (0, 1]. Received: beta_1={beta_1}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.warmup_steps = float(epsilon), int(warmup_steps)

    def build_slots(self, variable: Tensor) -> dict:
        xp = backend.array_module(variable.data)
        return {"momentum": variable.data.copy(), "velocity": xp.zeros_like(variable.data)}

    def update(self, g: Array, w: Array, slots: dict, lr: float) -> None:
        xp = backend.array_module(w)
        t = self.iterations + 1
        if self.warmup_steps > 0:
            lr = lr * min(t / self.warmup_steps, 1.0)
        z, v = slots["momentum"], slots["velocity"]
        z_old = z.copy()
        v += (g * g - v) * (1 - self.beta_2)
        z -= lr * g / (xp.sqrt(v / (1 - self.beta_2**t)) + self.epsilon)
        weight = 1.0 / t
        x = (1 - weight) * ((w - (1 - self.beta_1) * z_old) / self.beta_1) + weight * z
        w[...] = (1 - self.beta_1) * z + self.beta_1 * x

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
