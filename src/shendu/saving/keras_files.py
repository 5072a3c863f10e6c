"""Reading Keras 3 files: ``.weights.h5`` weights and ``.keras`` models (the
``[keras-files]`` extra: h5py), so a Keras user can run a trained model with NumPy only.

A ``.keras`` file is a zip of ``config.json`` (Keras's config format), ``metadata.json``
and ``model.weights.h5``. Its config is translated to shendu's (the same layer class
names and arguments; Keras-only entries such as dtype policies and "module" are dropped, a
"registered_name" kept only as a key of the registry) and resolved through the same closed
registry as a ``.shendu`` file (a user's class: custom objects or
``register_keras_serializable``); nothing in it is imported or executed. Weights are
matched to layers by Keras's storage key (``layers/<snake_case class>[_<n>]/vars/<i>``,
numbered per class in layer order; sub-layers below it; a user's layers and models by
Keras's saving walk, ``keras_layout``), falling back to the layer's name, in Keras's
variable order, with shapes checked before anything is assigned. A layer that defines
``load_own_variables`` or ``load_assets`` is given its stored state through them.

HDF5 can reach outside the file: external links, soft links, external storage and
virtual datasets make a reader copy the bytes of other files into the weights. Before
anything is read, ``check_h5`` walks the whole file and refuses every link that is not a
hard link, every dataset stored outside the file or declaring more bytes than it holds
(a dataset with no storage reads as gigabytes of fill value; a compressed one may not
expand more than ``BOMB_RATIO`` times), non-numeric dtypes, and trees deeper or larger
than a weights file needs. Versions: a ``.keras`` file of another Keras major version is
refused; a newer 3.x than the one these readers were checked against loads with a warning.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os

import numpy as np

from ..layers import is_model
from ..layers.operations import keras_operations
from ..layers.symbolic import ELLIPSIS, SLICE, TENSOR_REF
from ..models.model import map_refs
from .checks import (
    BOMB_RATIO,
    ModelFileError,
    check_config_values,
    open_archive,
    parse_json,
    read_member,
)
from .keras_layout import defines, hook_layers, is_user_class, model_groups, storage_keys

#: The newest Keras these readers were checked against; a newer 3.x loads with a warning.
KERAS_TESTED = (3, 15)
MAX_H5_OBJECTS = 50_000
MAX_H5_DEPTH = 32
KERAS_MEMBERS = ("config.json", "model.weights.h5")

_KERAS_ONLY = {
    "module",
    "registered_name",
    "shared_object_id",
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


def check_h5(h5, path, max_tensor_bytes):
    """Refuse what reaches outside the file or declares more than it holds (module
    docstring), and any object reached by two hard links (a dataset shared between
    variables would count once in the file and many times in memory); returns the total
    bytes of the datasets, each counted once."""
    h5py = _h5py()
    total, seen, stack = 0, 0, [(h5, "", 0)]
    first_path: dict = {}  # each HDF5 object (by its address in the file) and where it was met
    while stack:
        group, where, depth = stack.pop()
        if depth > MAX_H5_DEPTH:
            raise ModelFileError(
                f"{path}: HDF5 groups nested deeper than {MAX_H5_DEPTH} at {where}"
            )
        for key in group.keys():
            seen += 1
            limit = MAX_H5_OBJECTS
            if seen > limit:
                raise ModelFileError(f"{path}: more than {limit} HDF5 objects")
            name = f"{where}/{key}"
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ModelFileError(
                    f"{path}: {type(link).__name__} at {name!r}; only objects inside the file "
                    "are read (no soft or external links)"
                )
            obj = group[key]
            address = _object_address(h5py, obj)
            if address in first_path:
                raise ModelFileError(
                    f"{path}: {name!r} is the same HDF5 object as {first_path[address]!r} "
                    "(hard links share it); a weights file holds each variable in its own "
                    "dataset, counted once"
                )
            first_path[address] = name
            if isinstance(obj, h5py.Group):
                stack.append((obj, name, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                total += _check_dataset(h5py, obj, name, path, max_tensor_bytes)
            else:
                raise ModelFileError(
                    f"{path}: unexpected HDF5 object {type(obj).__name__} at {name!r}"
                )
    return total


def _object_address(h5py, obj):
    """Where ``obj`` lives in its file: the same for every hard link to it."""
    info = h5py.h5o.get_info(obj.id)
    token = getattr(info, "token", None)
    return token if token is not None else info.addr


def _check_dataset(h5py, ds, name, path, max_tensor_bytes):
    if ds.is_virtual:
        raise ModelFileError(f"{path}: virtual dataset at {name!r} (it reads other files)")
    if ds.external:
        raise ModelFileError(f"{path}: dataset {name!r} is stored in external files")
    dtype = ds.dtype
    if dtype.kind not in "fiub" or dtype.fields is not None or dtype.subdtype is not None:
        raise ModelFileError(f"{path}: dataset {name!r} has a non-numeric dtype {dtype}")
    count = 1
    for n in ds.shape or ():
        count *= int(n)
    nbytes = count * dtype.itemsize
    if nbytes > max_tensor_bytes:
        raise ModelFileError(
            f"{path}: dataset {name!r} of shape {ds.shape} ({nbytes} bytes) exceeds the "
            f"loader's limit of {max_tensor_bytes} bytes per tensor"
        )
    stored = ds.id.get_storage_size()
    filtered = ds.id.get_create_plist().get_nfilters() > 0
    if nbytes and not filtered and stored < nbytes:
        raise ModelFileError(
            f"{path}: dataset {name!r} declares {nbytes} bytes but the file holds {stored}"
        )
    if filtered and nbytes > BOMB_RATIO * max(stored, 1):
        raise ModelFileError(
            f"{path}: dataset {name!r} expands {stored} stored bytes to {nbytes} "
            "(a decompression bomb)"
        )
    return nbytes


def _vars_datasets(h5, path):
    """The datasets of the group ``<path>/vars``, in Keras's numeric order (None when the
    file has no such group)."""
    group = h5.get(_vars_path(path)) if (not path or path in h5) else None
    if group is None or not hasattr(group, "keys"):
        return None
    return [group[k] for k in sorted(group.keys(), key=_var_index)]


def _var_index(key):
    if not key.isdigit():
        raise ValueError(f"a variable group holds {key!r}; Keras numbers variables 0, 1, ...")
    return int(key)


def _plan_from_h5(model, h5, path):
    """(variable, dataset) for every weight, after every count and shape is checked. Each
    layer's groups are where Keras keeps them (``keras_layout``); a Sequential or
    functional model's layer under its storage key or, failing that, its name."""
    plan = []
    moved = {}
    if is_model(model) and not is_user_class(model):
        layers = list(model.layers)
        keys = storage_keys(layers)
        for layer in layers:
            base, named = f"layers/{keys[id(layer)]}", f"layers/{layer.name}"
            if base not in h5 and named in h5:
                moved[base] = named
    owners = {id(v): layer for layer in model.flatten_layers() for v in layer._variables}
    for group, variables in model_groups(model):
        head = "/".join(group.split("/")[:2])
        where = moved[head] + group[len(head) :] if head in moved else group
        name = getattr(owners.get(id(variables[0])), "name", "?") if variables else "?"
        try:
            datasets = _vars_datasets(h5, where)
        except ValueError as err:
            raise ModelFileError(f"{path}: layer {name!r}: {err}") from None
        if datasets is None:
            raise ModelFileError(
                f"{path}: no weights for layer {name!r} in the file (expected "
                f"the group {_vars_path(where)!r})"
            )
        if len(datasets) != len(variables):
            raise ModelFileError(
                f"{path}: layer {name!r} expects {len(variables)} weights in "
                f"{where!r}; the file has {len(datasets)}"
            )
        for v, ds in zip(variables, datasets):
            if tuple(ds.shape) != tuple(v.shape):
                raise ModelFileError(
                    f"{path}: layer weight {v.path!r} expected shape {tuple(v.shape)}. "
                    f"Received: shape {tuple(ds.shape)}"
                )
            plan.append((v, ds))
    return plan


def _vars_path(group: str) -> str:
    return f"{group}/vars" if group else "vars"


def _h5_errors():
    # OverflowError: h5py's file-object driver given offsets past a C ssize_t (fuzzing)
    return (OSError, KeyError, RuntimeError, ValueError, TypeError, AttributeError, OverflowError)


def _load_checked_h5(model, filepath, max_tensor_bytes, plan_for, source=None):
    """Open an HDF5 weights file (or ``source``, its bytes as a file object), check it
    whole (``check_h5``), plan with ``plan_for(model, h5, path)`` and read every weight
    before any variable changes."""
    from . import MAX_TENSOR_BYTES

    h5py = _h5py()
    path = os.fspath(filepath)
    limit = MAX_TENSOR_BYTES if max_tensor_bytes is None else int(max_tensor_bytes)
    try:
        h5 = h5py.File(path if source is None else source, "r")
    except _h5_errors() as err:
        raise ModelFileError(f"{path}: not an HDF5 weights file ({err})") from None
    try:
        with h5:
            check_h5(h5, path, limit)
            plan = plan_for(model, h5, path)
            staged = [(v, np.asarray(ds[()], dtype=v.dtype)) for v, ds in plan]
    except ModelFileError:
        raise
    except _h5_errors() as err:
        raise ModelFileError(
            f"{path}: the HDF5 file is corrupt ({type(err).__name__}: {err})"
        ) from None
    for v, arr in staged:
        v.assign(arr)


def load_keras_weights(model, filepath, max_tensor_bytes=None):
    """Load a Keras 3 ``.weights.h5`` file into a built shendu model with the same layers.

    The file is checked whole (``check_h5``) and every weight read before any changes."""
    _load_checked_h5(model, filepath, max_tensor_bytes, _plan_from_h5)


def load_weights_of_keras_model(model, filepath, max_tensor_bytes=None):
    """Load the weights of a whole-model ``.keras`` file (its ``model.weights.h5``) into a
    built model with the same layers, as Keras's ``load_weights`` does after
    ``ModelCheckpoint(save_weights_only=False)``; the archive is checked as by
    ``load_keras_model``."""
    path = os.fspath(filepath)
    with _open_keras_archive(path) as zf:
        weights = read_member(zf, "model.weights.h5", path)
    _load_checked_h5(model, path, max_tensor_bytes, _plan_from_h5, source=io.BytesIO(weights))


@contextlib.contextmanager
def _open_keras_archive(path):
    """The ``.keras`` zip at ``path`` after the archive checks (``open_archive``: its
    members, their sizes) and the Keras version check."""
    with open_archive(
        path,
        KERAS_MEMBERS,
        allowed=lambda n: n == "metadata.json" or n.startswith("assets/"),
        kind=".keras",
    ) as zf:
        _check_keras_version(zf, path)
        yield zf


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
    if node.get("class_name") == "__slice__":
        c = node.get("config") or {}
        return {SLICE: [c.get("start"), c.get("stop"), c.get("step")]}
    if node.get("class_name") == "__ellipsis__":
        return {ELLIPSIS: True}
    if str(node.get("module", "")).startswith("keras.src.ops") and "class_name" in node:
        # an operation on symbolic tensors (x + y): shendu's TensorOperation layer
        name = (node.get("config") or {}).get("name")
        rest = {k: _translate(v) for k, v in node.items() if k not in _KERAS_ONLY}
        config = {"name": name, "op": node["class_name"]}
        arguments = {k: v for k, v in (node.get("config") or {}).items() if k != "name"}
        if arguments or node["class_name"] in keras_operations():
            config["arguments"] = _translate(arguments)  # Keras keeps them in its config
        rest.update({"class_name": "TensorOperation", "config": config})
        return rest
    out = {k: _translate(v) for k, v in node.items() if k not in _KERAS_ONLY}
    registered = node.get("registered_name")
    if isinstance(registered, str) and ">" in registered and node.get("class_name"):
        out["registered"] = registered  # a name in the closed registry, never an import
    return out


def _accepted(cls):
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters)
    return names | {"input_shape", "input_dim", "batch_input_shape", "batch_size"}


def _custom_class(entry):
    """A user class for a config entry, as Keras finds it: custom objects (a scope) and
    registered classes by the entry's registered name (``package>Name``), then by its
    class name."""
    from ..naming import registered_objects, scoped_objects

    found = None
    for key in (entry.get("registered"), entry.get("class_name")):
        if isinstance(key, str) and key:
            found = scoped_objects().get(key) or registered_objects().get(key)
            if found is not None:
                break
    return found


def _layer_entry(entry):
    from ..layers import layer_classes

    table = layer_classes()
    name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    from ..naming import unknown_name_error

    # shendu's own layers, then custom_objects (a scope) and registered classes: the same
    # closed lookup as layers.deserialize
    cls = table.get(name) or _custom_class(entry)
    if cls is None:
        raise unknown_name_error("layer class", name, table)
    if name not in ("Sequential", "Functional", "Model") and cls is table.get(name):
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
            if isinstance(config.get("backward_layer"), dict):
                config["backward_layer"] = _layer_entry(config["backward_layer"])
    out = {"class_name": name, "config": config}
    if entry.get("registered"):
        out["registered"] = entry["registered"]
    if isinstance(entry.get("build_config"), dict):
        out["build_config"] = entry["build_config"]
    return out


def _functional_config(cfg):
    """Keras's functional config -> shendu's (inbound nodes as tensor references)."""
    layers = []
    for entry in cfg["layers"]:
        out = _layer_entry(entry)
        out["name"] = entry.get("name", out["config"].get("name"))
        nodes = []
        for node in entry.get("inbound_nodes", []):
            if not isinstance(node, dict):
                raise ModelFileError("a .keras functional node that is not an object")
            nodes.append(
                {
                    "call_args": _as_refs(list(node.get("args", []))),
                    "call_kwargs": _as_refs(dict(node.get("kwargs", {}))),
                }
            )
        out["inbound_nodes"] = nodes
        layers.append(out)

    def leaves(x):  # Keras's inputs or outputs (one, a list, a dict, nested): references
        out: list = []
        try:
            map_refs(x, out.append)
        except ValueError:
            raise ModelFileError(f"a .keras model's inputs or outputs {x!r}") from None
        return out

    return {
        "name": cfg.get("name"),
        "trainable": cfg.get("trainable", True),
        "layers": layers,
        "input_layers": leaves(cfg["input_layers"]),
        "output_layers": leaves(cfg["output_layers"]),
        "input_structure": cfg["input_layers"],  # rebuilt as they were (Model.from_config)
        "output_structure": cfg["output_layers"],
    }


def _as_refs(structure):
    """Keras's tensor references (``{"__keras_tensor__": history}`` once translated) as
    shendu's functional config writes them."""
    if isinstance(structure, dict):
        if set(structure) == {"__keras_tensor__"}:
            history = structure["__keras_tensor__"]
            if not (isinstance(history, list) and len(history) == 3):
                raise ModelFileError(
                    f"a .keras tensor reference {history!r} is not [layer, node, index]"
                )
            return {TENSOR_REF: history}
        return {k: _as_refs(v) for k, v in structure.items()}
    if isinstance(structure, list):
        return [_as_refs(v) for v in structure]
    return structure


def _check_keras_version(zf, path):
    if "metadata.json" not in zf.namelist():
        return
    meta = parse_json(read_member(zf, "metadata.json", path), path, "metadata.json")
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    if not isinstance(version, str):
        return
    parts = version.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ModelFileError(
            f"{path}: metadata.json has an invalid keras_version {version!r}"
        ) from None
    if major != 3:
        raise ModelFileError(
            f"{path}: written by Keras {version}; shendu reads files of Keras 3 only"
        )
    if (major, minor) > KERAS_TESTED:
        import warnings

        warnings.warn(
            f"{path}: written by Keras {version}, newer than the Keras "
            f"{KERAS_TESTED[0]}.{KERAS_TESTED[1]} shendu's reader was checked against; "
            "loading it anyway",
            stacklevel=3,
        )


def load_keras_model(
    filepath,
    custom_objects=None,
    safe_mode=True,
    max_tensor_bytes=None,
    compile=True,  # noqa: A002
):
    """Rebuild a Keras 3 ``.keras`` model (Sequential or functional) with its weights,
    compiled as it was saved (the file's ``compile_config``) unless ``compile=False``."""
    from ..layers.allocation import AllocationLimitError, allocation_limits
    from ..naming import custom_object_scope
    from . import MAX_TENSOR_BYTES, _rebuild_failure

    h5py = _h5py()
    path = os.fspath(filepath)
    limit = MAX_TENSOR_BYTES if max_tensor_bytes is None else int(max_tensor_bytes)
    with _open_keras_archive(path) as zf:
        raw = parse_json(read_member(zf, "config.json", path), path)
        weights = read_member(zf, "model.weights.h5", path)
        assets = {n: read_member(zf, n, path) for n in zf.namelist() if n.startswith("assets/")}
    if not isinstance(raw, dict):
        raise ModelFileError(f"{path}: config.json is not a Keras model config")
    try:
        config = _translate(raw)  # drops Keras's own "module" and "registered_name" entries
        compile_config = _translate(raw.get("compile_config")) if compile else None
    except Exception as err:  # a config of the wrong shape anywhere
        raise _rebuild_failure(err, path, "the Keras model") from None
    check_config_values(config.get("config"), path, "config", safe_mode=safe_mode)
    if compile_config is not None:
        check_config_values(compile_config, path, "compile_config", safe_mode=safe_mode)
    try:
        h5 = h5py.File(io.BytesIO(weights), "r")
    except _h5_errors() as err:
        raise ModelFileError(f"{path}: model.weights.h5 is not an HDF5 file ({err})") from None
    try:
        with h5:
            budget = check_h5(h5, path, limit)
            try:
                with custom_object_scope(custom_objects or {}, safe_mode=safe_mode):
                    with allocation_limits(budget, limit):
                        model = _model_from_keras_config(config, path)
            except AllocationLimitError as err:
                raise ModelFileError(f"{path}: {err}") from None
            except ModelFileError:
                raise
            except Exception as err:
                raise _rebuild_failure(err, path, "the Keras model") from None
            for v, ds in _plan_from_h5(model, h5, path):
                if ds.dtype == v.dtype and v.data.flags.c_contiguous and ds.shape:
                    ds.read_direct(v.data)
                else:
                    v.assign(np.asarray(ds[()], dtype=v.dtype))
            _load_hooked_state(model, h5, assets, path)
    except ModelFileError:
        raise
    except _h5_errors() as err:
        raise ModelFileError(
            f"{path}: model.weights.h5 is corrupt ({type(err).__name__}: {err})"
        ) from None
    if isinstance(compile_config, dict) and compile_config.get("optimizer") is not None:
        _compile_as_saved(model, compile_config, path)
    return model


#: Keras's compile arguments that shendu takes from a file (the rest are about XLA)
_COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics")


def _compile_as_saved(model, compile_config, path):
    """Compile as the file says; a setting shendu lacks leaves the model uncompiled with
    a warning, as Keras leaves a model whose compile fails."""
    import warnings

    try:
        model.compile_from_config({k: compile_config.get(k) for k in _COMPILE_KEYS})
    except (ValueError, TypeError, KeyError) as err:
        warnings.warn(
            f"{path}: the model is loaded uncompiled; its compile settings could not be "
            f"restored ({type(err).__name__}: {err}). Call compile() before training.",
            stacklevel=3,
        )


class _ReadStore:
    """What a layer's ``load_own_variables(store)`` reads: ``store[key]`` is the array of
    the dataset ``<path>/vars/<key>`` (checked with the whole file before)."""

    def __init__(self, group):
        self._group = group

    def __getitem__(self, key):
        if self._group is None or str(key) not in self._group:
            raise KeyError(key)
        return np.asarray(self._group[str(key)][()])

    def __contains__(self, key):
        return self._group is not None and str(key) in self._group

    def keys(self):
        return [] if self._group is None else list(self._group.keys())

    def __len__(self):
        return len(self.keys())

    def __iter__(self):
        return iter(self.keys())


def _load_hooked_state(model, h5, assets, path):
    """Give each layer that defines Keras's hooks its stored state: ``load_own_variables``
    with its weights group, ``load_assets`` with a folder of its assets."""
    import tempfile

    for where, layer in hook_layers(model):
        if defines(layer, "load_own_variables"):
            group = h5.get(f"{where}/vars" if where else "vars")
            layer.load_own_variables(_ReadStore(group))
        if defines(layer, "load_assets"):
            prefix = f"assets/{where}/"
            with tempfile.TemporaryDirectory() as folder:
                for name, data in assets.items():
                    if not name.startswith(prefix):
                        continue
                    relative = name[len(prefix) :]
                    parts = relative.split("/")
                    if not relative or any(p in ("", ".", "..") for p in parts) or "\\" in name:
                        raise ModelFileError(f"{path}: asset member {name!r} is not a plain path")
                    target = os.path.join(folder, *parts)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(data)
                layer.load_assets(folder)


def _input_layer_entry(entry):
    entry = dict(entry)
    entry["config"] = {
        k: v
        for k, v in (entry.get("config") or {}).items()
        if k in ("batch_shape", "dtype", "name")
    }
    return entry


def _model_from_keras_config(config, path):
    from ..layers import deserialize

    kind = config.get("class_name")
    inner = config.get("config")
    if not isinstance(inner, dict):
        raise ModelFileError(f"{path}: config.json has no model config object")
    if kind == "Sequential":
        seq = {
            "name": inner.get("name"),
            "layers": [
                _input_layer_entry(e) if e["class_name"] == "InputLayer" else _layer_entry(e)
                for e in inner["layers"]
            ],
        }
        return deserialize({"class_name": "Sequential", "config": seq})
    if kind in ("Functional", "Model") and "layers" in inner:
        fc = _functional_config(inner)
        fc["layers"] = [
            _input_layer_entry(e) if e["class_name"] == "InputLayer" else e for e in fc["layers"]
        ]
        return deserialize({"class_name": "Functional", "config": fc})
    from ..models.model import Model

    cls = _custom_class(config)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ModelFileError(
            f"{path}: only Sequential, functional and registered subclassed Keras models can "
            f"be read; {kind!r} is neither shendu's nor registered "
            "(@keras.saving.register_keras_serializable, or custom_objects)"
        )
    model = deserialize(
        {"class_name": kind, "config": inner, "registered": config.get("registered")}
    )
    build = config.get("build_config")
    if isinstance(build, dict) and not model.built:
        model.build_from_config(build)
    return model


def _names_attr(node, key, path, most):
    """A legacy file's list-of-names attribute, as str (absent: an empty list); its size
    is compared with ``most`` before it is read, and no name may repeat."""
    if key not in node.attrs:
        return []
    attr = node.attrs.get_id(key)
    if attr.shape is not None and 0 in attr.shape:  # Keras 2's np.asarray([]): float64
        return []
    if attr.dtype.kind != "S":  # Keras 2 writes fixed-length byte strings (np.asarray)
        raise ModelFileError(
            f"{path}: attribute {key!r} holds {attr.dtype}; Keras writes fixed-length names "
            "(variable-length strings are not read: a damaged heap can stall HDF5)"
        )
    count = 1
    for n in attr.shape or ():
        count *= int(n)
    if count > most:
        raise ModelFileError(
            f"{path}: attribute {key!r} lists {count} names; at most {most} can be there"
        )
    values = node.attrs.get(key, [])
    names = []
    for v in np.asarray(values).reshape(-1):
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        if not isinstance(v, str):
            raise ModelFileError(f"{path}: attribute {key!r} must list names")
        names.append(v)
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path}: attribute {key!r} lists a name twice")
    return names


def _legacy_plan(model, root, path):
    """(variable, dataset) pairs, by the order of layers with weights, as Keras's legacy
    loader (``load_weights_from_hdf5_group``): the file's layers that hold weights and
    the model's, matched in order, each layer's weights in its ``weights`` order."""
    file_layers = []
    # a listed layer is a group of the root: no more names than the root has members
    for name in _names_attr(root, "layer_names", path, most=len(root)):
        if name not in root:
            raise ModelFileError(f"{path}: layer {name!r} is listed but has no group")
        weight_names = _names_attr(root[name], "weight_names", path, most=MAX_H5_OBJECTS)
        if weight_names:
            file_layers.append((name, weight_names))
    model_layers = [layer for layer in model.layers if layer.weights]
    if len(file_layers) != len(model_layers):
        raise ModelFileError(
            f"{path}: the file holds weights for {len(file_layers)} layers; the model has "
            f"{len(model_layers)} layers with weights"
        )
    plan = []
    for (name, weight_names), layer in zip(file_layers, model_layers):
        variables = layer.weights
        if len(weight_names) != len(variables):
            raise ModelFileError(
                f"{path}: layer {layer.name!r} expects {len(variables)} weights; the file's "
                f"layer {name!r} has {len(weight_names)}"
            )
        group = root[name]
        for v, weight_name in zip(variables, weight_names):
            if weight_name not in group:
                raise ModelFileError(f"{path}: no dataset {weight_name!r} in layer {name!r}")
            ds = group[weight_name]
            if tuple(ds.shape) != tuple(v.shape):
                raise ModelFileError(
                    f"{path}: layer weight {v.path!r} expected shape {tuple(v.shape)}. "
                    f"Received: shape {tuple(ds.shape)} ({name}/{weight_name})"
                )
            plan.append((v, ds))
    return plan


def _plan_from_legacy(model, h5, path):
    root = h5["model_weights"] if "model_weights" in h5 else h5
    if "layer_names" not in root.attrs:
        raise ModelFileError(
            f"{path}: not a Keras legacy weights file (no 'layer_names' attribute)"
        )
    return _legacy_plan(model, root, path)


def load_legacy_h5_weights(model, filepath, max_tensor_bytes=None):
    """Load a Keras 2 (legacy HDF5) ``.h5`` weights file, such as Keras's ImageNet weights
    of the applications, into a built model: layers with weights matched in order.

    The file is checked whole (``check_h5``) and every weight read before any changes."""
    _load_checked_h5(model, filepath, max_tensor_bytes, _plan_from_legacy)
