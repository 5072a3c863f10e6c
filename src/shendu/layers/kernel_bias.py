"""The kernel and bias weights shared by Dense and the convolution layers.

Both compute y = activation(x (*) kernel + bias); this mixin keeps their common
arguments (Keras names and defaults), creates the two weights, and serializes the arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import activations, constraints, initializers, ops, regularizers
from ..naming import serialize

# Hidden-layer activations fused into the linear/conv node. Not sigmoid or softmax: an output
# layer's sigmoid/softmax must stay visible so cross-entropy can use its logits (stability).
_FUSABLE = {ops.relu: "relu", activations.relu: "relu", ops.tanh: "tanh"}

_OPTIONS = (
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


class KernelBiasMixin:
    """``activation``, ``use_bias`` and the kernel/bias initializers, regularizers, constraints."""

    if TYPE_CHECKING:  # given by the Layer this is mixed into
        add_weight: Callable[..., Any]

    def _set_kernel_bias_options(
        self,
        activation,
        use_bias,
        kernel_initializer,
        bias_initializer,
        kernel_regularizer,
        bias_regularizer,
        kernel_constraint,
        bias_constraint,
    ):
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _add_kernel_and_bias(self, kernel_shape, bias_length):
        """Create ``self.kernel`` of ``kernel_shape`` and ``self.bias`` of ``bias_length``
        values (or of that shape, a tuple), None without use_bias."""
        self.kernel = self.add_weight(
            kernel_shape,
            self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (bias_length,) if isinstance(bias_length, int) else tuple(bias_length),
                self.bias_initializer,
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _fused_activation_name(self):
        """The name of the activation the op can apply inside its node, or None."""
        return _FUSABLE.get(self.activation)

    def _kernel_bias_config(self):
        config = {
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }
        config.update({name: serialize(getattr(self, name)) for name in _OPTIONS})
        return config
