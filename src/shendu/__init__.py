"""shendu (深度): define-by-run autodiff over NumPy with the Keras API in front."""

from . import (
    activations,
    backend,
    blas,
    callbacks,
    constraints,
    data,
    datasets,
    distributed,
    heap,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    regularizers,
    saving,
    utils,
)
from .autograd import Tensor, enable_grad, grad, is_grad_enabled, no_grad, tensor
from .backend import floatx, set_floatx, set_random_seed
from .models import Model, Sequential

heap.configure()  # keep freed array memory for reuse (see shendu.heap)
blas.configure()  # idle BLAS threads spin briefly, then free the cores (see shendu.blas)

__version__ = "0.1.0"

__all__ = [
    "Model",
    "Sequential",
    "Tensor",
    "activations",
    "backend",
    "callbacks",
    "datasets",
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
    "ops",
    "optimizers",
    "regularizers",
    "saving",
    "set_floatx",
    "set_random_seed",
    "tensor",
    "utils",
]
