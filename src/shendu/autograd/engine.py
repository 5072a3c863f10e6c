"""The backward engine: reverse-mode accumulation over the recorded graph.

The graph is walked without recursion. First a depth-first pass (with an explicit
stack) counts, for every node, how many edges lead into it from the nodes that
depend on it; then nodes are processed once all their consumers have passed
their gradient down (Kahn's algorithm in reverse). Gradients for a node's
outputs are summed in one list per node; gradients reaching leaves are
accumulated into ``leaf.grad``. Unless ``retain_graph`` is set, each node drops
its saved arrays and its inputs right after its backward ran, so the graph is
freed as the walk goes.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import backend
from ..annotations import TensorLike
from .mode import GRAD_ENABLED
from .tensor import Tensor


def _check_root(t, g, create_graph):
    if not isinstance(t, Tensor):
        raise TypeError(f"backward() expects Tensors as outputs. Received: {type(t).__name__}")
    if not t.requires_grad:
        raise RuntimeError(
            "backward(): the tensor does not require grad and has no graph "
            "(was it computed under no_grad, or from tensors without requires_grad=True?)"
        )
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(
                "backward() on a non-scalar tensor needs `grad` of the same shape. "
                f"Received: output shape={t.shape}, grad=None"
            )
        xp = backend.array_module(t.data)
        g = xp.ones_like(t.data)
    elif create_graph and isinstance(g, Tensor) and g.requires_grad:
        # the gradients become functions of ``g`` too (double-VJP tricks, e.g. ops.jvp)
        if g.shape != t.shape:
            raise ValueError(
                f"backward(): `grad` must have the output's shape {t.shape}. "
                f"Received: grad shape={g.shape}"
            )
        return g
    else:
        g = g.data if isinstance(g, Tensor) else g
        xp = backend.array_module(t.data)
        g = xp.asarray(g, dtype=t.data.dtype)
        if g.shape != t.shape:
            raise ValueError(
                f"backward(): `grad` must have the output's shape {t.shape}. "
                f"Received: grad shape={g.shape}"
            )
        g = g.copy()
    return Tensor.wrap(g) if create_graph else g


def _count_dependencies(roots):
    deps: dict[int, int] = {}
    stack = [t.creator for t in roots if t.creator is not None]
    seen = set(map(id, stack))
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or after its saved "
                "arrays were freed). Pass retain_graph=True to the first backward()."
            )
        for x in fn.inputs:
            if isinstance(x, Tensor):
                c = x.creator
                if c is not None:
                    deps[c] = deps.get(c, 0) + 1
                    if id(c) not in seen:
                        seen.add(id(c))
                        stack.append(c)
    return deps


def run_backward(
    roots: list[Tensor],
    root_grads: list,
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: dict | None = None,
) -> dict:
    """Propagate ``root_grads`` from ``roots`` down the graph.

    Without ``capture``, gradients are accumulated into the ``.grad`` of the leaves.
    With ``capture`` (a dict id(tensor) -> tensor), the gradients of those tensors are
    returned in a dict instead and no ``.grad`` is touched.
    """
    deps = _count_dependencies(roots)
    slots: dict = {}
    captured: dict = {}
    given_to_leaf: set = set()
    ready: list = []

    def deliver(x, g):
        """Add ``g`` to x's gradient: a leaf's .grad (or the captured dict of grad()),
        or the slot of the node that made x."""
        if capture is not None and id(x) in capture:
            prev = captured.get(id(x))
            captured[id(x)] = g if prev is None else prev + g
        c = x.creator
        if c is None:
            if capture is None:
                _accumulate_leaf(x, g, given_to_leaf, create_graph)
            return
        slot = slots.get(c)
        if slot is None:
            slot = slots[c] = [None] * c.n_outputs
        i = x.output_index
        slot[i] = g if slot[i] is None else slot[i] + g

    for t, g in zip(roots, root_grads):
        deliver(t, g)
    for t in roots:
        c = t.creator
        if c is not None and deps.get(c, 0) == 0 and c not in ready:
            ready.append(c)

    recording = GRAD_ENABLED.set(bool(create_graph))
    try:
        while ready:
            fn = ready.pop()
            gys = slots.pop(fn, None)
            if gys is None:  # nothing flowed here (e.g. only through an integer path)
                gxs = (None,) * len(fn.inputs)
            else:
                if len(gys) > 1 and any(g is None for g in gys):
                    gys = _fill_missing(fn, gys, create_graph)
                gxs = fn.backward_graph(*gys) if create_graph else fn.backward(*gys)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
            for x, gx in zip(fn.inputs, gxs):
                if not isinstance(x, Tensor):
                    continue
                c = x.creator
                if gx is not None and x.requires_grad:
                    if capture is not None:
                        deliver(x, gx)
                    elif c is None:
                        _accumulate_leaf(x, gx, given_to_leaf, create_graph)
                    else:  # deliver() inlined: the common case of every training step
                        slot = slots.get(c)
                        if slot is None:
                            slot = slots[c] = [None] * c.n_outputs
                        i = x.output_index
                        slot[i] = gx if slot[i] is None else slot[i] + gx
                if c is not None:
                    n = deps[c] - 1
                    deps[c] = n
                    if n == 0:
                        ready.append(c)
            if not retain_graph:
                fn.release()
    finally:
        GRAD_ENABLED.reset(recording)
    return captured


def _fill_missing(fn, gys, create_graph):
    """Zeros for outputs that received no gradient (e.g. an unused LSTM state)."""
    ref = next(g for g in gys if g is not None)
    out = list(gys)
    for i, g in enumerate(out):
        if g is None:
            shape, dtype = fn.output_shapes[i]
            xp = backend.array_module(ref.data if isinstance(ref, Tensor) else ref)
            z = xp.zeros(shape, dtype=dtype)
            out[i] = Tensor.wrap(z) if create_graph else z
    return out


def _accumulate_leaf(x, g, given, create_graph):
    if create_graph:
        x.grad = g if x.grad is None else x.grad + g
        return
    if x.grad is None:
        view = x.grad_buffer
        if view is not None and view.shape == g.shape:
            if g is not view:
                view[...] = g  # e.g. the optimizer's fused gradient buffer
            g = view
        elif id(g) in given or not g.flags.owndata:
            g = g.copy()
        given.add(id(g))
    elif x.grad.data is x.grad_buffer and g.shape == x.grad_buffer.shape:
        x.grad.data += g  # a second contribution, summed in the buffer (as PyTorch's .grad)
        return
    else:
        g = x.grad.data + g
        given.add(id(g))
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)
    x.grad = Tensor.wrap(g)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: TensorLike | Sequence[TensorLike] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad``."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor) or not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    gs = [_check_root(t, g, create_graph) for t, g in zip(tensors, grad_tensors)]
    run_backward(tensors, gs, retain_graph=retain_graph or create_graph, create_graph=create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: TensorLike | Sequence[TensorLike] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) as a tuple of Tensors, leaving every ``.grad`` untouched.

    ``grad_outputs`` weights each output (required for non-scalar outputs). With
    ``create_graph=True`` the returned gradients are themselves differentiable.
    """
    output_list: list[Tensor] = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs_list: list[Tensor] = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for x in inputs_list:
        if not isinstance(x, Tensor):
            raise TypeError(f"grad() expects Tensors as inputs. Received: {type(x).__name__}")
        if not x.requires_grad:
            raise RuntimeError("grad(): one of the inputs does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(output_list)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    gs = [_check_root(t, g, create_graph) for t, g in zip(output_list, grad_outputs)]
    capture = {id(x): x for x in inputs_list}
    captured = run_backward(
        output_list,
        gs,
        retain_graph=retain_graph or create_graph,
        create_graph=create_graph,
        capture=capture,
    )
    result: list[Tensor | None] = []
    for x in inputs_list:
        g = captured.get(id(x))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "grad(): one of the inputs was not used to compute the outputs. "
                    "Pass allow_unused=True to get None for it."
                )
            result.append(None)
        else:
            result.append(g if isinstance(g, Tensor) else Tensor.wrap(g))
    return tuple(result)
