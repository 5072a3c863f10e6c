"""shendu (深度): define-by-run autodiff over NumPy with the Keras API in front."""

from . import backend, ops
from .autograd import Tensor, enable_grad, grad, is_grad_enabled, no_grad, tensor
from .backend import floatx, set_floatx, set_random_seed

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "backend",
    "enable_grad",
    "floatx",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "ops",
    "set_floatx",
    "set_random_seed",
    "tensor",
]
