"""The engine: graph freeing, deep graphs, accumulation, grad modes, grad(), errors."""

import gc
import weakref

import numpy as np
import pytest

import shendu
from shendu import ops


def test_backward_frees_the_graph():
    x = shendu.tensor(np.ones(4), requires_grad=True)
    h = x * 2
    refs = [weakref.ref(h)]
    y = ops.exp(h)
    refs.append(weakref.ref(y))
    loss = y.sum()
    fn_ref = weakref.ref(loss.creator)
    del h, y
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs)
    assert loss.creator is fn_ref() and loss.creator.inputs is None


def test_no_grad_keeps_nothing():
    x = shendu.tensor(np.ones(4), requires_grad=True)
    with shendu.no_grad():
        y = ops.exp(x * 2)
    assert not y.requires_grad and y.creator is None
    with shendu.no_grad():
        with shendu.enable_grad():
            z = x * 2
    assert z.requires_grad and shendu.is_grad_enabled()

    @shendu.no_grad()
    def f(v):
        return v * 3

    assert not f(x).requires_grad


def test_chain_of_10000_ops_backprops_without_recursion():
    x = shendu.tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10000], rtol=1e-4)


def test_reused_tensor_accumulates_and_broadcast_is_undone():
    x = shendu.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)  # (1, 3)
    b = shendu.tensor(np.ones((4, 1)), requires_grad=True)  # (4, 1)
    y = (x * x + x * b).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * (2 * x.numpy() + 1))
    assert b.grad.shape == (4, 1)
    np.testing.assert_allclose(b.grad.numpy(), np.full((4, 1), 6.0))


def test_grad_accumulates_across_backward_calls_and_aliasing_is_safe():
    a = shendu.tensor(np.ones(3), requires_grad=True)
    b = shendu.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    a.grad.data += 1
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1, 1])
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4, 4, 4])


def test_backward_twice_is_bit_identical():
    rng = np.random.default_rng(0)
    w = shendu.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    grads = []
    for _ in range(2):
        w.grad = None
        ops.softmax(ops.tanh(x @ w)).sum().backward()
        grads.append(w.grad.numpy().copy())
    assert np.array_equal(grads[0], grads[1])


def test_backward_errors():
    x = shendu.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"non-scalar tensor needs `grad` .*Received: output shape=\(3,\)"
    ):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"`grad` must have the output's shape \(3,\)"):
        (x * 2).backward(np.ones(4))
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        shendu.tensor(np.ones(2)).sum().backward()
    with pytest.raises(TypeError, match="Only floating point tensors can require gradients"):
        shendu.tensor(np.ones(2, dtype=np.int64), requires_grad=True)


def test_retain_graph_allows_second_backward():
    x = shendu.tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4, 4])


def test_grad_function_leaves_dot_grad_untouched_and_unused_inputs():
    x = shendu.tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = shendu.tensor(np.array([1.0]), requires_grad=True)
    (g,) = shendu.grad((x**3).sum(), x)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="was not used to compute the outputs"):
        shendu.grad((x * 2).sum(), [x, z])
    gx, gz = shendu.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None
    h = x * 3
    (gh,) = shendu.grad((h * h).sum(), h)  # non-leaf input
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_hessian_vector_product_and_gradient_penalty():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    a = a + a.T
    x = shendu.tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    f = 0.5 * (x * ops.matmul(a, x)).sum() + ops.sum(ops.sin(x))
    (g,) = shendu.grad(f, x, create_graph=True)
    (hv,) = shendu.grad((g * v).sum(), x)
    expected = a @ v - np.sin(x.numpy()) * v
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-10)
    # WGAN-GP style: penalty on the input-gradient norm, differentiated w.r.t. weights
    w = shendu.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    xin = shendu.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    out = ops.tanh(xin @ w).sum()
    (gx,) = shendu.grad(out, xin, create_graph=True)
    penalty = ((ops.norm(gx, axis=1) - 1.0) ** 2).mean()
    penalty.backward()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()


def test_float32_stays_float32_through_a_network():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    w = shendu.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = shendu.tensor(np.zeros(3, np.float32), requires_grad=True)
    y = ops.categorical_crossentropy(
        np.eye(3)[[0, 1, 2, 0]], ops.softmax(ops.relu(ops.linear(x, w, b)))
    )
    assert y.dtype == np.float32
    y.mean().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_tensor_basics():
    t = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == np.float32 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    assert t.T.numpy().tolist() == [[1, 3], [2, 4]]
    assert t[1, 0].item() == 3.0 and float(t.sum()) == 10.0
    assert t.detach().creator is None
    assert "tensor(" in repr(t)
    with pytest.raises(ValueError, match="item\\(\\) expects a tensor with one element"):
        t.item()
    assert np.asarray(t).shape == (2, 2)
    r = np.ones(2, np.float32) + t  # numpy defers to Tensor
    assert isinstance(r, shendu.Tensor)
    assert (2 ** shendu.tensor([1.0, 2.0])).numpy().tolist() == [2, 4]
    assert (-t).numpy()[0, 0] == -1 and (t / 2).numpy()[0, 0] == 0.5 and (1 - t).numpy()[0, 0] == 0


def test_a_variable_bound_to_storage_receives_its_gradient_there():
    from shendu.layers.base import Variable

    v = Variable(np.array([1.0, 2.0, 3.0], np.float32))
    values, grads = np.zeros(6, np.float32), np.zeros(6, np.float32)
    v.bind_storage(values[3:], grads[3:])
    assert v.grad_buffer is not None and np.shares_memory(v.data, values)
    np.testing.assert_array_equal(values, [0, 0, 0, 1, 2, 3])
    (v * v).sum().backward()
    np.testing.assert_array_equal(grads, [0, 0, 0, 2, 4, 6])
    assert np.shares_memory(v.grad.data, grads)
    v.unbind_storage()
    assert v.grad_buffer is None and not np.shares_memory(v.data, values)
    np.testing.assert_array_equal(v.numpy(), [1, 2, 3])
    assert shendu.tensor(np.ones(2, np.float32)).grad_buffer is None


def test_bind_storage_names_the_shape_it_expected():
    from shendu.layers.base import Variable

    v = Variable(np.ones((2, 3), np.float32), name="kernel")
    with pytest.raises(ValueError, match=r"'kernel': the value storage must have shape \(2, 3\)"):
        v.bind_storage(np.zeros(6, np.float32), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="the gradient storage .* dtype float32"):
        v.bind_storage(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float64))
    assert v.grad_buffer is None and v.data.shape == (2, 3)  # nothing half-bound
