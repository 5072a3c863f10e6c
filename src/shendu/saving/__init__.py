"""Saving and loading: one ``.shendu`` file per model, safe to load from strangers.

A ``.shendu`` file is a zip holding ``config.json`` (the architecture through
``get_config``, the compile arguments, the CSV preprocessing of ``shendu train``,
versions) and ``model.safetensors`` (the weights, and the optimizer state unless
``include_optimizer=False``). Loading never unpickles and never runs code from the
file: class names resolve only through shendu's closed tables, ``custom_objects``
and ``register_serializable``; every refusal raises ``ModelFileError``.

Tensors are written and read with the ``safetensors`` package (the ``[save]``
extra: ``pip install 'shendu[save]'``).
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .. import backend
from ..naming import custom_object_scope, get_registered_object, register_serializable
from .checks import (
    ModelFileError,
    check_config_values,
    load_tensors,
    open_archive,
    parse_config,
    read_member,
)
from .files import atomic_write

FORMAT_VERSION = 1


def safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError(
            "Saving and loading need the safetensors package, which is not installed. "
            "Install the extra: pip install 'shendu[save]'"
        ) from None
    return st


def _weight_key(i, var):
    return f"w{i:04d}:{var.path}"


def _model_tensors(model, include_optimizer):
    tensors = {}
    for i, v in enumerate(model.weights):
        tensors[_weight_key(i, v)] = np.ascontiguousarray(backend.to_numpy(v.data))
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        for k, arr in model.optimizer.get_state().items():
            tensors[f"optimizer/{k}"] = np.ascontiguousarray(np.asarray(arr))
    return tensors


def _check_path(filepath, suffix, overwrite):
    path = os.fspath(filepath)
    if not path.endswith(suffix):
        raise ValueError(f"The filename must end in {suffix!r}. Received: filepath={path!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")
    return path


def save_model(model, filepath, overwrite=True, include_optimizer=True, training_state=None):
    """Write ``model`` to a ``.shendu`` file, atomically (temporary file, fsync, rename).

    ``training_state`` (JSON-able: epoch, history, RNG states, callback states) is stored
    for exact resume (``callbacks.BackupAndRestore``).
    """
    st = safetensors_numpy()
    path = _check_path(filepath, ".shendu", overwrite)
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: call it on data before saving")
    config = {
        "format": "shendu",
        "format_version": FORMAT_VERSION,
        "shendu_version": _version(),
        "numpy_version": np.__version__,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "build_config": model.get_build_config() if model._graph is None else None,
        "compile_config": model.get_compile_config()
        if getattr(model, "compiled", False)
        else None,
        "preprocessing": getattr(model, "preprocessing", None),
        "weights": [v.path for v in model.weights],
        "training_state": training_state,
    }
    config_bytes = json.dumps(config, indent=1, default=_json_default).encode("utf-8")
    check_config_values(config["model"], path, safe_mode=False)
    weights = st.save(_model_tensors(model, include_optimizer), metadata={"format": "shendu"})

    def write(tmp):
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr("config.json", config_bytes, compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr("model.safetensors", weights, compress_type=zipfile.ZIP_STORED)

    atomic_write(path, write)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"Cannot write {type(o).__name__} into a model config")


def _version():
    from .. import __version__

    return __version__


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002
    """Rebuild a model from a ``.shendu`` file (and, when compiled, its optimizer state),
    or from a Keras 3 ``.keras`` file (weights and architecture; needs h5py).

    Raises ``ModelFileError`` for a file that is malformed, oversized, names
    something outside the registry, or whose weights do not fit the model.
    """
    path = os.fspath(filepath)
    if path.endswith(".keras"):
        from .keras_files import load_keras_model

        return load_keras_model(path)
    safetensors_numpy()
    with open_archive(path) as zf:
        config = parse_config(read_member(zf, "config.json", path), path)
        tensors = load_tensors(read_member(zf, "model.safetensors", path), path)
    for key in ("model", "weights"):
        if key not in config:
            raise ModelFileError(f"{path}: config.json has no {key!r} entry")
    check_config_values(config["model"], path, safe_mode=safe_mode)
    if config.get("compile_config") is not None:
        check_config_values(config["compile_config"], path, "compile_config")
    from ..layers import deserialize

    try:
        with custom_object_scope(custom_objects or {}, safe_mode=safe_mode):
            model = deserialize(config["model"], custom_objects)
            build = config.get("build_config")
            if build and not model.built:
                model.build_from_config(build)
    except ModelFileError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        raise ModelFileError(f"{path}: cannot rebuild the model from its config ({err})") from None
    _assign_weights(model, tensors, path)
    if compile and config.get("compile_config"):
        try:
            model.compile_from_config(config["compile_config"])
        except (ValueError, TypeError, KeyError) as err:
            raise ModelFileError(f"{path}: invalid compile config ({err})") from None
        _restore_optimizer(model, tensors, path)
    prep = config.get("preprocessing")
    if prep is not None:
        model.preprocessing = prep
    state = config.get("training_state") or {}
    if isinstance(state.get("data_parallel_seed"), int):
        model._dp_seed = state["data_parallel_seed"]
    return model


def restore_into(model, filepath):
    """Load weights and optimizer state from a ``.shendu`` file into ``model`` in place;
    returns the stored training state (or None)."""
    safetensors_numpy()
    path = os.fspath(filepath)
    with open_archive(path) as zf:
        config = parse_config(read_member(zf, "config.json", path), path)
        tensors = load_tensors(read_member(zf, "model.safetensors", path), path)
    _assign_weights(model, tensors, path)
    if getattr(model, "optimizer", None) is not None:
        _restore_optimizer(model, tensors, path)
    return config.get("training_state")


def _assign_weights(model, tensors, path):
    variables = model.weights
    names = [k for k in tensors if not k.startswith("optimizer/")]
    if len(names) != len(variables):
        raise ModelFileError(
            f"{path}: the file holds {len(names)} weights; the model has {len(variables)}"
        )
    pending = []
    by_index = {k.split(":", 1)[0]: k for k in names}
    for i, v in enumerate(variables):
        # Weights match by position and by their own name ("kernel"); the layer part of
        # the path may differ (auto-named layers inside a subclassed model).
        key = by_index.get(f"w{i:04d}")
        own = (v.path or "").rsplit("/", 1)[-1]
        if key is None or key.rsplit("/", 1)[-1] != own:
            raise ModelFileError(
                f"{path}: weight {i} of the model is {v.path!r} but the file has {key!r}"
            )
        arr = tensors[key]
        if arr.shape != v.shape:
            raise ModelFileError(
                f"{path}: layer weight {v.path!r} expected shape {v.shape}. "
                f"Received: shape {arr.shape}"
            )
        if arr.dtype != v.dtype:
            raise ModelFileError(
                f"{path}: layer weight {v.path!r} expected dtype {v.dtype}. "
                f"Received: dtype {arr.dtype} (no silent cast)"
            )
        pending.append((v, arr))
    for v, arr in pending:
        v.assign(arr)


def _restore_optimizer(model, tensors, path):
    state = {k[len("optimizer/") :]: v for k, v in tensors.items() if k.startswith("optimizer/")}
    if not state:
        return
    opt = model.optimizer
    opt.build(model.trainable_weights)
    expected = opt.get_state()
    if set(expected) != set(state):
        raise ModelFileError(
            f"{path}: the optimizer state does not match the model's variables "
            f"(expected {len(expected)} entries, found {len(state)})"
        )
    for key, arr in expected.items():
        if np.size(state[key]) != np.size(arr) or (
            np.ndim(arr) > 0 and np.shape(state[key]) != np.shape(arr)
        ):
            raise ModelFileError(
                f"{path}: optimizer state {key!r} expected shape {np.shape(arr)}. "
                f"Received: shape {np.shape(state[key])}"
            )
        if np.asarray(state[key]).dtype != np.asarray(arr).dtype:
            raise ModelFileError(
                f"{path}: optimizer state {key!r} expected dtype {np.asarray(arr).dtype}. "
                f"Received: dtype {np.asarray(state[key]).dtype}"
            )
    opt.set_state(state)


def save_weights(model, filepath, overwrite=True):
    """Write the model's weights to a ``.weights.safetensors`` file (atomically)."""
    st = safetensors_numpy()
    path = _check_path(filepath, ".weights.safetensors", overwrite)
    data = st.save(_model_tensors(model, include_optimizer=False), metadata={"format": "shendu"})

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    atomic_write(path, write)


def load_weights(model, filepath):
    """Load weights saved by ``save_weights`` into a built model (names, shapes, dtypes
    checked before anything is assigned)."""
    safetensors_numpy()
    path = os.fspath(filepath)
    if not path.endswith(".weights.safetensors"):
        raise ValueError(
            f"The filename must end in '.weights.safetensors'. Received: filepath={path!r}"
        )
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        data = f.read(size)
    tensors = load_tensors(data, path)
    _assign_weights(model, tensors, path)


def load_keras_weights(model, filepath):
    """Load a Keras 3 ``.weights.h5`` file into a built model (needs h5py)."""
    from .keras_files import load_keras_weights as _load

    _load(model, filepath)


__all__ = [
    "load_keras_weights",
    "ModelFileError",
    "get_registered_object",
    "load_model",
    "load_weights",
    "register_serializable",
    "restore_into",
    "save_model",
    "save_weights",
]
