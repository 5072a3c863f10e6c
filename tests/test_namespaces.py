"""No public namespace hides a Keras function behind a module of the same name (as
``shendu.ops.shape`` once did: ``keras.ops.shape(x)`` failed with "module is not callable").

The first test needs nothing: each namespace's module-valued names are either Keras's own
submodules or implementation modules Keras has no name for. The second, where Keras is
installed (the oracle environment), compares every shared name's kind with Keras's.
"""

import importlib
import os
import types

import pytest

NAMESPACES = [
    "",
    "ops",
    "ops.numpy",
    "ops.nn",
    "ops.linalg",
    "ops.image",
    "random",
    "config",
    "tree",
    "backend",
    "utils",
    "saving",
    "models",
    "initializers",
    "constraints",
    "activations",
    "regularizers",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "optimizers.schedules",
    "callbacks",
]

#: Keras function or class names that shendu must not hold as modules, per namespace
KERAS_CALLABLES = {
    "ops": ["shape", "dtype", "cast", "slice", "split"],
    "ops.numpy": ["size", "sort", "split", "where", "take"],
    "ops.nn": ["normalize", "softmax", "conv", "one_hot"],
    "utils": ["normalize", "to_categorical", "Progbar", "plot_model"],
    "layers": ["Input", "Layer", "Dense", "Normalization"],
    "losses": ["Loss", "mean_squared_error"],
    "metrics": ["Metric", "Mean"],
    "optimizers": ["Optimizer", "Adam"],
    "callbacks": ["Callback", "History"],
    "backend": ["floatx", "epsilon", "clear_session"],
}


def _module(prefix, path):
    return importlib.import_module(prefix + ("." + path if path else ""))


@pytest.mark.parametrize("path", sorted(KERAS_CALLABLES))
def test_keras_callables_are_not_modules(path):
    namespace = _module("shendu", path)
    for name in KERAS_CALLABLES[path]:
        value = getattr(namespace, name)
        assert not isinstance(value, types.ModuleType), f"shendu.{path}.{name} is a module"
        assert callable(value), f"shendu.{path}.{name} is not callable"


def test_names_shared_with_keras_have_keras_kind():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    wrong = []
    for path in NAMESPACES:
        ours, theirs = _module("shendu", path), _module("keras", path)
        for name in dir(theirs):
            if name.startswith("_") or not hasattr(ours, name):
                continue
            k_is_module = isinstance(getattr(theirs, name), types.ModuleType)
            s_is_module = isinstance(getattr(ours, name), types.ModuleType)
            if k_is_module != s_is_module:
                wrong.append(f"{path}.{name}")
    assert not wrong, f"kind differs from Keras {keras.__version__}: {wrong}"
