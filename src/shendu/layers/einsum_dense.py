"""``EinsumDense``: a dense layer written as an einsum, y = activation(einsum(equation, x,
W) + b), with the kernel's and bias's shapes read off the equation as Keras reads them
(``...`` stands for axes carried through, on the left or the right of the input)."""

from __future__ import annotations

import re

from .. import activations, ops
from .base import Layer
from .kernel_bias import KernelBiasMixin


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """(kernel shape, bias shape or None, full output shape) for ``equation`` on inputs of
    ``input_shape``, ``output_shape`` given without the batch axis (None for unknown)."""
    replaced = equation.replace("...", "0")
    patterns = (
        (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", None),
        (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", "left"),
        (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", "right"),
    )
    found = [(re.match(p, replaced), side) for p, side in patterns]
    match, elided_side = next(((m, side) for m, side in found if m), (None, None))
    if match is None:
        raise ValueError(
            f"Invalid einsum equation {equation!r}. Equations must be in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    input_spec, weight_spec, output_spec = match.groups()
    input_shape = list(input_shape)
    elided = len(input_shape) - len(input_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and elided_side == "left":  # the carried axes, in order
        out[1:1] = input_shape[1:elided]
    elif elided > 0 and elided_side == "right":
        for i in range(len(input_shape) - elided, len(input_shape)):
            out.append(input_shape[i])
    if elided_side == "left":
        in_map = {d: (i + elided) - len(input_shape) for i, d in enumerate(input_spec)}
        out_map = {d: (i + elided) - len(out) for i, d in enumerate(output_spec)}
    else:
        in_map = {d: i for i, d in enumerate(input_spec)}
        out_map = {d: i for i, d in enumerate(output_spec)}
    for d in input_spec:  # an output axis left None takes the input's size (as Keras)
        if d in out_map and out[out_map[d]] is None:
            out[out_map[d]] = input_shape[in_map[d]]
    for d in input_spec:
        if d in out_map and out[out_map[d]] is not None:
            if out[out_map[d]] != input_shape[in_map[d]]:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension {d!r}. "
                    f"Input shape is {input_shape[in_map[d]]}, and output shape is "
                    f"{out[out_map[d]]}."
                )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(
                f"Dimension {d!r} was specified in the output {output_spec!r} but has no "
                f"corresponding dim in the input spec {input_spec!r} or weight spec "
                f"{weight_spec!r}"
            )
    kernel = []
    for d in weight_spec:
        if d in in_map:
            kernel.append(input_shape[in_map[d]])
        elif d in out_map:
            kernel.append(out[out_map[d]])
        else:
            raise ValueError(
                f"Weight dimension {d!r} did not have a match in either the input spec "
                f"{input_spec!r} or the output spec {output_spec!r}. For this layer, the "
                "weight must be fully specified."
            )
    bias = None
    if bias_axes is not None:
        for d in bias_axes:
            if d not in output_spec:
                raise ValueError(
                    f"Bias dimension {d!r} was requested, but is not part of the output "
                    f"spec {output_spec!r}"
                )
        first = min(output_spec.find(d) for d in bias_axes)
        sizes = {d: out[out_map[d]] for d in output_spec}
        bias = [sizes[d] if d in bias_axes else 1 for d in output_spec[first:]]
        if elided_side != "left":
            bias += [1] * max(elided, 0)
    return kernel, bias, out


class EinsumDense(KernelBiasMixin, Layer):
    """y = activation(einsum(equation, x, kernel) + bias), e.g. ``"abc,cd->abd"`` (a
    Dense over the last axis of a sequence) or ``"abc,cde->abde"`` (attention heads)."""

    replay_safe = True

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        kwargs.pop("lora_rank", None), kwargs.pop("lora_alpha", None)  # Keras-only (LoRA)
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        self._set_kernel_bias_options(
            activation,
            bias_axes is not None,  # the bias follows the axes it is given
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )

    def build(self, input_shape):
        kernel, bias, out = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        self.full_output_shape = tuple(out)
        self._add_kernel_and_bias(tuple(kernel), bias)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )[2])  # fmt: skip

    def call(self, inputs):
        y = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y) if self.activation is not activations.linear else y

    def get_config(self):
        config = self._kernel_bias_config()
        del config["use_bias"]  # Keras's EinsumDense has bias_axes instead
        return {
            **super().get_config(),
            "equation": self.equation,
            "output_shape": list(self.partial_output_shape),
            "bias_axes": self.bias_axes,
            **config,
        }
