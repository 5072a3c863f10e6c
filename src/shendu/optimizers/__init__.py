"""Optimizers (Keras 3 names and defaults) and learning-rate schedules."""

from typing import Any

from ..naming import resolve, unknown_name_error
from . import schedules
from .algorithms import (
    SGD,
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lamb,
    Lion,
    Nadam,
    RMSprop,
)
from .base import Optimizer
from .loss_scale import LossScaleOptimizer
from .multi_optimizer import MultiOptimizer, OptimizerMap
from .muon import Muon
from .schedule_free import ScheduleFreeAdamW

_CLASSES = [
    SGD,
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lamb,
    Lion,
    Muon,
    Nadam,
    RMSprop,
    ScheduleFreeAdamW,
]
_TABLE = {c.__name__: c for c in _CLASSES}
_TABLE.update({c.__name__.lower(): c for c in _CLASSES})
_TABLE["LossScaleOptimizer"] = LossScaleOptimizer
_TABLE["MultiOptimizer"] = MultiOptimizer


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name ('adam', 'SGD'), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier not in _TABLE:
        raise unknown_name_error("optimizer", identifier, _TABLE)
    opt = resolve(identifier, _TABLE, "optimizer")
    if not isinstance(opt, Optimizer):
        raise TypeError(f"Could not interpret optimizer identifier: {identifier!r}")
    return opt


def serialize(optimizer: Optimizer) -> dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """An optimizer from ``serialize``'s output (the closed table plus custom_objects)."""
    if isinstance(config, dict) and custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config") or {})
    if isinstance(config, dict) and config.get("class_name") == "MultiOptimizer":
        return MultiOptimizer.from_config(config.get("config") or {}, custom_objects)
    return get(config)


__all__ = [c.__name__ for c in _CLASSES] + [
    "LossScaleOptimizer",
    "MultiOptimizer",
    "Optimizer",
    "OptimizerMap",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
