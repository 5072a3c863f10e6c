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
from ..layers.allocation import AllocationLimitError, allocation_limits
from ..lazy import lazy_attributes
from ..naming import custom_object_scope, get_registered_object, register_serializable
from ..optimizers import Optimizer
from .checks import (
    MAX_DEPTH,
    ModelFileError,
    check_config_values,
    json_depth,
    open_archive,
    open_member,
    parse_config,
    read_member,
)
from .files import atomic_write
from .serialization import (
    CustomObjectScope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    register_keras_serializable,
    serialize_keras_object,
)
from .tensor_file import SKIP, TensorFile

FORMAT_VERSION = 1
#: The largest single tensor (weight or activation, at batch size 2) that building a loaded
#: model may create: ``load_model(..., max_tensor_bytes=...)`` raises or lowers it.
MAX_TENSOR_BYTES = 1 << 30
#: Prefixes of the tensors in model.safetensors besides the weights ("w0000:path").
OPTIMIZER_PREFIX = "optimizer/"
TRAINING_PREFIX = "training/"


def safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError(
            "Saving needs the safetensors package, which is not installed. "
            "Install the extra: pip install 'shendu[save]'"
        ) from None
    return st


def _weight_key(i, var):
    return f"w{i:04d}:{var.path}"


def _optimizer_variable_indices(model):
    """For each variable the optimizer holds state for, its index in ``model.weights``."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not opt.built:
        return []
    position = {id(v): i for i, v in enumerate(model.weights)}
    missing = [v.path for v in opt.built_variables if id(v) not in position]
    if missing:
        raise ValueError(
            f"Cannot save model {model.name!r}: its optimizer holds state for variables that "
            f"are not the model's: {missing}. Save with include_optimizer=False."
        )
    return [position[id(v)] for v in opt.built_variables]


def _model_tensors(model, include_optimizer, training_arrays=None):
    tensors = {}
    for i, v in enumerate(model.weights):
        tensors[_weight_key(i, v)] = np.ascontiguousarray(backend.to_numpy(v.data))
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        for k, arr in model.optimizer.get_state().items():
            tensors[OPTIMIZER_PREFIX + k] = np.ascontiguousarray(np.asarray(arr))
    for k, arr in (training_arrays or {}).items():
        tensors[TRAINING_PREFIX + k] = np.ascontiguousarray(np.asarray(arr))
    return tensors


def _check_path(filepath, suffix, overwrite):
    path = os.fspath(filepath)
    if not path.endswith(suffix):
        raise ValueError(f"The filename must end in {suffix!r}. Received: filepath={path!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")
    return path


def refuse_unzipped(zipped: bool | None) -> None:
    """Refuse Keras's ``zipped=False`` (a folder instead of one archive)."""
    if zipped is not None and not zipped:
        raise ValueError(
            "save: zipped=False (Keras's unzipped folder) is not supported: shendu writes "
            "one archive, atomically. Omit `zipped` (or pass True)."
        )


def save_model(
    model,
    filepath,
    overwrite=True,
    zipped=None,
    include_optimizer=True,
    training_state=None,
    training_arrays=None,
):
    """Write ``model`` to a ``.shendu`` file, atomically (temporary file, fsync, rename).

    Whatever state the model is in (compiled or not, trained, recompiled, layers frozen
    after training, optimizer replaced), the file loads back: the optimizer's state is
    stored with the list of the model's variables it belongs to. What a loader would
    refuse (a config naming modules or files, nesting past the loader's depth) is refused
    here, before anything is written. ``training_state`` (JSON-able: epoch, history, RNG
    states, callback states) and ``training_arrays`` (name -> array, e.g. EarlyStopping's
    best weights) are stored for exact resume (``callbacks.BackupAndRestore``).
    ``zipped=False`` (Keras's unzipped folder) is refused: one archive, written
    atomically, is what leaves no half-written model behind a fault.
    """
    refuse_unzipped(zipped)
    if os.fspath(filepath).endswith(".keras"):  # Keras 3's format (saving.keras_writer)
        from .keras_writer import save_keras_model

        save_keras_model(model, _check_path(filepath, ".keras", overwrite))
        return
    if not os.fspath(filepath).endswith(".shendu"):
        raise ValueError(
            "The filename must end in '.shendu' (shendu's format, with the optimizer state "
            "and training state) or '.keras' (Keras 3's). Received: "
            f"filepath={os.fspath(filepath)!r}"
        )
    st = safetensors_numpy()
    path = _check_path(filepath, ".shendu", overwrite)
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: call it on data before saving")
    compiled = getattr(model, "compiled", False)
    optimizer_variables = _optimizer_variable_indices(model) if include_optimizer else []
    config = {
        "format": "shendu",
        "format_version": FORMAT_VERSION,
        "shendu_version": _version(),
        "numpy_version": np.__version__,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "build_config": (model.get_build_config() if model.functional_graph() is None else None),
        "compile_config": model.get_compile_config() if compiled else None,
        "optimizer_variables": optimizer_variables,
        "preprocessing": getattr(model, "preprocessing", None),
        "weights": [v.path for v in model.weights],
        "training_state": training_state,
    }
    config_bytes = json.dumps(config, indent=1, default=_json_default).encode("utf-8")
    if json_depth(json.loads(config_bytes)) > MAX_DEPTH:
        raise ValueError(
            f"Cannot save model {model.name!r}: its config nests deeper than the {MAX_DEPTH} "
            "levels a loader reads"
        )
    for key, where in (("model", "model"), ("compile_config", "compile_config")):
        check_config_values(config[key], path, where, safe_mode=False)
    weights = st.save(
        _model_tensors(model, include_optimizer, training_arrays), metadata={"format": "shendu"}
    )

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


def _check_version(config, path):
    """The rule of docs/guides/saving.md: a file of a newer format version is refused."""
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: config.json has no valid format_version ({version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by shendu {config.get('shendu_version')!r} in format version "
            f"{version}; this shendu ({_version()}) reads format versions up to "
            f"{FORMAT_VERSION}. Upgrade shendu to load it."
        )
    for key in ("model", "weights"):
        if key not in config:
            raise ModelFileError(f"{path}: config.json has no {key!r} entry")
    for key in ("compile_config", "build_config", "training_state", "preprocessing"):
        if config.get(key) is not None and not isinstance(config[key], dict):
            raise ModelFileError(f"{path}: config.json entry {key!r} is not an object")


def _rebuild_failure(err, path, what="the model"):
    """A ModelFileError for any exception raised while rebuilding from a config, naming
    the layer where it happened (the notes that layers.deserialize adds)."""
    if isinstance(err, ModelFileError):
        return err
    where = "; ".join(getattr(err, "__notes__", ()))
    detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    place = f" [{where}]" if where else ""
    return ModelFileError(f"{path}: cannot rebuild {what} from its config ({detail}){place}")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, max_tensor_bytes=None):  # noqa: A002
    """Rebuild a model from a ``.shendu`` file (and, when compiled, its optimizer state),
    or from a Keras 3 ``.keras`` file (weights and architecture; needs h5py).

    Nothing in the file is run or imported, and building the model costs no more memory
    than the weights the file holds plus at most ``max_tensor_bytes`` (default
    ``MAX_TENSOR_BYTES``) per declared tensor: every declared size is checked before
    anything of that size exists, and the weights stream from the file into place.
    Raises ``ModelFileError`` for a file that is malformed, oversized, names something
    outside the registry, or whose weights do not fit the model.
    """
    path = os.fspath(filepath)
    limit = MAX_TENSOR_BYTES if max_tensor_bytes is None else int(max_tensor_bytes)
    if path.endswith(".keras"):
        from .keras_files import load_keras_model

        return load_keras_model(path, custom_objects, safe_mode, limit, compile=compile)
    with open_archive(path) as zf:
        config = parse_config(read_member(zf, "config.json", path), path)
        _check_version(config, path)
        check_config_values(config["model"], path, safe_mode=safe_mode)
        if config.get("compile_config") is not None:
            check_config_values(config["compile_config"], path, "compile_config")
        info = zf.getinfo("model.safetensors")
        with open_member(zf, "model.safetensors", path) as stream:
            tensors = TensorFile(stream, info.file_size, path)
            weights = _weight_entries(tensors, path)
            model = _rebuild(config, path, custom_objects, safe_mode, weights, limit)
            plan = _plan_weights(model, weights, path)
            optimizer_plan = {}
            if compile and config.get("compile_config"):
                try:
                    with custom_object_scope(custom_objects or {}, safe_mode=safe_mode):
                        model.compile_from_config(config["compile_config"])
                except Exception as err:
                    raise ModelFileError(f"{path}: invalid compile config ({err})") from None
                optimizer_plan = _plan_optimizer(model, config, tensors, path)
            targets = {e.name: v.data for v, e in plan}
            targets.update(optimizer_plan.get("arrays", {}))
            fresh = tensors.read(lambda e: targets.get(e.name, _small_or_skip(e, optimizer_plan)))
            _expect_end(stream, path)
    if optimizer_plan:
        model.optimizer.set_counters(
            {k[len(OPTIMIZER_PREFIX) :]: fresh[k] for k in optimizer_plan["counters"]}
        )
    prep = config.get("preprocessing")
    if prep is not None:
        model.preprocessing = prep
    state = config.get("training_state") or {}
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is not None and isinstance(state.get("data_parallel_seed"), int):
        strategy.set_state({"seed": state["data_parallel_seed"]})  # a resumed run reshuffles
    return model


def _small_or_skip(entry, optimizer_plan):
    """Counters (iterations, ...) are read into new arrays; other tensors are skipped."""
    return None if entry.name in optimizer_plan.get("counters", ()) else SKIP


def _expect_end(stream, path):
    """Reading past the last tensor checks the member's CRC (zip streams check it at EOF)."""
    try:
        extra = stream.read(1)
    except Exception as err:
        raise ModelFileError(f"{path}: the weights are corrupt ({err})") from None
    if extra:
        raise ModelFileError(f"{path}: model.safetensors has bytes past its tensors")


def _weight_entries(tensors, path):
    """The weight entries (``w0000:path``) in index order; other names must be the
    optimizer's or the training state's."""
    by_index = {}
    for name, entry in tensors.entries.items():
        if name.startswith((OPTIMIZER_PREFIX, TRAINING_PREFIX)):
            continue
        head = name.split(":", 1)[0]
        if not (len(head) >= 5 and head[0] == "w" and head[1:].isdigit()):
            raise ModelFileError(f"{path}: unexpected tensor name {name!r} in the weights")
        index = int(head[1:])
        if index in by_index:
            raise ModelFileError(f"{path}: two tensors for weight {index}")
        by_index[index] = entry
    if sorted(by_index) != list(range(len(by_index))):
        raise ModelFileError(f"{path}: the weights are not numbered 0..{len(by_index) - 1}")
    return [by_index[i] for i in range(len(by_index))]


def _rebuild(config, path, custom_objects, safe_mode, weights, limit):
    """The model from its config, built within the allocation limits (no initializers,
    no dry runs, weights no larger than the file holds)."""
    from ..layers import deserialize, is_model

    budget = sum(e.nbytes for e in weights)
    try:
        with custom_object_scope(custom_objects or {}, safe_mode=safe_mode):
            with allocation_limits(budget, limit):
                model = deserialize(config["model"], custom_objects)
                build = config.get("build_config")
                if build and not model.built:
                    model.build_from_config(build)
    except AllocationLimitError as err:
        raise ModelFileError(f"{path}: {err}") from None
    except Exception as err:  # a malformed config surfaces as any error of the code it reaches
        raise _rebuild_failure(err, path) from None
    if not is_model(model):
        raise ModelFileError(f"{path}: the config describes a {type(model).__name__}, not a model")
    return model


def saved_order(model, entries) -> list[int] | None:
    """For a file whose weights are the model's in another order, the model's index of
    each saved weight, matched by path; None when the file's order is the model's.

    Files written before ``Layer.weights`` followed Keras's order hold the trainable
    weights first, then the non-trainable ones (moving statistics)."""
    variables = model.weights
    saved = [e.name.split(":", 1)[-1] for e in entries]
    current = [v.path for v in variables]
    if saved == current or len(saved) != len(current) or len(set(current)) != len(current):
        return None
    if sorted(saved) != sorted(current):
        return None
    where = {p: i for i, p in enumerate(current)}
    return [where[p] for p in saved]


def _plan_weights(model, entries, path):
    """(variable, entry) pairs after every name, shape and dtype is checked."""
    variables = model.weights
    if len(entries) != len(variables):
        raise ModelFileError(
            f"{path}: the file holds {len(entries)} weights; the model has {len(variables)}"
        )
    order = saved_order(model, entries)
    if order is not None:  # an earlier order: matched by path
        aligned = [None] * len(entries)
        for i, entry in zip(order, entries):
            aligned[i] = entry
        entries = aligned
    plan = []
    for i, (v, entry) in enumerate(zip(variables, entries)):
        # Weights match by position and by their own name ("kernel"); the layer part of
        # the path may differ (auto-named layers inside a subclassed model).
        own = (v.path or "").rsplit("/", 1)[-1]
        if entry.name.rsplit("/", 1)[-1] != own:
            raise ModelFileError(
                f"{path}: weight {i} of the model is {v.path!r} but the file has {entry.name!r}"
            )
        if entry.shape != tuple(v.shape):
            raise ModelFileError(
                f"{path}: layer weight {v.path!r} expected shape {tuple(v.shape)}. "
                f"Received: shape {entry.shape}"
            )
        if entry.dtype.newbyteorder("=") != np.dtype(v.dtype):
            raise ModelFileError(
                f"{path}: layer weight {v.path!r} expected dtype {v.dtype}. "
                f"Received: dtype {entry.dtype.newbyteorder('=')} (no silent cast)"
            )
        if not isinstance(v.data, np.ndarray) or not v.data.flags.c_contiguous:
            raise ModelFileError(f"{path}: weight {v.path!r} cannot be read in place")
        plan.append((v, entry))
    return plan


def _plan_optimizer(model, config, tensors, path):
    """Build the optimizer on the variables the file holds state for and map its state
    arrays to the file's entries, after checking names, sizes, shapes and dtypes."""
    entries = {
        k[len(OPTIMIZER_PREFIX) :]: e
        for k, e in tensors.entries.items()
        if k.startswith(OPTIMIZER_PREFIX)
    }
    if not entries:
        return {}
    opt = model.optimizer
    weights = model.weights
    indices = config.get("optimizer_variables")
    if indices is None:  # files written before the list was stored
        variables = model.trainable_weights
    else:
        if (
            not isinstance(indices, list)
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices)
            or len(set(indices)) != len(indices)
            or any(not 0 <= i < len(weights) for i in indices)
        ):
            raise ModelFileError(f"{path}: invalid optimizer_variables in config.json")
        order = saved_order(model, _weight_entries(tensors, path))
        variables = [weights[i if order is None else order[i]] for i in indices]
    # the size of the state, known before any slot exists (slots are shaped like their
    # variable), so that a file cannot make the loader allocate state it does not hold
    expected = opt.state_nbytes(variables)
    counters = set(opt.counter_names())
    declared = sum(e.nbytes for k, e in entries.items() if k not in counters)
    if expected is not None and declared != expected:
        raise ModelFileError(
            f"{path}: the optimizer state does not match the model's variables "
            f"({declared} bytes of state for {len(variables)} variables that need {expected})"
        )
    opt.build(variables)
    arrays = opt.state_arrays()
    if set(entries) != set(arrays) | counters:
        raise ModelFileError(
            f"{path}: the optimizer state does not match the model's variables "
            f"(expected {len(arrays) + len(counters)} entries, found {len(entries)})"
        )
    targets = {}
    for key, arr in arrays.items():
        e = entries[key]
        if e.shape != tuple(np.shape(arr)):
            raise ModelFileError(
                f"{path}: optimizer state {key!r} expected shape {np.shape(arr)}. "
                f"Received: shape {e.shape}"
            )
        if e.dtype.newbyteorder("=") != arr.dtype:
            raise ModelFileError(
                f"{path}: optimizer state {key!r} expected dtype {arr.dtype}. "
                f"Received: dtype {e.dtype.newbyteorder('=')}"
            )
        targets[OPTIMIZER_PREFIX + key] = arr
    for key in counters:
        if entries[key].nbytes > 64:
            raise ModelFileError(f"{path}: optimizer state {key!r} is not a scalar")
    return {"arrays": targets, "counters": [OPTIMIZER_PREFIX + k for k in counters]}


def read_training_file(filepath):
    """Everything in a ``.shendu`` file, read and checked in full before anything is
    used: (config, weights by index, optimizer state, training arrays). For restoring into
    a live model, where a damaged file must leave the model untouched."""
    path = os.fspath(filepath)
    with open_archive(path) as zf:
        config = parse_config(read_member(zf, "config.json", path), path)
        _check_version(config, path)
        info = zf.getinfo("model.safetensors")
        with open_member(zf, "model.safetensors", path) as stream:
            tensors = TensorFile(stream, info.file_size, path)
            weights = _weight_entries(tensors, path)
            arrays = tensors.read(lambda e: None)
            _expect_end(stream, path)
    optimizer = {
        k[len(OPTIMIZER_PREFIX) :]: a for k, a in arrays.items() if k.startswith(OPTIMIZER_PREFIX)
    }
    training = {
        k[len(TRAINING_PREFIX) :]: a for k, a in arrays.items() if k.startswith(TRAINING_PREFIX)
    }
    return config, weights, arrays, optimizer, training


def restore_into(model, filepath):
    """Load weights and optimizer state from a ``.shendu`` file into ``model`` in place.

    Returns ``(training_state, training_arrays)`` (None and {} when the file has none).
    Everything is read and checked before the model changes."""
    path = os.fspath(filepath)
    config, weights, arrays, optimizer, training = read_training_file(path)
    plan = _plan_weights(model, weights, path)
    opt = getattr(model, "optimizer", None)
    if optimizer and opt is not None:
        indices = config.get("optimizer_variables")
        order = saved_order(model, weights)
        variables = (
            model.trainable_weights
            if indices is None
            else [model.weights[i if order is None else order[i]] for i in indices]
        )
        opt.build(variables)
        expected = opt.get_state()
        if set(expected) != set(optimizer):
            raise ModelFileError(
                f"{path}: the optimizer state does not match the model's variables "
                f"(expected {len(expected)} entries, found {len(optimizer)})"
            )
        counters = set(opt.counter_names())
        for key, arr in expected.items():
            if key in counters:
                if np.size(optimizer[key]) != 1:
                    raise ModelFileError(f"{path}: optimizer state {key!r} is not a scalar")
                continue
            if np.shape(optimizer[key]) != np.shape(arr) or optimizer[key].dtype != arr.dtype:
                raise ModelFileError(
                    f"{path}: optimizer state {key!r} expected shape {np.shape(arr)} and "
                    f"dtype {arr.dtype}. Received: {np.shape(optimizer[key])}, "
                    f"{optimizer[key].dtype}"
                )
    for v, e in plan:
        v.assign(arrays[e.name])
    if optimizer and opt is not None:
        opt.set_state(optimizer)
    return config.get("training_state"), training


def save_weights(model, filepath, overwrite=True):
    """Write the model's weights to a ``.weights.safetensors`` file, or to a Keras 3
    ``.weights.h5`` file (needs h5py), atomically."""
    if os.fspath(filepath).endswith(".weights.h5"):
        from .keras_writer import save_keras_weights

        save_keras_weights(model, _check_path(filepath, ".weights.h5", overwrite))
        return
    if not os.fspath(filepath).endswith(".weights.safetensors"):
        raise ValueError(
            "The filename must end in '.weights.safetensors' or '.weights.h5' (Keras 3's). "
            f"Received: filepath={os.fspath(filepath)!r}"
        )
    st = safetensors_numpy()
    path = _check_path(filepath, ".weights.safetensors", overwrite)
    data = st.save(_model_tensors(model, include_optimizer=False), metadata={"format": "shendu"})

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    atomic_write(path, write)


def load_weights(model, filepath):
    """Load weights saved by ``save_weights`` into a built model. Every name, shape and
    dtype is checked and the whole file read before any weight changes."""
    path = os.fspath(filepath)
    if path.endswith(".weights.h5"):
        load_keras_weights(model, path)
        return
    if path.endswith(".keras"):  # a whole model's file: its weights (as Keras allows)
        from .keras_files import load_weights_of_keras_model

        load_weights_of_keras_model(model, path)
        return
    if path.endswith((".h5", ".hdf5")):  # Keras 2's format (the applications' ImageNet files)
        from .keras_files import load_legacy_h5_weights

        load_legacy_h5_weights(model, path)
        return
    if not path.endswith(".weights.safetensors"):
        raise ValueError(
            "The filename must end in '.weights.safetensors', '.weights.h5', '.keras' (a "
            f"whole model's weights) or (Keras 2's weights) '.h5'. Received: filepath={path!r}"
        )
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except OSError as err:
        raise ModelFileError(f"{path}: cannot be read ({err})") from None
    with f:
        tensors = TensorFile(f, size, path)
        plan = _plan_weights(model, _weight_entries(tensors, path), path)
        arrays = tensors.read(lambda e: None)
    for v, e in plan:
        v.assign(arrays[e.name])


def load_keras_weights(model, filepath):
    """Load a Keras 3 ``.weights.h5`` file into a built model (needs h5py)."""
    from .keras_files import load_keras_weights as _load

    _load(model, filepath)


# KerasFileEditor: imported on first use (h5py is an extra)
__getattr__, __dir__ = lazy_attributes(globals(), {"KerasFileEditor": "keras_editor"}, __name__)


__all__ = [
    "KerasFileEditor",
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "register_keras_serializable",
    "serialize_keras_object",
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


# the training floor below (model.save, load_weights, the checkpoint callbacks) calls these
# through the registry: it never imports this floor
from .. import saving_registry as _saving_registry  # noqa: E402

_saving_registry.register_saving(
    save_model=save_model,
    load_model=load_model,
    save_weights=save_weights,
    load_weights=load_weights,
    restore_into=restore_into,
)
