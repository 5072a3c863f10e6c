"""Muon (momentum orthogonalized by Newton-Schulz) with AdamW for the variables it does
not suit, as Keras 3."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..annotations import Array
from ..autograd.tensor import Tensor
from .base import LearningRate, Optimizer


def newton_schulz(x: Array, steps: int, a: float, b: float, c: float) -> Array:
    """The quintic Newton-Schulz iteration towards the orthogonal factor U V^T of x:
    X <- x / (||x||_F + 1e-7) (on the wide orientation), then ``steps`` times
    A = X X^T; X <- a X + (b A + c A A) X."""
    xp = backend.array_module(x)
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = xp.swapaxes(x, -1, -2)
    norm = xp.sqrt((x * x).sum(axis=(-2, -1), keepdims=True))
    x = x / (norm + 1e-7)
    for _ in range(steps):
        gram = x @ xp.swapaxes(x, -1, -2)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return xp.swapaxes(x, -1, -2) if tall else x


class Muon(Optimizer):
    """Muon for matrices, AdamW for the rest (Keras 3's rule).

    A 2-D variable not excluded (an embedding when ``exclude_embeddings``, a path matching
    one of ``exclude_layers``' patterns) takes Muon:
    m <- momentum * m + g; G = g + momentum * m (Nesterov) or m;
    w <- w - lr * sqrt(max(rows, cols)) * rms_rate * NS(G), NS the Newton-Schulz
    orthogonalization (``ns_steps`` steps, coefficients muon_a, muon_b, muon_c), and weight
    decay ``weight_decay``. Every other variable takes AdamW at ``lr * adam_lr_ratio``:
    m <- m + (1 - b1)(g - m); v <- v + (1 - b2)(g^2 - v);
    w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), decay ``adam_weight_decay``.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers: list | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.775,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name or "muon",
            **kwargs,
        )
        self.adam_beta_1, self.adam_beta_2 = float(adam_beta_1), float(adam_beta_2)
        self.epsilon = float(epsilon)
        self.adam_weight_decay = adam_weight_decay
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = bool(exclude_embeddings)
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum = adam_lr_ratio, momentum
        self.ns_steps, self.nesterov, self.rms_rate = int(ns_steps), bool(nesterov), rms_rate

    def uses_adamw(self, variable: Tensor) -> bool:
        """Whether ``variable`` takes the AdamW rule (not 2-D, an embedding, or excluded)."""
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", None) or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def build_slots(self, variable: Tensor) -> dict:
        xp = backend.array_module(variable.data)
        slots = {"momentum": xp.zeros_like(variable.data)}
        if self.uses_adamw(variable):
            slots["velocity"] = xp.zeros_like(variable.data)
        return slots

    def state_nbytes(self, variables: Sequence[Tensor]) -> int:
        ema = 1 if self.use_ema else 0
        return sum((2 + ema if self.uses_adamw(v) else 1 + ema) * v.data.nbytes for v in variables)

    def _weight_decay_for(self, v) -> float | None:
        if not self._decays(v):
            return None
        return self.adam_weight_decay if self.uses_adamw(v) else self.weight_decay

    def update(self, g: Array, w: Array, slots: dict, lr: float) -> None:
        m = slots["momentum"]
        if "velocity" in slots:
            self._adamw(g, w, m, slots["velocity"], lr * self.adam_lr_ratio)
            return
        m += g + m * (self.momentum - 1)
        direction = g + self.momentum * m if self.nesterov else m
        step = newton_schulz(direction, self.ns_steps, self.muon_a, self.muon_b, self.muon_c)
        step = lr * step
        if self.rms_rate is not None:
            step = step * (np.sqrt(max(w.shape[0], w.shape[1])) * self.rms_rate)
        w -= step.astype(w.dtype, copy=False)

    def _adamw(self, g, w, m, v, lr):
        xp = backend.array_module(w)
        t = self.iterations + 1
        alpha = lr * np.sqrt(1 - self.adam_beta_2**t) / (1 - self.adam_beta_1**t)
        m += (g - m) * (1 - self.adam_beta_1)
        v += (g * g - v) * (1 - self.adam_beta_2)
        w -= (m * alpha) / (xp.sqrt(v) + self.epsilon)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
