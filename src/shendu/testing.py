"""Gradient checks against central finite differences, for our ops and for users' own.

``gradcheck(fn, inputs)`` compares the backward pass of ``fn`` with
(f(x + eps e) - f(x - eps e)) / (2 eps) in float64. For small problems it checks
the full Jacobian (one backward per output element, one pair of evaluations per
input element); for large ones it checks random projections u^T J v.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .autograd import Tensor, grad

_FULL_LIMIT = 64  # at most this many output (input) elements for the full Jacobian


def _as_inputs(inputs):
    if isinstance(inputs, (Tensor, np.ndarray)) or np.isscalar(inputs):
        inputs = (inputs,)
    out = []
    for x in inputs:
        a = x.data if isinstance(x, Tensor) else x
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(np.array(a, dtype=np.float64))
        else:
            out.append(a)
    return out


def _outputs(fn, arrays, requires):
    ts = [Tensor(a, requires_grad=True) if r else a for a, r in zip(arrays, requires)]
    y = fn(*ts)
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    return ts, [v for v in ys if isinstance(v, Tensor) and v.dtype.kind == "f"]


def _scalar(ys, us):
    return sum(float(np.sum(y.data.astype(np.float64) * u)) for y, u in zip(ys, us))


def _numeric_along(fn, arrays, requires, i, direction, us, eps):
    plus = list(arrays)
    minus = list(arrays)
    plus[i] = arrays[i] + eps * direction
    minus[i] = arrays[i] - eps * direction
    _, yp = _outputs(fn, plus, requires)
    _, ym = _outputs(fn, minus, requires)
    return (_scalar(yp, us) - _scalar(ym, us)) / (2 * eps)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check the gradients of ``fn`` at ``inputs`` in float64.

    Args:
        fn: a function of Tensors returning a Tensor (or a tuple of Tensors).
        inputs: arrays or Tensors; every float array is checked.
        eps: the step of the central finite differences.
        atol: the absolute tolerance.
        rtol: the tolerance relative to the numeric gradient.
        seed: the seed of the random output weights (each output is contracted with one).
        raise_exception: raise on a mismatch (False: return False).

    Returns:
        True when every checked entry agrees within ``atol + rtol * |numeric|``.
    Raises:
        AssertionError naming the input and the largest mismatch (when
        ``raise_exception``).
    """
    rng = np.random.default_rng(seed)
    arrays = _as_inputs(inputs)
    requires = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    _, ys = _outputs(fn, arrays, requires)
    n_out = sum(y.size for y in ys)
    if n_out == 0:
        return True
    if n_out <= _FULL_LIMIT:
        projections = []
        for k in range(n_out):
            flat = np.zeros(n_out)
            flat[k] = 1.0
            projections.append(flat)
    else:
        projections = [rng.standard_normal(n_out) for _ in range(2)]
    for flat in projections:
        us, start = [], 0
        for y in ys:
            us.append(flat[start : start + y.size].reshape(y.shape))
            start += y.size
        ts, ys_t = _outputs(fn, arrays, requires)
        leaves = [t for t, r in zip(ts, requires) if r]
        if not leaves:
            return True
        total = None
        for y, u in zip(ys_t, us):
            if not y.requires_grad:
                continue
            term = (y * Tensor(u.astype(y.dtype))).sum()
            total = term if total is None else total + term
        if total is None:
            grads: Sequence[Tensor | None] = [None] * len(leaves)
        else:
            grads = grad(total, leaves, allow_unused=True)
        li = 0
        for i, (a, r) in enumerate(zip(arrays, requires)):
            if not r:
                continue
            g = grads[li]
            li += 1
            analytic = np.zeros_like(a) if g is None else np.asarray(g.data, dtype=np.float64)
            if a.size <= _FULL_LIMIT:
                numeric = np.zeros(a.size)
                for j in range(a.size):
                    e = np.zeros(a.size)
                    e[j] = 1.0
                    numeric[j] = _numeric_along(
                        fn, arrays, requires, i, e.reshape(a.shape), us, eps
                    )
                numeric = numeric.reshape(a.shape)
                bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
                if bad.any():
                    if raise_exception:
                        worst = np.argmax(np.abs(analytic - numeric))
                        at = tuple(int(k) for k in np.unravel_index(worst, a.shape))
                        raise AssertionError(
                            f"gradcheck: input {i} (shape {a.shape}) disagrees at {at}: "
                            f"analytic {float(analytic[at]):.6g} vs numeric "
                            f"{float(numeric[at]):.6g}"
                        )
                    return False
            else:
                for _ in range(3):
                    v = rng.standard_normal(a.shape)
                    num = _numeric_along(fn, arrays, requires, i, v, us, eps)
                    ana = float(np.sum(analytic * v))
                    if abs(ana - num) > atol + rtol * abs(num):
                        if raise_exception:
                            raise AssertionError(
                                f"gradcheck: input {i} (shape {a.shape}) projection "
                                f"disagrees: analytic {ana!r} vs numeric {num!r}"
                            )
                        return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of x -> d(sum(u * fn(x)))/dx with create_graph."""
    rng = np.random.default_rng(seed + 1)
    arrays = _as_inputs(inputs)
    requires = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    _, ys = _outputs(fn, arrays, requires)
    us = [rng.standard_normal(y.shape) for y in ys]

    def first_grads(*xs):
        leaves = [x for x, r in zip(xs, requires) if r]
        out = fn(*xs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        total = None
        for y, u in zip(outs, us):
            term = (y * Tensor(u.astype(y.dtype))).sum()
            total = term if total is None else total + term
        if total is None:
            return ()
        gs = grad(total, leaves, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, arrays, eps=eps, atol=atol, rtol=rtol, seed=seed)


def _check_shape_rule(layer_cls, init_kwargs, layer, input_shape, input_dtype, outs):
    """The layer's stated shape rule agrees with what it computed, and a copy built by the
    rule alone (as the loaders build, under allocation limits) has the same weights."""
    from .layers.allocation import allocation_limits
    from .layers.symbolic import KerasTensor, symbolic_call

    batchless = (None,) + tuple(input_shape[1:])
    actual = [(None,) + tuple(o.shape[1:]) for o in outs]
    rule = layer.compute_output_shape(batchless)
    rule = rule if isinstance(rule, list) else [rule]
    assert [tuple(s) for s in rule] == actual, f"shape rule {rule} != computed {actual}"
    fresh = layer_cls(**init_kwargs)
    with allocation_limits(weight_bytes=1 << 40, max_tensor_bytes=1 << 40):
        symbolic = symbolic_call(fresh, (KerasTensor(batchless, input_dtype),), {})
    symbolic = symbolic if isinstance(symbolic, (list, tuple)) else [symbolic]
    assert [t.shape for t in symbolic] == actual, "symbolic build: wrong output shapes"
    assert [w.shape for w in fresh.weights] == [w.shape for w in layer.weights], (
        "a layer built by its shape rule has other weights than one built by a call"
    )


def run_layer_test(
    layer_cls,
    init_kwargs=None,
    input_shape=(2, 3),
    input_dtype="float32",
    input_data=None,
    expected_output_shape=None,
    expected_output_dtype=None,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    expected_weight_shapes=None,
    call_kwargs=None,
    supports_training=True,
    seed=0,
):
    """Exercise a layer the same way every time (like Keras's ``run_layer_test``).

    Checks: build on first call, output shape and dtype, weight counts and shapes,
    config round trip (same config; same output with the same weights), and one
    training step that changes every trainable weight. Returns the layer's output.
    """
    from . import backend as _backend
    from . import optimizers
    from .autograd import no_grad

    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    rng = np.random.default_rng(seed)
    if input_data is None:
        if np.dtype(input_dtype).kind in "iu":
            input_data = rng.integers(0, 5, size=input_shape).astype(input_dtype)
        else:
            input_data = rng.standard_normal(input_shape).astype(input_dtype)
    layer = layer_cls(**init_kwargs)
    assert not layer.built or not layer.weights, f"{layer_cls.__name__} built before a call"
    with no_grad():
        out = layer(input_data, **call_kwargs)
    assert layer.built, f"{layer_cls.__name__} is not built after its first call"
    outs = out if isinstance(out, (list, tuple)) else [out]
    if expected_output_shape is not None:
        shapes = [tuple(o.shape) for o in outs]
        expected = (
            expected_output_shape
            if isinstance(expected_output_shape, list)
            else [tuple(expected_output_shape)]
        )
        assert shapes == [tuple(s) for s in expected], f"output shapes {shapes} != {expected}"
    dtype = expected_output_dtype or (
        _backend.floatx() if np.dtype(input_dtype).kind == "f" else None
    )
    if dtype is not None:
        assert all(o.dtype == np.dtype(dtype) for o in outs), [o.dtype for o in outs]
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights, (
            f"{len(layer.trainable_weights)} trainable weights, expected "
            f"{expected_num_trainable_weights}"
        )
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    if expected_weight_shapes is not None:
        assert [tuple(w.shape) for w in layer.weights] == [
            tuple(s) for s in expected_weight_shapes
        ]
    if layer.has_shape_rule() and not call_kwargs:
        _check_shape_rule(layer_cls, init_kwargs, layer, input_shape, input_dtype, outs)
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "config does not round-trip"
    with no_grad():
        again = clone(input_data, **call_kwargs)  # a seeded random layer: the same first draw
    if layer.weights:
        clone.set_weights(layer.get_weights())
        with no_grad():
            again = clone(input_data, **call_kwargs)
    agains = again if isinstance(again, (list, tuple)) else [again]
    for a, b in zip(outs, agains):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    if supports_training and layer.trainable_weights:
        before = [w.numpy().copy() for w in layer.trainable_weights]
        opt = optimizers.SGD(0.1)
        step_kwargs = dict(call_kwargs)
        if layer.call_has_training:
            step_kwargs.setdefault("training", True)
        result = layer(input_data, **step_kwargs)
        results = result if isinstance(result, (list, tuple)) else [result]
        loss = sum((r * r).sum() for r in results if r.dtype.kind == "f")
        for extra in layer.losses:
            loss = loss + extra
        loss.backward()
        opt.apply([w.grad for w in layer.trainable_weights], layer.trainable_weights)
        changed = [
            not np.array_equal(b, w.numpy()) for b, w in zip(before, layer.trainable_weights)
        ]
        assert any(changed), "a training step changed no trainable weight"
    return out
