"""The engine: Tensor, Function, the backward walk and grad mode."""

from .engine import backward, grad
from .function import Function
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, tensor

__all__ = [
    "Function",
    "Tensor",
    "backward",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "tensor",
]
