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
"""

from __future__ import annotations

from threading import get_ident

from .mode import _GradMode

#: the models.step_replay.Recorder of a training step being recorded, else None
_recorder = None


class Function:
    """Base class of every differentiable op."""

    #: set by ``apply`` before ``forward``: True when the node will be recorded
    recording = False
    #: per input, whether its gradient is needed (set when recording)
    needs_input_grad: tuple = ()
    inputs: tuple | None = None

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError

    def backward_graph(self, *gys):
        raise RuntimeError(
            f"{type(self).__name__} is first-order only: its backward is not differentiable "
            "(create_graph=True). Compose it from elementwise ops to get higher orders."
        )

    @property
    def name(self) -> str:
        return type(self).__name__

    def apply(self, *inputs):
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
        record = any_needs and _GradMode.enabled
        if record:
            self.recording = True
            self.needs_input_grad = tuple(needs)
        recorder = _recorder
        if recorder is not None and recorder.thread == get_ident():
            # a training step being recorded (models.step_replay)
            state = dict(self.__dict__)
            ys = self.forward(*arrays)
            recorder.entries.append((self, inputs, state, ys))
        else:
            ys = self.forward(*arrays)
        if isinstance(ys, tuple):
            self.n_outputs = len(ys)
            if record:
                self.inputs = inputs
                self.output_shapes = [(y.shape, y.dtype) for y in ys]
                return tuple(Tensor._from_op(y, self, i) for i, y in enumerate(ys))
            return tuple(Tensor._wrap(y) for y in ys)
        self.n_outputs = 1
        if record:
            self.inputs = inputs
            return Tensor._from_op(ys, self, 0)
        return Tensor._wrap(ys)

    def release(self) -> None:
        """Drop the saved arrays and the input references once backward is done."""
        n = self.n_outputs
        self.__dict__.clear()
        self.n_outputs = n
        self.inputs = None
        self.released = True


from .tensor import Tensor  # noqa: E402  (the two modules refer to each other)
