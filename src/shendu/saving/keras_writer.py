"""Writing Keras 3 files: ``.keras`` models and ``.weights.h5`` weights (the
``[keras-files]`` extra: h5py), under the names Keras 3 requires, so that
``model.save("m.keras")``, ``save_weights("w.weights.h5")`` and ``ModelCheckpoint`` with
those names work, and real Keras 3 loads what shendu wrote.

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` in Keras's
serialization (each object as ``{"module", "class_name", "config", "registered_name"}``;
a functional model's calls as ``inbound_nodes`` of ``__keras_tensor__`` references) and
``model.weights.h5`` in Keras's layout (``keras_layout``). shendu's layer configs already
use Keras's class names and arguments, so translating them is wrapping, not renaming.

What Keras's format cannot hold stays in ``.shendu`` (docs/guides/saving.md): the
optimizer's state (Keras numbers the optimizer's variables its own way; a ``.keras``
file from shendu holds the compile settings, so the loaded model is compiled, but its
optimizer starts fresh), preprocessing state and the RNG. A subclassed model is written as
Keras writes one when its class is registered (``register_keras_serializable``: its
``get_config`` and build shape in config.json, its weights by Keras's saving walk);
an unregistered one is refused up front (``save_weights`` works for it). A layer's own
``save_own_variables`` and ``save_assets`` write its state (``keras_layout.hook_layers``).
Both writers write to a temporary file and rename it, so a failure leaves no half file.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from typing import Any

import numpy as np

from .. import backend
from .files import atomic_write
from .keras_layout import defines, hook_layers, is_user_class, model_groups, storage_keys

#: the Keras version whose format this writes (the one the readers were checked against)
KERAS_FORMAT_VERSION = "3.15.0"

#: config keys holding serialized objects, by the Keras module that names their classes
_OBJECT_MODULES = (
    ("_initializer", "keras.initializers"),
    ("_regularizer", "keras.regularizers"),
    ("_constraint", "keras.constraints"),
)
#: Keras's compile arguments (shendu's own, such as ``distribute``, are left out)
_COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics")


def _h5py():
    from .keras_files import _h5py as load

    return load()


def save_keras_weights(model, filepath: str) -> None:
    """Write the model's weights as a Keras 3 ``.weights.h5`` file (atomically)."""
    data = _weights_h5_bytes(model)

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    atomic_write(filepath, write)


def save_keras_model(model, filepath: str) -> None:
    """Write ``model`` (Sequential, functional, or a registered subclass) as a Keras 3
    ``.keras`` file (atomically)."""
    config = keras_model_config(model)
    weights = _weights_h5_bytes(model)
    assets = _assets(model)
    metadata = {
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "written_by": f"shendu {_version()}",
    }

    config_text = json.dumps(config, default=_json_default)  # fails before any file exists

    def write(tmp):
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr("metadata.json", json.dumps(metadata), zipfile.ZIP_DEFLATED)
            zf.writestr("config.json", config_text, zipfile.ZIP_DEFLATED)
            zf.writestr("model.weights.h5", weights, zipfile.ZIP_STORED)
            for name, data in assets:
                zf.writestr(name, data, zipfile.ZIP_DEFLATED)

    atomic_write(filepath, write)


def _assets(model) -> list[tuple[str, bytes]]:
    """``(member name, bytes)`` of the files each layer's ``save_assets`` writes, under
    ``assets/<layer path>/`` as Keras stores them."""
    import os
    import tempfile

    out = []
    for path, layer in hook_layers(model):
        if not defines(layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as folder:
            layer.save_assets(folder)
            for root, _, files in os.walk(folder):
                for file in sorted(files):
                    full = os.path.join(root, file)
                    relative = os.path.relpath(full, folder).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        out.append((f"assets/{path}/{relative}", f.read()))
    return out


class _WeightsStore:
    """What a layer's ``save_own_variables(store)`` writes into: ``store[key] = array``
    makes the dataset ``<path>/vars/<key>`` (Keras's H5 store)."""

    def __init__(self, h5, path):
        self._h5, self._path = h5, f"{path}/vars" if path else "vars"

    def __setitem__(self, key, value):
        group = self._h5.require_group(self._path)
        group.create_dataset(str(key), data=np.asarray(backend.to_numpy(_array_of(value))))

    def __contains__(self, key):
        return self._path in self._h5 and str(key) in self._h5[self._path]


def _array_of(value):
    return value.data if hasattr(value, "data") and not isinstance(value, np.ndarray) else value


def _weights_h5_bytes(model) -> bytes:
    """The model's weights in Keras's HDF5 layout, as bytes."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        h5.create_group("vars")
        if not is_user_class(model):
            layers = h5.create_group("layers")
            keys = storage_keys(model.layers)
            for layer in model.layers:  # every layer has its group, weights or not (as Keras)
                layers.create_group(keys[id(layer)]).create_group("vars")
        for path, variables in model_groups(model):
            group = h5.require_group(f"{path}/vars" if path else "vars")
            for i, v in enumerate(variables):
                group.create_dataset(str(i), data=np.asarray(backend.to_numpy(v.data)))
        for path, layer in hook_layers(model):
            if defines(layer, "save_own_variables"):
                layer.save_own_variables(_WeightsStore(h5, path))
    return buffer.getvalue()


# ----------------------------------------------------------------------------- configs
def keras_model_config(model) -> dict:
    """The model's config in Keras 3's serialization (the ``config.json`` of a .keras)."""
    from ..layers import is_model

    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: call it on data before saving")
    graph = model.functional_graph()
    if is_model(model) and is_user_class(model) and _registered_name(model) is not None:
        entry = _subclassed_config(model)
    elif (
        graph is None
        or not is_model(model)
        or type(model).__name__
        not in (
            "Sequential",
            "Model",
            "Functional",
        )
    ):
        raise ValueError(
            f"Cannot save model {model.name!r} ({type(model).__name__}) as a .keras file: "
            "a subclassed model has no config Keras can rebuild unless its class is "
            "registered (@keras.saving.register_keras_serializable() with a get_config). "
            "Save it as .shendu (model.save('m.shendu')) or save its weights "
            "(model.save_weights('m.weights.h5'))."
        )
    elif type(model).__name__ == "Sequential":
        entry = _sequential_config(model, graph)
    else:
        entry = _functional_config(model, graph)
    build = model.get_build_config() if hasattr(model, "get_build_config") else None
    if build:
        entry["build_config"] = build
    compile_config = _compile_config(model)
    if compile_config is not None:
        entry["compile_config"] = compile_config
    return entry


def _registered_name(obj) -> str | None:
    """``package>Name`` of a registered user class, else None."""
    from .serialization import get_registered_name

    name = get_registered_name(type(obj))
    return name if ">" in name else None


def _subclassed_config(model) -> dict:
    """A registered subclassed model as Keras writes one: its class and its config (the
    shape it was built for is added as for every model)."""
    return {
        "module": None,
        "class_name": type(model).__name__,
        "config": _wrap_config(dict(model.get_config())),
        "registered_name": _registered_name(model),
    }


def _sequential_config(model, graph) -> dict:
    inp = graph.inputs[0]
    layers = [_input_layer_config(inp)]
    layers += [_layer_entry(layer) for layer in model.layers]
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": model.name,
            "trainable": model.trainable,
            "dtype": model.dtype,
            "layers": layers,
            "build_input_shape": list(inp.shape),
        },
        "registered_name": None,
    }


def _operation_entry(model, layer, calls):
    """(module, config arguments) of an operation node as Keras writes it; its call's
    arguments go to ``calls`` (by layer). A Keras file has no place for an argument Keras's
    operation class does not take: such a model is refused with the way out."""
    found = layer.keras_call()
    if found is None:
        raise ValueError(
            f"Model {model.name!r}: the operation {layer.op} ({layer.name}) has no Keras "
            "operation class, or arguments Keras's operation class does not take, so a "
            ".keras file cannot hold it. Save the model as a .shendu file, or compute the "
            "operation in a layer."
        )
    module, init, call = found
    calls[id(layer)] = call
    return module, init


def _functional_config(model, graph) -> dict:
    entries: list = []
    by_layer: dict = {}
    node_index: dict = {}
    calls: dict = {}
    for layer in graph.layers:
        if type(layer).__name__ == "InputLayer":
            entry = _input_layer_config(layer.output)
            node_index[id(layer.output.node)] = 0
        elif type(layer).__name__ == "TensorOperation":  # x + y, ops.sum(x): Keras's entry
            module, init = _operation_entry(model, layer, calls)
            entry = {
                "module": module,
                "class_name": layer.op,
                "config": {"name": layer.name, **init},
                "registered_name": layer.op,
            }
        else:
            entry = _layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = []
        by_layer[id(layer)] = entry
        entries.append(entry)

    def tensor(t):
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(t.shape),
                "dtype": str(t.dtype),
                "keras_history": [t.node.layer.name, node_index[id(t.node)], t.index],
            },
        }

    for node in graph.nodes:
        entry = by_layer[id(node.layer)]
        node_index[id(node)] = len(entry["inbound_nodes"])
        args, kwargs = calls.get(id(node.layer), node.args), node.kwargs
        if id(node.layer) in calls:
            kwargs = {}
        entry["inbound_nodes"].append(
            {
                "args": [_map_tensors(a, tensor) for a in args],
                "kwargs": {k: _map_tensors(v, tensor) for k, v in kwargs.items()},
            }
        )

    def history(structure):
        return _map_tensors(structure, lambda t: tensor(t)["config"]["keras_history"])

    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": model.name,
            "trainable": model.trainable,
            "layers": entries,
            "input_layers": history(graph.input_structure),
            "output_layers": history(graph.output_structure),
        },
        "registered_name": "Functional",
    }


def _map_tensors(structure, fn):
    """``structure`` with KerasTensors through ``fn`` and slices and Ellipsis (an index
    key) as Keras serializes them."""
    from ..keras_tensor import KerasTensor

    if isinstance(structure, KerasTensor):
        return fn(structure)
    if isinstance(structure, slice):
        config = {"start": structure.start, "stop": structure.stop, "step": structure.step}
        return {"class_name": "__slice__", "config": config}
    if structure is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(structure, (list, tuple)):
        return [_map_tensors(v, fn) for v in structure]
    if isinstance(structure, dict):
        return {k: _map_tensors(v, fn) for k, v in structure.items()}
    return structure


def _input_layer_config(tensor) -> dict:
    return {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {
            "batch_shape": list(tensor.shape),
            "dtype": str(tensor.dtype),
            "sparse": False,
            "ragged": False,
            "name": tensor.node.layer.name,
        },
        "registered_name": None,
    }


#: config entries of shendu's layers that Keras's layers do not take, with the value that
#: means "as Keras": written files leave them out; another value cannot be expressed
SHENDU_ONLY: dict[str, dict[str, Any]] = {
    "Conv1DTranspose": {"groups": 1},
    "Conv2DTranspose": {"groups": 1},
    "Conv3DTranspose": {"groups": 1},
    "SimpleRNN": {"recurrent_activation": None, "seed": None},
    "SpatialDropout1D": {"noise_shape": None, "trainable": None},
    "SpatialDropout2D": {"trainable": None},
    "SpatialDropout3D": {"trainable": None},
    "Discretization": {"trainable": None},
    "Normalization": {"impute_nan": False},
}


def _keras_config(layer) -> dict:
    """The layer's config without shendu's own entries (refused when set to something
    Keras's layer cannot do, e.g. Normalization(impute_nan=True))."""
    config = dict(layer.get_config())
    for key, as_keras in SHENDU_ONLY.get(type(layer).__name__, {}).items():
        if key not in config:
            continue
        value = config.pop(key)
        if as_keras is not None and value != as_keras:
            raise ValueError(
                f"Cannot save layer {layer.name!r} ({type(layer).__name__}) as a .keras file: "
                f"{key}={value!r} has no Keras equivalent. Save the model as .shendu."
            )
    return config


def _layer_entry(layer) -> dict:
    """A layer as Keras serializes it: its config (nested objects wrapped too) and the
    shapes it was built for."""
    from ..layers import is_model

    if is_model(layer):
        entry = keras_model_config(layer)
        entry.pop("compile_config", None)
        return entry
    registered = _registered_name(layer) if is_user_class(layer) else None
    entry = {
        "module": None if registered else "keras.layers",
        "class_name": type(layer).__name__,
        "config": _wrap_config(_keras_config(layer)),
        "registered_name": registered,
    }
    build = layer.get_build_config()
    if build:
        entry["build_config"] = build
    return entry


def _wrap_config(config: dict) -> dict:
    out = {}
    for key, value in config.items():
        module = next((m for suffix, m in _OBJECT_MODULES if key.endswith(suffix)), None)
        if key.endswith("activation") and isinstance(value, str):
            value = _activation(value)
        elif key in ("layer", "backward_layer", "cell") and isinstance(value, dict):
            value = _wrap_object(value, "keras.layers", nested=True)
        elif key == "cells" and isinstance(value, list):  # StackedRNNCells
            value = [_wrap_object(v, "keras.layers", nested=True) for v in value]
        elif module is not None and isinstance(value, dict) and "class_name" in value:
            value = _wrap_object(value, module)
        out[key] = value
    return out


def _activation(name: str):
    """A built-in activation stays a name; a registered function is written as Keras
    writes one (its registered name, ``package>name``), so Keras finds it."""
    from .. import activations
    from ..naming import registered_objects
    from .serialization import get_registered_name

    fn = registered_objects().get(name)
    if fn is None or name in activations.__dict__:
        return name
    return {
        "module": "builtins",
        "class_name": "function",
        "config": get_registered_name(fn),
        "registered_name": "function",
    }


def _wrap_object(value: dict, module: str, nested: bool = False) -> dict:
    config = value.get("config", {})
    return {
        "module": module,
        "class_name": value["class_name"],
        "config": _wrap_config(config) if nested else config,
        "registered_name": None,
    }


def _compile_config(model) -> dict | None:
    if not getattr(model, "compiled", False):
        return None
    config = model.get_compile_config()
    if not config:
        return None
    out = {k: config.get(k) for k in _COMPILE_KEYS}
    if isinstance(out["optimizer"], dict):
        optimizer = dict(out["optimizer"])
        inner = (optimizer.get("config") or {}).get("inner_optimizer")
        if isinstance(inner, dict):  # LossScaleOptimizer
            optimizer["config"] = {
                **optimizer["config"],
                "inner_optimizer": _wrap_object(inner, "keras.optimizers"),
            }
        out["optimizer"] = _wrap_object(optimizer, "keras.optimizers")
    out["loss"] = _wrap_named(out["loss"], "keras.losses")
    for key in ("metrics", "weighted_metrics"):
        out[key] = _wrap_named(out[key], "keras.metrics")
    return out


def _wrap_named(value, module):
    """Losses and metrics: names stay names; serialized objects get Keras's wrapping."""
    if isinstance(value, dict) and "class_name" in value:
        return _wrap_object(value, module)
    if isinstance(value, list):
        return [_wrap_named(v, module) for v in value]
    if isinstance(value, dict):
        return {k: _wrap_named(v, module) for k, v in value.items()}
    return value


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (np.ndarray, tuple)):
        return np.asarray(o).tolist() if isinstance(o, np.ndarray) else list(o)
    raise TypeError(f"Cannot write {type(o).__name__} into a Keras model config")


def _version() -> str:
    from .. import __version__

    return __version__
