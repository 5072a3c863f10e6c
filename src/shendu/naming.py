"""Resolving objects from names and configs: strings, dicts, instances, with helpful errors.

Every configurable family (activations, initializers, losses, metrics, optimizers,
regularizers, constraints, layers) keeps a closed table of its classes and
functions by name. Unknown names raise a ValueError that suggests the nearest
valid name. Nothing is ever imported by a name taken from user data or a file.
"""

from __future__ import annotations

import difflib
import re

_NAME_COUNTS: dict = {}


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2``... (automatic layer names)."""
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names() -> None:
    """Restart automatic names (dense, dense_1, ...), as Keras's clear_session does."""
    _NAME_COUNTS.clear()


def snake_case(name: str) -> str:
    """Keras's rule: ``Conv2DTranspose`` -> ``conv2d_transpose``, ``GRU`` -> ``gru``."""
    s = re.sub(r"\W+", "", name)
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", s)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unknown_name_error(kind: str, name, valid) -> ValueError:
    valid = sorted(set(valid))
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Unknown {kind}: {name!r}.{hint} Valid names: {', '.join(valid)}")


def serialize(obj):
    """{'class_name': ..., 'config': ...} for objects with get_config; a name for functions."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    name = getattr(obj, "__name__", None)
    if name is None:
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config and no name")
    return name


def resolve(identifier, table: dict, kind: str, custom_objects=None, instantiate=True):
    """Look ``identifier`` up: None, an instance or function, a name, or a config dict."""
    if identifier is None:
        return None
    lookup = dict(table)
    if custom_objects:
        lookup.update(custom_objects)
    lookup.update(_REGISTERED)
    if isinstance(identifier, str):
        key = identifier
        if key not in lookup:
            key = snake_case(identifier) if snake_case(identifier) in lookup else key
        if key not in lookup:
            raise unknown_name_error(kind, identifier, table)
        obj = lookup[key]
        return obj() if instantiate and isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"Expected a {kind} config with 'class_name' and 'config'. "
                f"Received: {identifier!r}"
            )
        name = identifier["class_name"]
        if name not in lookup:
            raise unknown_name_error(kind, name, table)
        cls = lookup[name]
        config = identifier.get("config") or {}
        if not isinstance(cls, type):
            return cls
        if not isinstance(config, dict):
            raise ValueError(
                f"Expected the config of {kind} {name!r} to be an object. Received: {config!r}"
            )
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls(**config)
    if not callable(identifier) and not hasattr(identifier, "get_config"):
        raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
    return identifier


_REGISTERED: dict = {}


def get_registered_name(obj):
    """'package>name' for a registered class or function, else its own name."""
    target = obj if isinstance(obj, type) or callable(obj) else type(obj)
    for key, value in _REGISTERED.items():
        if value is target and ">" in key:
            return key
    return getattr(target, "__name__", str(target))


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator: let configs (and saved models) refer to a user class by name.

    Example:
    >>> import shendu
    >>> @shendu.saving.register_serializable()
    ... class MyLayer(shendu.layers.Layer):
    ...     pass
    """

    def decorator(cls):
        key = name or cls.__name__
        _REGISTERED[key] = cls
        _REGISTERED[f"{package}>{key}"] = cls
        return cls

    return decorator


def registered_objects() -> dict:
    return _REGISTERED


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or scoped) as ``name``: looked up in ``custom_objects``,
    then the registrations and the active custom_object_scope, then ``module_objects``."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    found = _REGISTERED.get(name) or _Scope.objects.get(name)
    if found is None and module_objects:
        found = module_objects.get(name)
    return found


class _Scope:
    objects: dict = {}
    safe_mode = True


class custom_object_scope:  # noqa: N801 - the Keras name
    """Within the block, configs may name the classes and functions in ``objects``."""

    def __init__(self, custom_objects=None, safe_mode=True):
        self.objects, self.safe_mode = dict(custom_objects or {}), safe_mode

    def __enter__(self):
        self._saved = (_Scope.objects, _Scope.safe_mode)
        _Scope.objects = {**_Scope.objects, **self.objects}
        _Scope.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc):
        _Scope.objects, _Scope.safe_mode = self._saved
        return False


def scoped_objects() -> dict:
    return _Scope.objects


def scoped_safe_mode() -> bool:
    return _Scope.safe_mode
