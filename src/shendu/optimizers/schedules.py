"""Learning-rate schedules: ``schedule(step) -> learning rate`` (Keras names and defaults)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

from ..naming import resolve


class LearningRateSchedule:
    """Base class: ``__call__(step)`` returns the learning rate at optimizer step ``step``.

    Subclasses keep each constructor argument as an attribute of the same name (as Keras
    does); ``get_config`` reads them back through the constructor's signature.
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr = initial * decay_rate ** (step / decay_steps) (floored when ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        if decay_steps <= 0:
            raise ValueError(
                f"ExponentialDecay: `decay_steps` must be > 0. Received: {decay_steps}"
            )
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i] (and values[-1] after the last boundary)."""

    def __init__(
        self, boundaries: Sequence[int], values: Sequence[float], name: str = "PiecewiseConstant"
    ):
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "PiecewiseConstantDecay: `values` must have one more element than `boundaries`. "
                f"Received: {len(boundaries)} boundaries, {len(values)} values"
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step: int) -> float:
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]


class PolynomialDecay(LearningRateSchedule):
    """lr = (initial - end) * (1 - step / decay_steps) ** power + end (cycling optional)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = cycle, name

    def __call__(self, step: int) -> float:
        steps: float = self.decay_steps
        at: float = step
        if self.cycle:
            steps = steps * max(1.0, math.ceil(step / steps)) if step > 0 else steps
        else:
            at = min(step, steps)
        frac = 1 - at / steps
        end = self.end_learning_rate
        return (self.initial_learning_rate - end) * frac**self.power + end


class InverseTimeDecay(LearningRateSchedule):
    """lr = initial / (1 + decay_rate * step / decay_steps) (floored when ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)


class CosineDecay(LearningRateSchedule):
    """Linear warmup to ``warmup_target`` over ``warmup_steps``, then
    lr = target * ((1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2 + alpha)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step: int) -> float:
        init, warm = self.initial_learning_rate, self.warmup_steps
        warming = self.warmup_target is not None
        target = self.warmup_target if self.warmup_target is not None else init
        if warming and step < warm:
            return init + (target - init) * step / warm
        t = min(step - (warm if warming else 0), self.decay_steps)
        cos = 0.5 * (1 + math.cos(math.pi * t / self.decay_steps))
        return target * ((1 - self.alpha) * cos + self.alpha)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay restarted after each period; periods grow by t_mul, peaks shrink by m_mul."""

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step: int) -> float:
        frac = step / self.first_decay_steps
        t_mul = self.t_mul
        if t_mul == 1.0:
            i = math.floor(frac)
            frac -= i
        else:
            i = math.floor(math.log(1 - frac * (1 - t_mul)) / math.log(t_mul))
            sum_r = (1 - t_mul**i) / (1 - t_mul)
            frac = (frac - sum_r) / t_mul**i
        cos = 0.5 * self.m_mul**i * (1 + math.cos(math.pi * frac))
        return self.initial_learning_rate * ((1 - self.alpha) * cos + self.alpha)


_TABLE = {
    c.__name__: c
    for c in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def get(identifier: Any) -> Any:
    return resolve(identifier, _TABLE, "learning rate schedule")


def serialize(learning_rate_schedule: Any) -> dict:
    """A schedule as Keras writes it (module, class_name, config, registered_name);
    ``deserialize`` reads it back."""
    schedule = learning_rate_schedule
    cls = type(schedule)
    built_in = _TABLE.get(cls.__name__) is cls
    return {
        "module": "keras.optimizers.schedules" if built_in else cls.__module__,
        "class_name": cls.__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> Any:
    """A schedule from ``serialize``'s output (the closed table plus custom_objects)."""
    return resolve(config, _TABLE, "learning rate schedule", custom_objects)
