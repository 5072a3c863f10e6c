"""Symbolic tensors for the functional API: ``Input``, ``InputLayer``, ``KerasTensor``, ``Node``.

Calling a layer on KerasTensors records a ``Node`` (the layer, its arguments with
KerasTensors in place, and the output KerasTensors). The output shapes are found
by running the layer on zeros twice, with every unknown dimension set to 1 and
then to 2: dimensions that differ between the two runs are unknown (None). This
works for any layer, user layers included, without a symbolic shape language.

While a model is rebuilt from a file (``shendu.layers.allocation``), layers that state
their shape rule (``Layer.has_shape_rule``: every built-in layer) are not run: their
outputs come from ``compute_output_spec`` and each is checked against the loader's
limits, so that building costs no arithmetic and allocates nothing but the weights.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor
from . import allocation
from .base import Layer, _flatten, unique_name


class KerasTensor:
    """A placeholder with a shape (None for unknown), a dtype and the node that made it."""

    def __init__(self, shape, dtype=None, name=None, node=None, index=0, has_mask=False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype or backend.floatx())
        self.name = name
        self.node = node
        self.index = index
        self.has_mask = has_mask

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def _unsupported(self, *args, **kwargs):
        raise TypeError(
            "Ops on symbolic inputs of a functional model must go through layers. "
            "Wrap the computation in a layer, e.g. shendu.layers.Lambda(lambda t: ...)(x)."
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unsupported
    __truediv__ = __rtruediv__ = __matmul__ = __pow__ = __neg__ = __getitem__ = _unsupported
    __array_ufunc__ = None


class Node:
    """One call of a layer inside a functional graph."""

    def __init__(self, layer, args, kwargs, outputs):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs

    @property
    def input_tensors(self):
        return [
            t
            for t in _flatten([self.args, list(self.kwargs.values())])
            if isinstance(t, KerasTensor)
        ]


class InputLayer(Layer):
    """The entry of a functional model; holds the input's shape and dtype."""

    replay_safe = True

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        name=None,
        batch_shape=None,
        sparse=False,
        input_shape=None,
        **kwargs,
    ):
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is not None:
            shape, batch_size = tuple(batch_shape)[1:], tuple(batch_shape)[0]
        if shape is None:
            raise ValueError("InputLayer: `shape` is required (the input shape without batch)")
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(None if s is None else int(s) for s in shape)
        if any(s is not None and s < 0 for s in shape):
            raise ValueError(
                f"InputLayer: dimensions must be non-negative. Received: shape={shape}"
            )
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        limits = allocation.active()
        if limits is not None:
            limits.check_tensor(f"Input {self.name!r}", (batch_size,) + shape, self.dtype)
        self.batch_shape = (batch_size,) + shape
        self.built = True
        self.output = KerasTensor(
            self.batch_shape, self.dtype, name=self.name, node=Node(self, (), {}, None)
        )
        self.output.node.outputs = [self.output]

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, sparse=False):  # noqa: N802
    """A symbolic input for the functional API: ``x = Input(shape=(4,))``."""
    return InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape
    ).output


def _replace(structure, fn):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_replace(v, fn) for v in structure)
    if isinstance(structure, dict):
        return {k: _replace(v, fn) for k, v in structure.items()}
    return fn(structure)


def _concrete(structure, fill):
    def make(t):
        if isinstance(t, KerasTensor):
            shape = tuple(fill if s is None else s for s in t.shape)
            if t.dtype.kind in "iu":
                return Tensor._wrap(np.zeros(shape, dtype=t.dtype))
            return Tensor._wrap(np.zeros(shape, dtype=t.dtype))
        return t

    return _replace(structure, make)


def _run(layer, args, kwargs, fill):
    cargs = _concrete(args, fill)
    ckwargs = _concrete(kwargs, fill)
    if "training" in ckwargs or layer._call_has_training:
        ckwargs.setdefault("training", False)
    with no_grad():
        return layer(*cargs, **ckwargs)


def symbolic_call(layer, args, kwargs):
    """Call ``layer`` on KerasTensors: record a Node and return output KerasTensors."""
    limits = allocation.active()
    if limits is not None and layer.has_shape_rule():
        return _static_call(layer, args, kwargs, limits)
    if limits is not None:  # a registered user layer: run on zeros, from inputs within limits
        for t in _flatten([args, list(kwargs.values())]):
            if isinstance(t, KerasTensor):
                limits.check_tensor(f"Layer {layer.name!r}", t.shape, t.dtype)
    out1 = _run(layer, args, kwargs, 1)
    out2 = _run(layer, args, kwargs, 2)
    layer._clear_losses()  # the dry runs' penalties are not part of any loss
    flat1, flat2 = _flatten(out1), _flatten(out2)
    node = Node(layer, args, kwargs, None)
    outputs = []
    for i, (a, b) in enumerate(zip(flat1, flat2)):
        shape = tuple(s if s == t else None for s, t in zip(a.shape, b.shape))
        if len(a.shape) != len(b.shape):
            shape = tuple(None for _ in a.shape)
        outputs.append(
            KerasTensor(
                shape,
                a.dtype,
                name=f"{layer.name}_out{i}",
                node=node,
                index=i,
                has_mask=a._keras_mask is not None,
            )
        )
    node.outputs = outputs
    it = iter(outputs)
    return _replace(out1, lambda _: next(it))


def _static_call(layer, args, kwargs, limits):
    """symbolic_call without running the layer: its stated shape rule, checked first."""
    out = layer.compute_output_spec(*args, **kwargs)
    node = Node(layer, args, kwargs, None)
    outputs = []
    for i, t in enumerate(_flatten(out)):
        limits.check_tensor(f"Layer {layer.name!r}", t.shape, t.dtype)
        outputs.append(
            KerasTensor(t.shape, t.dtype, name=f"{layer.name}_out{i}", node=node, index=i)
        )
    node.outputs = outputs
    it = iter(outputs)
    return _replace(out, lambda _: next(it))


def infer_output_shape(layer, input_shape):
    """Output shape of ``layer`` for ``input_shape`` (None for unknown dims), by two dry runs."""
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
        inputs = [KerasTensor(tuple(s)) for s in input_shape]
        out = symbolic_call(layer, (inputs,), {})
    else:
        out = symbolic_call(layer, (KerasTensor(tuple(input_shape)),), {})
    return _replace(out, lambda t: t.shape)


def source_inputs(tensor):
    """The InputLayer outputs (``Input`` tensors) that ``tensor`` depends on, in order."""
    out, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen or not isinstance(t, KerasTensor):
            continue
        seen.add(id(t))
        node = t.node
        if node is None or isinstance(node.layer, InputLayer):
            out.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return out
