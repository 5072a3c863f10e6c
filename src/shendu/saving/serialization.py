"""Keras's object (de)serialization helpers, through shendu's closed registry.

``deserialize_keras_object`` resolves a config's class name among shendu's own classes
(layers, models, losses, metrics, optimizers, schedules, initializers, regularizers,
constraints, activations), ``custom_objects`` and the classes registered with
``register_keras_serializable``. It never imports a module named in a config.
"""

from __future__ import annotations

from ..naming import (
    _REGISTERED,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_serializable,
    scoped_objects,
    serialize,
    unknown_name_error,
)

CustomObjectScope = custom_object_scope


def register_keras_serializable(package="Custom", name=None):
    """Decorator: configs (and saved models) may name the class as ``package>name``."""
    return register_serializable(package=package, name=name)


def get_custom_objects():
    """The registry of custom classes and functions (a dict one may add to)."""
    return _REGISTERED


def serialize_keras_object(obj):
    """{'class_name': ..., 'config': ...} for objects with ``get_config``; a name for
    functions; plain values as they are."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    return serialize(obj)


def _tables():
    from .. import (
        activations,
        constraints,
        initializers,
        layers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )
    from ..optimizers import schedules

    tables = [layers.layer_classes()]
    for module in (losses, metrics, initializers, regularizers, constraints):
        tables.append(getattr(module, "_TABLE", {}))
    tables.append(optimizers._TABLE)
    tables.append(getattr(schedules, "_TABLE", {}))
    tables.append(activations._TABLE)
    return tables


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a config describes ({'class_name', 'config'}, or a list of them). A bare
    name is a custom object's (``custom_objects``, a scope, a registered class or function)
    when one has it, else the name itself, as in Keras (``"SGD"`` stays ``"SGD"``: the
    functions that take names, ``optimizers.get`` and the like, resolve it)."""
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = (custom_objects or {}).get(config) or scoped_objects().get(config)
        found = found or get_registered_object(config)
        return found if found is not None else config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    name = config if isinstance(config, str) else config.get("class_name")
    if not isinstance(name, str):
        raise ValueError(f"Expected a config with 'class_name'. Received: {config!r}")
    inner = {} if isinstance(config, str) else (config.get("config") or {})
    lookup = {}
    for table in _tables():
        lookup.update(table)
    lookup.update(_REGISTERED)
    lookup.update(scoped_objects())
    lookup.update(custom_objects or {})
    obj = lookup.get(name) or get_registered_object(name, custom_objects)
    if obj is None:
        raise unknown_name_error("object", name, lookup)
    if isinstance(config, str) or not isinstance(obj, type):
        return obj() if isinstance(obj, type) and isinstance(config, str) else obj
    with custom_object_scope(custom_objects or {}, safe_mode=safe_mode):
        if hasattr(obj, "from_config"):
            return obj.from_config(dict(inner))
        return obj(**inner)


__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
]
