"""The signature audit: shendu's public callables against a snapshot of Keras 3.15's
(tests/fixtures/keras_signatures.json, recorded by tools/record_keras_signatures.py).

``differences()`` lists, per Keras name, how shendu's signature differs:
- ``absent``: shendu has no such callable (a method of a base class);
- ``missing <p>``: Keras names parameter p, shendu's signature does not (a class's
  parameters include those its base classes' ``__init__`` take through ``**kwargs``);
- ``required <p>``: Keras gives p a default, shendu requires it;
- ``default <p>``: both give p a default and they differ (an int and a tuple of it, e.g.
  strides 1 and (1, 1), are the same; so is a name default of None where the object's
  name is Keras's default);
- ``order``: the parameters that can be passed by position come in another order.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os

SNAPSHOT = os.path.join(os.path.dirname(__file__), "fixtures", "keras_signatures.json")

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "either",
    inspect.Parameter.VAR_POSITIONAL: "*args",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_KEYWORD: "**kwargs",
}


def snapshot():
    with open(SNAPSHOT, encoding="utf-8") as f:
        return json.load(f)


def _default(value):
    if value is inspect.Parameter.empty:
        return "<required>"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)) and all(
        v is None or isinstance(v, (bool, int, float, str)) for v in value
    ):
        return list(value)
    return f"<{type(value).__name__}>"


def _parameters(fn, drop_self):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if drop_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    return [[p.name, _KINDS[p.kind], _default(p.default)] for p in params]


def _resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, -1, -1):
        name = "shendu" + ("." + ".".join(parts[:cut]) if cut else "")
        try:
            obj = importlib.import_module(name)
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return None


def _shendu_signature(dotted):
    """(parameters, names accepted through **kwargs by base classes, the object)."""
    obj = _resolve(dotted)
    if obj is None:
        return None, set(), None
    parent_name, _, attr = dotted.rpartition(".")
    parent = _resolve(parent_name) if parent_name else None
    if inspect.isclass(parent) and not inspect.isclass(obj):
        static = inspect.getattr_static(parent, attr, None)
        return _parameters(obj, drop_self=inspect.isfunction(static)), set(), obj
    if inspect.isclass(obj):
        inherited = set()
        for base in obj.__mro__[1:]:
            init = base.__dict__.get("__init__")
            if init is not None and base is not object:
                inherited |= {p[0] for p in _parameters(init, True) or []}
        return _parameters(obj.__init__, True), inherited, obj
    return _parameters(obj, False), set(), obj


def _same_default(name, keras, mine, obj):
    if keras == mine:
        return True
    numbers = (int, float)
    if isinstance(keras, numbers) and isinstance(mine, numbers):
        return not isinstance(keras, bool) and float(keras) == float(mine)
    if isinstance(keras, list) and isinstance(mine, int) and not isinstance(mine, bool):
        return all(k == mine for k in keras)
    if name == "name" and mine is None and isinstance(keras, str) and inspect.isclass(obj):
        try:
            return obj().name == keras
        except Exception:
            return False
    return False


def compare(keras_params, mine, inherited, obj):
    out = []
    names = {p[0]: p for p in mine}
    for name, kind, default in keras_params:
        if kind in ("*args", "**kwargs"):
            continue
        if name not in names:
            if name not in inherited:
                out.append(f"missing {name}")
            continue
        my_default = names[name][2]
        if default != "<required>" and my_default == "<required>":
            out.append(f"required {name}")
        elif default != "<required>" and not _same_default(name, default, my_default, obj):
            out.append(f"default {name}: {default!r} vs {my_default!r}")
    positional = [p[0] for p in keras_params if p[1] in ("positional", "either")]
    my_positional = [p[0] for p in mine if p[1] in ("positional", "either")]
    if all(n in names for n in positional) and my_positional[: len(positional)] != positional:
        out.append("order")
    return out


def differences():
    """{Keras name: [difference, ...]} for every name whose signature differs."""
    table = {}
    for dotted, keras_params in snapshot()["signatures"].items():
        mine, inherited, obj = _shendu_signature(dotted)
        if mine is None:
            table[dotted] = ["absent"]
            continue
        found = compare(keras_params, mine, inherited, obj)
        if found:
            table[dotted] = found
    return table
