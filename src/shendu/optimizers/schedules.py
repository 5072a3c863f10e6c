"""Learning-rate schedules: ``schedule(step) -> learning rate`` (Keras names and defaults)."""

from __future__ import annotations

import math

from ..naming import resolve


class LearningRateSchedule:
    """Base class: ``__call__(step)`` returns the learning rate at optimizer step ``step``."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr = initial * decay_rate ** (step / decay_steps) (floored when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        if decay_steps <= 0:
            raise ValueError(
                f"ExponentialDecay: `decay_steps` must be > 0. Received: {decay_steps}"
            )
        self._config = dict(
            initial_learning_rate=initial_learning_rate,
            decay_steps=decay_steps,
            decay_rate=decay_rate,
            staircase=staircase,
            name=name,
        )
        self.initial, self.steps, self.rate, self.staircase = (
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase,
        )

    def __call__(self, step):
        p = step / self.steps
        if self.staircase:
            p = math.floor(p)
        return self.initial * self.rate**p


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i] (and values[-1] after the last boundary)."""

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "PiecewiseConstantDecay: `values` must have one more element than `boundaries`. "
                f"Received: {len(boundaries)} boundaries, {len(values)} values"
            )
        self._config = dict(boundaries=list(boundaries), values=list(values), name=name)
        self.boundaries, self.values = list(boundaries), list(values)

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]


class PolynomialDecay(LearningRateSchedule):
    """lr = (initial - end) * (1 - step / decay_steps) ** power + end (cycling optional)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name=None,
    ):
        self._config = dict(
            initial_learning_rate=initial_learning_rate,
            decay_steps=decay_steps,
            end_learning_rate=end_learning_rate,
            power=power,
            cycle=cycle,
            name=name,
        )
        self.c = self._config

    def __call__(self, step):
        c = self.c
        steps = c["decay_steps"]
        if c["cycle"]:
            steps = steps * max(1.0, math.ceil(step / steps)) if step > 0 else steps
        else:
            step = min(step, steps)
        frac = 1 - step / steps
        return (c["initial_learning_rate"] - c["end_learning_rate"]) * frac ** c["power"] + c[
            "end_learning_rate"
        ]


class InverseTimeDecay(LearningRateSchedule):
    """lr = initial / (1 + decay_rate * step / decay_steps) (floored when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self._config = dict(
            initial_learning_rate=initial_learning_rate,
            decay_steps=decay_steps,
            decay_rate=decay_rate,
            staircase=staircase,
            name=name,
        )
        self.c = self._config

    def __call__(self, step):
        p = step / self.c["decay_steps"]
        if self.c["staircase"]:
            p = math.floor(p)
        return self.c["initial_learning_rate"] / (1 + self.c["decay_rate"] * p)


class CosineDecay(LearningRateSchedule):
    """Linear warmup to ``warmup_target`` over ``warmup_steps``, then
    lr = target * ((1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2 + alpha)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name=None,
        warmup_target=None,
        warmup_steps=0,
    ):
        self._config = dict(
            initial_learning_rate=initial_learning_rate,
            decay_steps=decay_steps,
            alpha=alpha,
            name=name,
            warmup_target=warmup_target,
            warmup_steps=warmup_steps,
        )
        self.c = self._config

    def __call__(self, step):
        c = self.c
        init, warm = c["initial_learning_rate"], c["warmup_steps"]
        target = init if c["warmup_target"] is None else c["warmup_target"]
        if c["warmup_target"] is not None and step < warm:
            return init + (target - init) * step / warm
        t = min(step - (warm if c["warmup_target"] is not None else 0), c["decay_steps"])
        cos = 0.5 * (1 + math.cos(math.pi * t / c["decay_steps"]))
        return target * ((1 - c["alpha"]) * cos + c["alpha"])


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay restarted after each period; periods grow by t_mul, peaks shrink by m_mul."""

    def __init__(
        self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name=None
    ):
        self._config = dict(
            initial_learning_rate=initial_learning_rate,
            first_decay_steps=first_decay_steps,
            t_mul=t_mul,
            m_mul=m_mul,
            alpha=alpha,
            name=name,
        )
        self.c = self._config

    def __call__(self, step):
        c = self.c
        frac = step / c["first_decay_steps"]
        if c["t_mul"] == 1.0:
            i = math.floor(frac)
            frac -= i
        else:
            i = math.floor(math.log(1 - frac * (1 - c["t_mul"])) / math.log(c["t_mul"]))
            sum_r = (1 - c["t_mul"] ** i) / (1 - c["t_mul"])
            frac = (frac - sum_r) / c["t_mul"] ** i
        m = c["m_mul"] ** i
        cos = 0.5 * m * (1 + math.cos(math.pi * frac))
        return c["initial_learning_rate"] * ((1 - c["alpha"]) * cos + c["alpha"])


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


def get(identifier):
    return resolve(identifier, _TABLE, "learning rate schedule")
