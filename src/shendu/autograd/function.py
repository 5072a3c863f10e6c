"""``Function``: one node of the graph, with ``forward`` and ``backward`` on raw arrays.

A subclass implements

- ``forward(*xs)``: compute the outputs from raw arrays (NumPy or CuPy) and save
  on ``self`` what backward needs; return one array or a tuple of arrays;
- ``backward(*gys)``: given the gradient of the loss with respect to each output
  (raw arrays), return the gradient with respect to each input (``None`` where an
  input needs none);
- optionally ``backward_graph(*gys)``: the same gradient written with shendu ops
  on Tensors, so that it is itself differentiable (``create_graph=True``). Ops
  without it are first-order only and say so when asked for a second order.

``apply`` wraps the outputs in Tensors and records the node only when grad mode
is on and some input requires grad.

What a node keeps, in three parts:

- its settings: the attributes its constructor set (an axis, a rate, a layer it reads),
  which ``settings()`` returns and which a replayed step copies to run the op again;
- which inputs need a gradient: ``needs_input_grad`` and ``recording``, set by ``apply``;
- its saved arrays: the attributes ``forward`` adds for ``backward``, which ``release()``
  drops once backward has run (the settings stay).

Ops run inside ``autograd.capture.capturing(observer)`` are also passed to the observer
(their settings and outputs), which is how a training step is recorded for replay.
"""

from __future__ import annotations

from typing import Any

from ..annotations import Array, TensorLike
from .capture import current as _capture
from .mode import GRAD_ENABLED

_FLAGS = ("recording", "needs_input_grad")


class Function:
    """Base class of every differentiable op."""

    #: set by ``apply`` before ``forward``: True when the node will be recorded
    recording = False
    #: per input, whether its gradient is needed (set when recording)
    needs_input_grad: tuple = ()
    #: the input Tensors, kept while the node is in a graph (None once released). Typed
    #: Any: backward_graph reads them, where they are always there
    inputs: Any = None

    def forward(self, *xs: Array) -> Array | tuple[Array, ...]:
        raise NotImplementedError

    def backward(self, *gys: Array) -> Array | tuple[Array | None, ...] | None:
        raise NotImplementedError

    def backward_graph(self, *gys: Any) -> Any:
        """The input gradients from the output gradients ``gys``, as Tensors computed with
        shendu's ops (so that they can be differentiated again): a Tensor, or a tuple of
        Tensors and None (one per input)."""
        raise RuntimeError(
            f"{type(self).__name__} is first-order only: its backward is not differentiable "
            "(create_graph=True). Compose it from elementwise ops to get higher orders."
        )

    @property
    def name(self) -> str:
        return type(self).__name__

    def apply(self, *inputs: TensorLike) -> Any:
        """The op on ``inputs``: a Tensor, or a tuple of Tensors for an op of several
        outputs (typed Any: each op knows which it returns)."""
        arrays = []
        needs = []
        any_needs = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                r = x.requires_grad
                needs.append(r)
                any_needs = any_needs or r
            else:
                arrays.append(x)
                needs.append(False)
        record = any_needs and GRAD_ENABLED.get()
        if record:
            self.recording = True
            self.needs_input_grad = tuple(needs)
        self._n_kept = len(self.__dict__)  # settings and flags; forward adds the saved arrays
        observer = _capture.get()
        if observer is not None:  # a step being captured (autograd.capture)
            settings = self.settings()  # before forward adds the saved arrays
            ys = self.forward(*arrays)
            observer.record(self, inputs, settings, ys)
        else:
            ys = self.forward(*arrays)
        if isinstance(ys, tuple):
            self.n_outputs = len(ys)
            if record:
                self.inputs = inputs
                self.output_shapes = [(y.shape, y.dtype) for y in ys]
                return tuple(Tensor._from_op(y, self, i) for i, y in enumerate(ys))
            return tuple(Tensor.wrap(y) for y in ys)
        self.n_outputs = 1
        if record:
            self.inputs = inputs
            return Tensor._from_op(ys, self, 0)
        return Tensor.wrap(ys)

    def settings(self) -> dict:
        """The constructor's settings (what a replay copies), without the gradient flags
        and the saved arrays."""
        d = self.__dict__
        kept = list(d)[: d.get("_n_kept", len(d))]
        return {k: d[k] for k in kept if k not in _FLAGS and k != "_n_kept"}

    def release(self) -> None:
        """Drop the saved arrays (what forward added) and the input references once
        backward is done; the settings stay."""
        d = self.__dict__
        n_kept = d.get("_n_kept")
        if n_kept is not None:
            for key in list(d)[n_kept:]:
                if key != "n_outputs":
                    del d[key]
        self.inputs = None
        self.released = True


from .tensor import Tensor  # noqa: E402  (the two modules refer to each other)
