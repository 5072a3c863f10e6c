"""shendu (深度): define-by-run autodiff over NumPy with the Keras API in front."""

from . import (
    activations,
    backend,
    blas,
    callbacks,
    config,
    constraints,
    data,
    datasets,
    distributed,
    dtype_policies,
    heap,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    scopes,
    tree,
    utils,
)
from .autograd import (
    Tensor,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)
from .backend import floatx, set_floatx, set_random_seed
from .config import DTypePolicy
from .initializers import Initializer
from .layers import Input, InputSpec, KerasTensor, Layer, Variable
from .losses import Loss
from .metrics import Metric
from .models import Model, Sequential
from .models.function import Function
from .ops.operation import Operation
from .optimizers import Optimizer
from .regularizers import Regularizer
from .scopes import StatelessScope, SymbolicScope, device, name_scope

FloatDTypePolicy = DTypePolicy


def remat(f):
    """Keras's rematerialization decorator: returns ``f`` (recomputing activations to save
    memory is a compiled-backend optimisation; shendu keeps them)."""
    return f


class RematScope:
    """Accepted for Keras code (see ``remat``): nothing changes inside the block."""

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        self.mode = mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


from .release import __version__  # noqa: E402


def version() -> str:
    """shendu's version (``keras.version()`` gives Keras's)."""
    return __version__


__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "Function",
    "Initializer",
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Operation",
    "Optimizer",
    "Regularizer",
    "RematScope",
    "StatelessScope",
    "SymbolicScope",
    "Variable",
    "config",
    "device",
    "name_scope",
    "random",
    "remat",
    "tree",
    "version",
    "Model",
    "Sequential",
    "Tensor",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "datasets",
    "distillation",
    "constraints",
    "enable_grad",
    "floatx",
    "grad",
    "heap",
    "initializers",
    "is_grad_enabled",
    "layers",
    "losses",
    "metrics",
    "models",
    "no_grad",
    "set_grad_enabled",
    "ops",
    "optimizers",
    "regularizers",
    "saving",
    "set_floatx",
    "set_random_seed",
    "tensor",
    "utils",
    "visualization",
]


_LAZY_SUBPACKAGES = (
    "applications",
    "distillation",
    "visualization",
)  # imported on first use: import time


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    """The module's names, the subpackages imported on first use included."""
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES))
