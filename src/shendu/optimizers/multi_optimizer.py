"""MultiOptimizer: each variable updated by its own optimizer, chosen by an OptimizerMap
(variable path -> optimizer, exact or by regular expression) or by a function."""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .base import Optimizer, _array


def _check_inner(optimizer, where):
    from .loss_scale import LossScaleOptimizer

    if not isinstance(optimizer, Optimizer):
        raise ValueError(
            f"{where}: expected a shendu Optimizer. Received: {type(optimizer).__name__}"
        )
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError(f"{where}: a LossScaleOptimizer cannot be used inside a MultiOptimizer")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError(f"{where}: a MultiOptimizer cannot be used inside a MultiOptimizer")


class OptimizerMap(MutableMapping):
    """Variable path -> optimizer. A key matches a path exactly or, failing that, as a
    regular expression over the whole path (``"encoder/.*"``); no match gives
    ``default_optimizer``; two matching patterns are an error."""

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "default_optimizer must be a shendu Optimizer instance. "
                f"Received: {default_optimizer!r}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}: {matches}")
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key!r}")
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]!r}; keys must not repeat"
            )
        _check_inner(optimizer, f"OptimizerMap[{key!r}]")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable: Tensor) -> Optimizer:
        return self[getattr(variable, "path", None) or ""]

    def get_config(self) -> dict:
        from . import serialize

        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {k: serialize(o) for k, o in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        from . import deserialize

        default = deserialize(config["default_optimizer"], custom_objects)
        mapping = {
            k: deserialize(c, custom_objects)
            for k, c in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Delegate each variable to the optimizer ``optimizer_map`` gives it (an OptimizerMap,
    or a function ``variable -> optimizer``). Each inner optimizer keeps its own learning
    rate, slots and counters; the MultiOptimizer counts its own steps (``iterations``) and
    has no learning rate (reading or setting it is an AttributeError, as Keras).
    ``loss_scale_factor`` is handed to every inner optimizer."""

    def __init__(
        self,
        optimizer_map: OptimizerMap | Callable[[Tensor], Optimizer],
        loss_scale_factor: float | None = None,
        name: str | None = None,
    ):
        if not callable(optimizer_map):
            raise TypeError(
                "optimizer_map must be an OptimizerMap or a function variable -> optimizer. "
                f"Received: {type(optimizer_map).__name__}"
            )
        self._inner: list[Optimizer] = []
        super().__init__(
            learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name or "multi_optimizer"
        )
        self._optimizer_map = optimizer_map
        self._owner: dict[int, int] = {}  # id(variable) -> index of its optimizer
        if isinstance(optimizer_map, OptimizerMap):
            for optimizer in [*optimizer_map.values(), optimizer_map.default_optimizer]:
                self._adopt(optimizer)

    def _adopt(self, optimizer: Optimizer) -> int:
        if not any(o is optimizer for o in self._inner):
            _check_inner(optimizer, "MultiOptimizer")
            optimizer.loss_scale_factor = self.loss_scale_factor
            self._inner.append(optimizer)
        return next(i for i, o in enumerate(self._inner) if o is optimizer)

    @property
    def optimizers(self) -> list[Optimizer]:
        return list(self._inner)

    @property
    def learning_rate(self) -> float:
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. "
            "Access the learning rate on the individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. "
            "Set the learning rate on the individual sub-optimizers instead."
        )

    def fuse_variables(self, variables: Sequence[Tensor]) -> bool:
        return False  # the inner optimizers keep their own (per-variable) storage

    def _groups(self, variables: Sequence[Tensor]) -> dict[int, list]:
        """Inner optimizer index -> its variables (in order), assigning new variables."""
        groups: dict[int, list] = {}
        for v in variables:
            if id(v) not in self._owner:
                self._owner[id(v)] = self._adopt(self._optimizer_map(v))
                self._variables.append(v)
            groups.setdefault(self._owner[id(v)], []).append(v)
        return groups

    def state_nbytes(self, variables: Sequence[Tensor]) -> int | None:
        total = 0
        for index, group in self._groups(variables).items():
            size = self._inner[index].state_nbytes(group)
            if size is None:
                return None
            total += size
        return total

    def build(self, variables: Sequence[Tensor]) -> None:
        for index, group in self._groups(variables).items():
            self._inner[index].build(group)
        self.built = True

    def apply(
        self,
        grads: Sequence[Any],
        trainable_variables: Sequence[Tensor] | None = None,
        *,
        scaled: bool = True,
    ) -> None:
        """Split (gradient, variable) pairs by optimizer and apply each group; gradients of
        a scaled loss are divided by ``loss_scale_factor`` once, here."""
        variables = list(self._variables if trainable_variables is None else trainable_variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(
                f"MultiOptimizer.apply: got {len(grads)} gradients for {len(variables)} variables"
            )
        if scaled and self.loss_scale_factor is not None:
            grads = [None if g is None else _array(g) / self.loss_scale_factor for g in grads]
        self.build(variables)
        groups: dict[int, tuple[list, list]] = {}
        for g, v in zip(grads, variables):
            pair = groups.setdefault(self._owner[id(v)], ([], []))
            pair[0].append(g)
            pair[1].append(v)
        for index, (group_grads, group_vars) in groups.items():
            self._inner[index].apply(group_grads, group_vars, scaled=False)
        self.iterations += 1

    # --- state: the own counter, then each inner optimizer's under "optimizer_<k>/" ---
    def _prefixed(self, method):
        out = {}
        for k, optimizer in enumerate(self._inner):
            for name, value in getattr(optimizer, method)().items():
                out[f"optimizer_{k}/{name}"] = value
        return out

    def _split(self, state: dict) -> list[dict]:
        parts: list[dict] = [{} for _ in self._inner]
        for name, value in state.items():
            head, _, rest = name.partition("/")
            if head.startswith("optimizer_") and rest:
                parts[int(head[len("optimizer_") :])][rest] = value
        return parts

    def get_state(self) -> dict:
        return {"iterations": np.array(self.iterations, np.int64), **self._prefixed("get_state")}

    def set_state(self, state: dict) -> None:
        expected = self.get_state()
        missing = set(expected) - set(state)
        if missing:
            raise ValueError(f"MultiOptimizer.set_state: missing entries {sorted(missing)}")
        for optimizer, part in zip(self._inner, self._split(state)):
            optimizer.set_state(part)
        self.iterations = int(np.asarray(state["iterations"]))

    def state_arrays(self) -> dict:
        return self._prefixed("state_arrays")

    def counter_names(self) -> list:
        names = ["iterations"]
        for k, optimizer in enumerate(self._inner):
            names += [f"optimizer_{k}/{n}" for n in optimizer.counter_names()]
        return names

    def set_counters(self, state: dict) -> None:
        for optimizer, part in zip(self._inner, self._split(state)):
            if part:
                optimizer.set_counters(part)
        self.iterations = int(np.asarray(state["iterations"]).reshape(()))

    @property
    def variables(self) -> list:
        out = [np.array(self.iterations, dtype=np.int64)]
        for optimizer in self._inner:
            out.extend(optimizer.variables)
        return out

    def swap_ema_weights(self) -> None:
        for optimizer in self._inner:
            if optimizer.use_ema:
                optimizer.swap_ema_weights()

    def finalize_variable_values(self, variables: Sequence[Tensor] | None = None) -> None:
        for optimizer in self._inner:
            optimizer.finalize_variable_values(
                None
                if variables is None
                else [v for v in variables if any(v is w for w in optimizer.built_variables)]
            )

    def get_config(self) -> dict:
        if isinstance(self._optimizer_map, OptimizerMap):
            mapping: Any = {
                "class_name": "OptimizerMap",
                "config": self._optimizer_map.get_config(),
            }
        else:
            name = getattr(self._optimizer_map, "__name__", type(self._optimizer_map).__name__)
            mapping = {"function": name}
        return {
            "optimizer_map": mapping,
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MultiOptimizer:
        config = dict(config)
        mapping = config.get("optimizer_map")
        if isinstance(mapping, dict) and mapping.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(mapping["config"], custom_objects)
        elif isinstance(mapping, dict) and "function" in mapping:
            name = mapping["function"]
            if not custom_objects or name not in custom_objects:
                raise ValueError(
                    f"MultiOptimizer: the variable -> optimizer function {name!r} is code, not "
                    f"data; pass it as custom_objects={{{name!r}: {name}}} to load"
                )
            config["optimizer_map"] = custom_objects[name]
        return cls(**config)
