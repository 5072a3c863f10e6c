"""Reading Keras 3 files: ``.weights.h5`` weights and ``.keras`` models (the
``[keras-files]`` extra: h5py), so a Keras user can run a trained model with NumPy only.

A ``.keras`` file is a zip of ``config.json`` (Keras's config format), ``metadata.json``
and ``model.weights.h5``. Its config is translated to shendu's (the same layer class
names and arguments; Keras-only entries such as dtype policies, "module" and
"registered_name" are dropped) and resolved through the same closed registry as a
``.shendu`` file; nothing in it is imported or executed. Weights are matched to layers
by Keras's storage key (``layers/<snake_case class>[_<n>]/vars/<i>``, numbered per class
in layer order; sub-layers below it), falling back to the layer's name, in Keras's
variable order, with shapes checked before anything is assigned.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zipfile

import numpy as np

from .checks import BOMB_RATIO, BOMB_SIZE, MAX_CONFIG, ModelFileError, check_config_values

_KERAS_ONLY = {
    "module",
    "registered_name",
    "shared_object_id",
    "build_config",
    "compile_config",
    "quantization_config",
}


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading Keras files needs h5py, which is not installed. Install the extra: "
            "pip install 'shendu[keras-files]'"
        ) from None
    return h5py


def _layer_arrays(h5, name):
    """The variables stored for layer ``name``: its own vars, then its sub-layers', in order."""
    if "layers" not in h5 or name not in h5["layers"]:
        return None
    out = []

    def collect(group):
        if "vars" in group:
            keys = sorted(group["vars"].keys(), key=int)
            out.extend(np.asarray(group["vars"][k]) for k in keys)
        for key in group.keys():
            if key != "vars" and hasattr(group[key], "keys"):
                collect(group[key])

    collect(h5["layers"][name])
    return out


def _keras_keys(model):
    """Keras's storage names: the snake-case class name, numbered per class in layer order
    (``dense``, ``dense_1``...), over the model's layers including InputLayers."""
    from ..naming import snake_case

    counts, keys = {}, {}
    layers = model.layers  # functional models list their InputLayers first, as Keras does
    for layer in layers:
        base = snake_case(type(layer).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        keys[id(layer)] = base if n == 0 else f"{base}_{n}"
    return keys


def _assign_from_h5(model, h5, path):
    pending = []
    layers = model.layers
    keras_keys = _keras_keys(model)
    for layer in layers:
        weights = layer.weights
        if not weights:
            continue
        arrays = _layer_arrays(h5, keras_keys[id(layer)])
        if arrays is None:
            arrays = _layer_arrays(h5, layer.name)
        if arrays is None:
            raise ModelFileError(f"{path}: no weights for layer {layer.name!r} in the file")
        if len(arrays) != len(weights):
            raise ModelFileError(
                f"{path}: layer {layer.name!r} expects {len(weights)} weights; the file has "
                f"{len(arrays)}"
            )
        for v, a in zip(weights, arrays):
            if a.shape != v.shape:
                raise ModelFileError(
                    f"{path}: layer weight {v.path!r} expected shape {v.shape}. "
                    f"Received: shape {a.shape}"
                )
            pending.append((v, a))
    for v, a in pending:
        v.assign(a.astype(v.dtype))


def load_keras_weights(model, filepath):
    """Load a Keras 3 ``.weights.h5`` file into a built shendu model with the same layers."""
    h5py = _h5py()
    path = os.fspath(filepath)
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise ModelFileError(f"{path}: not an HDF5 weights file ({err})") from None
    with h5:
        _assign_from_h5(model, h5, path)


def _translate(node):
    """Keras config values -> shendu's (policies to names, Keras-only keys dropped)."""
    if isinstance(node, list):
        return [_translate(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy":
        return node["config"]["name"]
    if node.get("class_name") == "__keras_tensor__":
        return {"__keras_tensor__": node["config"]["keras_history"]}
    return {k: _translate(v) for k, v in node.items() if k not in _KERAS_ONLY}


def _accepted(cls):
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters)
    return names | {"input_shape", "input_dim", "batch_input_shape", "batch_size"}


def _layer_entry(entry):
    from ..layers import _layer_table

    table = _layer_table()
    name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    cls = table.get(name)
    if cls is None:
        from ..naming import unknown_name_error

        raise unknown_name_error("layer class", name, table)
    if name not in ("Sequential", "Functional", "Model"):
        accepted = _accepted(cls)
        config = {k: v for k, v in config.items() if k in accepted}
        for key in (
            "kernel_initializer",
            "bias_initializer",
            "recurrent_initializer",
            "embeddings_initializer",
            "gamma_initializer",
            "beta_initializer",
            "moving_mean_initializer",
            "moving_variance_initializer",
            "depthwise_initializer",
            "pointwise_initializer",
        ):
            init = config.get(key)
            if isinstance(init, dict):
                from .. import initializers

                icls = initializers._TABLE.get(init.get("class_name"))
                if icls is not None:
                    ok = set(inspect.signature(icls.__init__).parameters)
                    init["config"] = {k: v for k, v in init.get("config", {}).items() if k in ok}
        if name == "Bidirectional" or name == "TimeDistributed":
            config["layer"] = _layer_entry(config["layer"])
    return {"class_name": name, "config": config}


def _functional_config(cfg):
    """Keras's functional config -> shendu's (inbound nodes as tensor references)."""
    layers = []
    for entry in cfg["layers"]:
        out = _layer_entry(entry)
        out["name"] = entry.get("name", out["config"].get("name"))
        nodes = []
        for node in entry.get("inbound_nodes", []):
            args = node.get("args", [])
            first = args[0] if args else None
            if isinstance(first, list):
                spec = {"list": [t["__keras_tensor__"] for t in first]}
            elif isinstance(first, dict) and "__keras_tensor__" in first:
                spec = {"tensor": first["__keras_tensor__"]}
            else:
                raise ModelFileError("a .keras functional node with unsupported arguments")
            extra = [a for a in args[1:] if isinstance(a, dict) and "__keras_tensor__" in a]
            if extra:
                raise ModelFileError("a .keras layer called on several tensor arguments")
            nodes.append({"args": spec, "kwargs": node.get("kwargs", {})})
        out["inbound_nodes"] = nodes
        layers.append(out)

    def refs(x):
        if x and isinstance(x[0], str):
            return [x]
        return [list(r) for r in x]

    return {
        "name": cfg.get("name"),
        "trainable": cfg.get("trainable", True),
        "layers": layers,
        "input_layers": refs(cfg["input_layers"]),
        "output_layers": refs(cfg["output_layers"]),
        "output_is_list": bool(cfg["output_layers"])
        and not isinstance(cfg["output_layers"][0], str)
        and len(cfg["output_layers"]) > 1,
    }


def load_keras_model(filepath):
    """Rebuild a Keras 3 ``.keras`` model (Sequential or functional) with its weights."""
    h5py = _h5py()
    path = os.fspath(filepath)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path}: not a .keras file (not a zip archive)") from None
    with zf:
        names = zf.namelist()
        for needed in ("config.json", "model.weights.h5"):
            if needed not in names:
                raise ModelFileError(f"{path}: missing member {needed!r}")
        for info in zf.infolist():
            if info.file_size > BOMB_SIZE and info.file_size > BOMB_RATIO * max(
                info.compress_size, 1
            ):
                raise ModelFileError(f"{path}: member {info.filename!r} is a decompression bomb")
        if zf.getinfo("config.json").file_size > MAX_CONFIG:
            raise ModelFileError(f"{path}: config.json is too large")
        try:
            raw = json.loads(zf.read("config.json"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ModelFileError(f"{path}: config.json is not valid JSON") from None
        weights = zf.read("model.weights.h5")
    config = _translate(raw)
    check_config_values(config, path)
    kind = config.get("class_name")
    from ..models import Model, Sequential

    try:
        if kind == "Sequential":
            seq = {
                "name": config["config"].get("name"),
                "layers": [
                    e if e["class_name"] == "InputLayer" else _layer_entry(e)
                    for e in config["config"]["layers"]
                ],
            }
            for e in seq["layers"]:
                if e["class_name"] == "InputLayer":
                    e["config"] = {
                        k: v
                        for k, v in e["config"].items()
                        if k in ("batch_shape", "dtype", "name")
                    }
            model = Sequential.from_config(seq)
        elif kind in ("Functional", "Model"):
            fc = _functional_config(config["config"])
            for e in fc["layers"]:
                if e["class_name"] == "InputLayer":
                    e["config"] = {
                        k: v
                        for k, v in e["config"].items()
                        if k in ("batch_shape", "dtype", "name")
                    }
            model = Model.from_config(fc)
        else:
            raise ModelFileError(
                f"{path}: only Sequential and functional Keras models can be read; "
                f"received {kind!r}"
            )
    except (ValueError, TypeError, KeyError) as err:
        if isinstance(err, ModelFileError):
            raise
        raise ModelFileError(f"{path}: cannot rebuild the Keras model ({err})") from None
    with h5py.File(io.BytesIO(weights), "r") as h5:
        _assign_from_h5(model, h5, path)
    return model
