"""A model's whole state as one nested dict, as Keras's ``Model.get_state_tree``.

The tree has four branches: ``trainable_variables`` and ``non_trainable_variables``
(nested by the layers' names: ``{"sequential": {"dense": {"kernel": ...}}}``),
``optimizer_variables`` (``{optimizer name: {"iteration", "learning_rate", then
"<variable path with _>_<slot>"}}``) and ``metrics_variables`` (``{metric name: {state
name: value}}``). ``set_state_tree`` takes a tree of that form, whole or in part.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

_FORMATS = ("backend_tensor", "numpy_array")


def _entries(model):
    """[(branch, path parts, read(), write(value))] for every piece of state."""
    paths = model.variable_paths()
    entries = []
    for branch, variables in (
        ("trainable_variables", model.trainable_variables),
        ("non_trainable_variables", model.non_trainable_variables),
    ):
        for v in variables:
            entries.append((branch, paths[id(v)].split("/"), _reader(v), _writer(v)))
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        entries.extend(_optimizer_entries(optimizer, paths))
    for metric in getattr(model, "metrics", []):
        if metric is not None:
            entries.extend(_metric_entries(metric))
    return entries


def _reader(variable):
    return lambda: backend.to_numpy(variable.data).copy()


def _writer(variable):
    return lambda value: variable.assign(_array(value))


def _array(value):
    return backend.to_numpy(value.data) if isinstance(value, Tensor) else np.asarray(value)


def _optimizer_entries(optimizer, paths):
    out = [
        (
            "optimizer_variables",
            [optimizer.name, "iteration"],
            lambda: np.array(optimizer.iterations, dtype=np.int64),
            lambda value: setattr(optimizer, "iterations", int(_array(value))),
        ),
        (
            "optimizer_variables",
            [optimizer.name, "learning_rate"],
            lambda: np.array(optimizer.learning_rate, dtype=np.float32),
            lambda value: setattr(optimizer, "learning_rate", float(_array(value))),
        ),
    ]
    variables = optimizer.built_variables
    for key, array in optimizer.state_arrays().items():
        index, _, slot = key.partition("/")
        if not index.isdigit():  # the moving averages ("ema/0"): not Keras's state
            continue
        variable = variables[int(index)]
        slot = slot.rsplit("/", 1)[-1]
        owner = paths.get(id(variable), variable.path or f"variable_{index}").replace("/", "_")
        read, write = _array_access(array)
        out.append(("optimizer_variables", [optimizer.name, f"{owner}_{slot}"], read, write))
    return out


def _array_access(array: Any) -> tuple:
    """(read a copy, write in place) of one state array."""

    def read() -> Any:
        return backend.to_numpy(array).copy()

    def write(value: Any) -> None:
        array[...] = _array(value)

    return read, write


def _metric_entries(metric):
    """The state of a metric through its public API: the variables ``add_variable`` made
    (by their names), else the numbers of ``get_state()`` (Mean: total, count)."""
    variables = metric.variables
    if variables and all(isinstance(v, Tensor) for v in variables):
        return [
            (
                "metrics_variables",
                [metric.name, (v.path or f"variable_{i}").rsplit("/", 1)[-1]],
                _reader(v),
                _writer(v),
            )
            for i, v in enumerate(variables)
        ]
    out = []
    for key in metric.get_state():
        name = key[len("_s_") :] if key.startswith("_s_") else key

        def read(m=metric, k=key):
            return np.array(m.get_state()[k], copy=True)

        def write(value, m=metric, k=key):
            was = m.get_state()[k]
            value = _array(value)
            m.set_state({k: float(value) if isinstance(was, float) else np.array(value)})

        out.append(("metrics_variables", [metric.name, name], read, write))
    return out


def get_state_tree(model: Any, value_format: str = "backend_tensor") -> dict:
    """The model's state as a nested dict (see the module's docstring)."""
    if value_format not in _FORMATS:
        raise ValueError(
            f"`value_format` must be one of {_FORMATS}. Received: value_format={value_format!r}"
        )
    tree: dict = {}
    for branch, parts, read, _ in _entries(model):
        node = tree.setdefault(branch, {})
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        value = read()
        node[parts[-1]] = (
            Tensor.wrap(np.asarray(value)) if value_format == "backend_tensor" else value
        )
    return tree


def set_state_tree(model: Any, state_tree: dict) -> None:
    """Set every piece of state that ``state_tree`` names (a tree of ``get_state_tree``'s
    form, whole or in part); a name the model does not have is refused before anything
    changes."""
    if not isinstance(state_tree, dict):
        raise TypeError(f"`state_tree` must be a dict. Received: {type(state_tree).__name__}")
    writers = {(branch, *parts): write for branch, parts, _, write in _entries(model)}
    given = {}

    def flatten(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                flatten(value, prefix + (key,))
            else:
                given[prefix + (key,)] = value

    flatten(state_tree, ())
    unknown = sorted("/".join(key) for key in given if key not in writers)
    if unknown:
        raise ValueError(f"set_state_tree: the model has no state named {unknown}")
    for key, value in given.items():
        writers[key](value)
