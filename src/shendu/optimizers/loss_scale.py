"""Dynamic loss scaling (Keras's ``LossScaleOptimizer``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..annotations import TensorLike
from ..autograd.tensor import Tensor
from .base import Optimizer, _array

_SCALED_CLASSES: dict[type, type] = {}


class LossScaleOptimizer(Optimizer):
    """An optimizer with dynamic loss scaling, as Keras's.

    ``scale_loss(loss)`` multiplies the loss by the dynamic scale s; ``apply`` divides the
    gradients by s, then: when every gradient is finite it updates the variables (the inner
    optimizer's rule) and, after ``dynamic_growth_steps`` such updates in a row, doubles s;
    otherwise it skips the update and halves s. ``fit`` differentiates the loss itself
    (``apply(..., scaled=False)``): shendu computes in float32 or float64, where scaling by
    a power of two is exact, so the scale changes nothing but which steps are skipped.

    The object is the inner optimizer with this behaviour added: an instance of a subclass
    of both this class and the inner optimizer's class, sharing the inner optimizer's state
    (slots, iterations, learning rate), so everything ``fit`` and the files use of an
    optimizer works unchanged.
    """

    def __new__(cls, inner_optimizer: Any = None, *args: Any, **kwargs: Any):
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError(
                "LossScaleOptimizer expects an optimizer instance as `inner_optimizer`. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise ValueError("LossScaleOptimizer: the inner optimizer already scales the loss")
        base = type(inner_optimizer)
        scaled = _SCALED_CLASSES.get(base)
        if scaled is None:
            scaled = _SCALED_CLASSES[base] = type(
                "LossScaleOptimizer", (LossScaleOptimizer, base), {"__doc__": cls.__doc__}
            )
        return Optimizer.__new__(scaled)

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        # Keras's files of earlier versions carry the base options at their defaults
        for key in ("learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            kwargs.pop(key, None)
        for key in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor"):
            kwargs.pop(key, None)
        kwargs.pop("gradient_accumulation_steps", None)
        if kwargs:
            raise TypeError(f"LossScaleOptimizer: unrecognized arguments {sorted(kwargs)}")
        if not initial_scale > 0 or not np.isfinite(initial_scale):
            raise ValueError(
                f"`initial_scale` must be a positive finite number. Received: {initial_scale}"
            )
        if not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError(
                "`dynamic_growth_steps` must be a positive integer. "
                f"Received: dynamic_growth_steps={dynamic_growth_steps}"
            )
        object.__setattr__(self, "__dict__", inner_optimizer.__dict__)  # one state
        self.__dict__["_loss_scale"] = {
            "inner": inner_optimizer,
            "name": name or "loss_scale_optimizer",
            "initial_scale": float(initial_scale),
            "growth_steps": dynamic_growth_steps,
            "scale": float(initial_scale),
            "counter": 0,
        }

    # --- Keras's attributes ---
    @property
    def inner_optimizer(self) -> Optimizer:
        return self.__dict__["_loss_scale"]["inner"]

    @property
    def initial_scale(self) -> float:
        return self.__dict__["_loss_scale"]["initial_scale"]

    @property
    def dynamic_growth_steps(self) -> int:
        return self.__dict__["_loss_scale"]["growth_steps"]

    @property
    def dynamic_scale(self) -> float:
        """The scale s the loss is multiplied by now."""
        return self.__dict__["_loss_scale"]["scale"]

    @property
    def step_counter(self) -> int:
        """Finite updates since the scale last changed."""
        return self.__dict__["_loss_scale"]["counter"]

    @property
    def name(self) -> str:
        return self.__dict__["_loss_scale"]["name"]

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_loss_scale"]["name"] = value

    # --- scaling ---
    def scale_loss(self, loss: Any) -> Any:
        return loss * self.dynamic_scale

    def apply(
        self,
        grads: Sequence[TensorLike | None],
        trainable_variables: Sequence[Tensor] | None = None,
        *,
        scaled: bool = True,
    ) -> None:
        state = self.__dict__["_loss_scale"]
        arrays = [None if g is None else _array(g) for g in grads]
        if scaled:
            arrays = [None if g is None else g / state["scale"] for g in arrays]
        finite = all(
            bool(backend.array_module(g).isfinite(g).all()) for g in arrays if g is not None
        )
        if not finite:  # skip the update, halve the scale
            state["counter"] = 0
            state["scale"] *= 0.5
            return
        super().apply(arrays, trainable_variables, scaled=False)
        if state["counter"] == state["growth_steps"] - 1:
            state["counter"] = 0
            state["scale"] *= 2.0
        else:
            state["counter"] += 1

    # --- state and config ---
    def _extra_named_state(self):
        state = self.__dict__["_loss_scale"]
        return {
            **super()._extra_named_state(),
            "loss_scale/dynamic_scale": np.array(state["scale"], dtype=np.float64),
            "loss_scale/step_counter": np.array(state["counter"], dtype=np.int64),
        }

    def _set_extra_named_state(self, values):
        super()._set_extra_named_state(values)
        state = self.__dict__["_loss_scale"]
        state["scale"] = float(values["loss_scale/dynamic_scale"])
        state["counter"] = int(values["loss_scale/step_counter"])

    def get_config(self) -> dict:
        from . import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        from . import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects)
        return LossScaleOptimizer(inner, **config)
