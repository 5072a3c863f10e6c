"""Record Keras 3's public signatures, for the signature audit (tests/test_keras_signatures.py).

    KERAS_BACKEND=jax python tools/record_keras_signatures.py   # needs keras, not shendu

For every public callable of the modules that ``tools/keras_api_coverage.py`` covers (less
its exclusions): a function's parameters, a class's ``__init__`` parameters, and the public
methods of the base classes users subclass or call (Layer, Model, Metric, Loss, Optimizer,
Callback, Variable), as lists of [name, kind, default]. Written to
``tests/fixtures/keras_signatures.json``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from keras_api_coverage import EXCLUDED, MODULES  # noqa: E402

from signature_audit import _parameters as parameters  # noqa: E402  (the audit's reading)

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_signatures.json")

#: classes whose public methods are recorded too (user code calls and overrides them)
METHOD_CLASSES = [
    "layers.Layer",
    "models.Model",
    "metrics.Metric",
    "losses.Loss",
    "optimizers.Optimizer",
    "callbacks.Callback",
    "Variable",
]


def record(obj):
    if inspect.isclass(obj):
        return parameters(obj.__init__, drop_self=True)
    if callable(obj):
        return parameters(obj, drop_self=False)
    return None


def main():
    import keras

    table = {}
    for path in MODULES:
        module = importlib.import_module("keras" + ("." + path if path else ""))
        excluded = EXCLUDED.get(path, {})
        for name in sorted(dir(module)):
            if name.startswith("_") or name in excluded:
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            params = record(obj)
            if params is not None:
                table[f"{path}.{name}" if path else name] = params
    for dotted in METHOD_CLASSES:
        path, _, name = dotted.rpartition(".")
        cls = getattr(importlib.import_module("keras" + ("." + path if path else "")), name)
        for method in sorted(dir(cls)):
            attr = inspect.getattr_static(cls, method, None)
            if method.startswith("_") or not (
                inspect.isfunction(attr) or isinstance(attr, (staticmethod, classmethod))
            ):
                continue
            params = parameters(getattr(cls, method), drop_self=inspect.isfunction(attr))
            if params is not None:
                table[f"{dotted}.{method}"] = params
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"keras": keras.__version__, "signatures": table}, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"{len(table)} signatures of Keras {keras.__version__} written to {OUT}")


if __name__ == "__main__":
    main()
