"""Layers that merge a list of inputs: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from .base import Layer
from .shapes import broadcast


class _Merge(Layer):
    replay_safe = True  # see Layer.replay_safe

    def _merge(self, a, b):
        """Two inputs merged into one (each merge layer defines it)."""
        raise NotImplementedError

    def _expects_list(self):
        return True

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) should be called on a list of at "
                f"least 2 inputs. Received: {type(inputs).__name__}"
                + (f" of length {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
            )

    def call(self, inputs):
        self._check(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out

    def compute_mask(self, inputs, mask=None):
        """The inputs' masks combined: a step is kept where every masked input keeps it
        (inputs without a mask keep every step), as Keras combines them."""
        masks = [_mask_array(m) for m in (mask or []) if m is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = np.logical_and(out, m)
        return out

    def compute_output_shape(self, input_shape):
        """The inputs' shapes broadcast together (NumPy's rule)."""
        self._check(input_shape)
        out = tuple(input_shape[0])
        for shape in input_shape[1:]:
            out = broadcast(out, shape, f"Layer {self.name!r}")
        return out


class Add(_Merge):
    """Elementwise sum of the inputs."""

    def _merge(self, a, b):
        return ops.add(a, b)


class Subtract(_Merge):
    """inputs[0] - inputs[1] (exactly two inputs)."""

    def call(self, inputs):
        self._check(inputs)
        if len(inputs) != 2:
            raise ValueError(
                f"Layer {self.name!r} (Subtract) expects exactly 2 inputs. Received: {len(inputs)}"
            )
        return ops.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def _merge(self, a, b):
        return ops.multiply(a, b)


class Average(Add):
    """Elementwise mean of the inputs."""

    def _finish(self, out, n):
        return out / n


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    def _merge(self, a, b):
        return ops.maximum(a, b)


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    def _merge(self, a, b):
        return ops.minimum(a, b)


class Concatenate(_Merge):
    """Concatenation of the inputs along ``axis`` (default -1).

    Args:
        axis: the axis joined along.
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        self._check(inputs)
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: each input's mask broadcast over the input (all True for an input
        without one), concatenated along ``axis``, then any-reduced over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            shape = tuple(x.shape)
            if m is None:
                full.append(np.ones(shape, dtype=bool))
                continue
            m = _mask_array(m)
            if m.ndim < len(shape):
                m = np.broadcast_to(m.reshape(m.shape + (1,) * (len(shape) - m.ndim)), shape)
            full.append(m)
        return np.any(np.concatenate(full, axis=self.axis), axis=-1)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ValueError(
                f"Layer {self.name!r}: a Concatenate layer requires inputs of one rank. "
                f"Received: input_shape={shapes}"
            )
        axis = self.axis % rank
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot product of two inputs along ``axes`` (batched), optionally L2-normalised (cosine)."""

    def compute_mask(self, inputs, mask=None):
        return None  # a dot product has no steps left to mask (as Keras)

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes, self.normalize = axes, normalize

    def call(self, inputs):
        self._check(inputs)
        a, b = inputs
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        axes = tuple(ax % t.ndim for ax, t in zip(axes, (a, b)))
        if self.normalize:
            a = a / (ops.norm(a, axis=axes[0], keepdims=True) + 1e-12)
            b = b / (ops.norm(b, axis=axes[1], keepdims=True) + 1e-12)
        a = ops.moveaxis(a, axes[0], -1)
        b = ops.moveaxis(b, axes[1], 1)
        batch, k = a.shape[0], a.shape[-1]
        a_free, b_free = a.shape[1:-1], b.shape[2:]
        result = ops.matmul(ops.reshape(a, (batch, -1, k)), ops.reshape(b, (batch, k, -1)))
        result = ops.reshape(result, (batch,) + a_free + b_free)
        if result.ndim == 1:
            result = ops.reshape(result, (-1, 1))
        return result

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        a, b = (tuple(s) for s in input_shape)
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        ax_a, ax_b = axes[0] % len(a), axes[1] % len(b)
        a_free = tuple(d for i, d in enumerate(a) if i not in (0, ax_a))
        b_free = tuple(d for i, d in enumerate(b) if i not in (0, ax_b))
        out = (a[0],) + a_free + b_free
        return out if len(out) > 1 else (a[0], 1)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """The functional form of ``Dot``: ``Dot(axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)


def _mask_array(mask):
    """A mask as a boolean NumPy array (masks travel as arrays; a Tensor is accepted)."""
    return np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
