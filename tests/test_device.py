"""Device selection on a machine without a GPU, and the op suite run against a NumPy-backed
stand-in for the CuPy module: an op that allocates with ``numpy.`` instead of the backend's
array module returns a plain ndarray and is caught here."""

import sys
import types

import numpy as np
import pytest

import shendu
from shendu import backend, ops


class FakeGPUArray(np.ndarray):
    """Stands for cupy.ndarray: NumPy ufuncs keep the subclass, numpy.zeros does not."""


def _wrap(result):
    if isinstance(result, np.ndarray) and not isinstance(result, FakeGPUArray):
        return result.view(FakeGPUArray)
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    if isinstance(result, list):
        return [_wrap(r) for r in result]
    return result


class _Wrapped(types.ModuleType):
    """A module whose functions return FakeGPUArray (submodules wrapped the same way)."""

    def __init__(self, name, target):
        super().__init__(name)
        self._target = target

    def __getattr__(self, name):
        target = getattr(self._target, name)
        if isinstance(target, np.ufunc):  # ufuncs keep the subclass (and have .at)
            return target
        if isinstance(target, types.ModuleType):
            return _Wrapped(f"{self.__name__}.{name}", target)
        if callable(target) and not isinstance(target, type):
            return lambda *a, **k: _wrap(target(*a, **k))
        return target


class _FakeCupy(_Wrapped):
    ndarray = FakeGPUArray

    def __init__(self, name):
        super().__init__(name, np)

    @staticmethod
    def asnumpy(a):
        return np.asarray(a).view(np.ndarray)


@pytest.fixture
def fake_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _FakeCupy("cupy"))
    assert isinstance(np.ones(1), np.ndarray)
    yield


def _gpu(shape, rng, low=-1.0, high=1.0):
    return rng.uniform(low, high, shape).view(FakeGPUArray)


def _cases(rng):
    a, b = _gpu((3, 4), rng), _gpu((3, 4), rng)
    p = _gpu((3, 4), rng, 0.1, 2.0)
    img = _gpu((2, 6, 6, 3), rng)
    k = _gpu((3, 3, 3, 2), rng)
    seq = _gpu((2, 5, 3), rng)
    q = _gpu((2, 4, 2, 3), rng)
    cases = {
        name: (fn, (a,))
        for name, fn in [
            ("exp", ops.exp),
            ("tanh", ops.tanh),
            ("sigmoid", ops.sigmoid),
            ("relu", ops.relu),
            ("gelu", ops.gelu),
            ("softplus", ops.softplus),
            ("elu", ops.elu),
            ("erf", ops.erf),
            ("mish", ops.mish),
            ("silu", ops.silu),
            ("abs", ops.abs),
            ("sin", ops.sin),
            ("softmax", ops.softmax),
            ("log_softmax", ops.log_softmax),
            ("sum", ops.sum),
            ("mean", lambda x: ops.mean(x, axis=0)),
            ("max", lambda x: ops.max(x, axis=1)),
            ("prod", lambda x: ops.prod(x, axis=1)),
            ("var", ops.var),
            ("logsumexp", lambda x: ops.logsumexp(x, axis=-1)),
            ("reshape", lambda x: ops.reshape(x, (4, 3))),
            ("transpose", ops.transpose),
            ("pad", lambda x: ops.pad(x, ((1, 0), (0, 2)))),
            ("flip", lambda x: ops.flip(x, 0)),
            ("tile", lambda x: ops.tile(x, (2, 1))),
            ("repeat", lambda x: ops.repeat(x, 2, axis=1)),
            ("roll", lambda x: ops.roll(x, 1, axis=0)),
            ("cumsum", lambda x: ops.cumsum(x, axis=1)),
            ("getitem", lambda x: x[1:, ::2]),
            ("take", lambda x: ops.take(x, np.array([0, 2]), axis=1)),
            ("clip", lambda x: ops.clip(x, -0.5, 0.5)),
            ("dropout", lambda x: ops.dropout(x, 0.5, seed=1)),
            ("layer_norm", ops.layer_normalization),
            ("rms_norm", ops.rms_normalization),
            ("batch_norm", lambda x: ops.batch_norm_train(x, None, None)[0]),
        ]
    }
    cases.update(
        {
            "add": (ops.add, (a, b)),
            "multiply": (ops.multiply, (a, b)),
            "divide": (ops.divide, (a, p)),
            "power": (ops.power, (p, b)),
            "maximum": (ops.maximum, (a, b)),
            "matmul": (lambda x, y: x @ y.T, (a, b)),
            "linear": (lambda x, w: ops.linear(x, w), (a, _gpu((4, 2), rng))),
            "einsum": (lambda x, y: ops.einsum("ij,kj->ik", x, y), (a, b)),
            "concatenate": (lambda x, y: ops.concatenate([x, y], 1), (a, b)),
            "stack": (lambda x, y: ops.stack([x, y]), (a, b)),
            "where": (lambda x, y: ops.where(x.data > 0, x, y), (a, b)),
            "cce": (
                lambda z: ops.categorical_crossentropy(
                    np.eye(4)[[0, 1, 2]].view(FakeGPUArray), z, True
                ),
                (a,),
            ),
            "scce": (
                lambda z: ops.sparse_categorical_crossentropy(np.array([0, 3, 1]), z, True),
                (a,),
            ),
            "bce": (
                lambda z: ops.binary_crossentropy(np.ones((3, 4)).view(FakeGPUArray), z, True),
                (a,),
            ),
            "conv": (lambda x, w: ops.conv(x, w, 1, "same"), (img, k)),
            "conv_strided": (lambda x, w: ops.conv(x, w, 2, "valid"), (img, k)),
            "conv_transpose": (
                lambda x, w: ops.conv_transpose(x, ops.transpose(w, (0, 1, 3, 2)), 2, "same"),
                (img, k),
            ),
            "max_pool": (lambda x: ops.max_pool(x, 2), (img,)),
            "max_pool_3s1": (lambda x: ops.max_pool(x, 3, 1, "same"), (img,)),
            "avg_pool": (lambda x: ops.average_pool(x, 3, 2, "same"), (img,)),
            "lstm": (
                lambda x, w, u: ops.lstm(x, None, None, w, u)[0],
                (seq, _gpu((3, 8), rng), _gpu((2, 8), rng)),
            ),
            "gru": (
                lambda x, w, u: ops.gru(x, None, w, u)[0],
                (seq, _gpu((3, 6), rng), _gpu((2, 6), rng)),
            ),
            "simple_rnn": (
                lambda x, w, u: ops.simple_rnn(x, None, w, u)[0],
                (seq, _gpu((3, 2), rng), _gpu((2, 2), rng)),
            ),
            "attention": (
                lambda x, y, z: ops.dot_product_attention(x, y, z, is_causal=True),
                (q, q, q),
            ),
        }
    )
    return cases


CASE_NAMES = sorted(_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_op_stays_on_the_array_module(name, fake_cupy):
    fn, arrays = _cases(np.random.default_rng(0))[name]
    inputs = [shendu.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    assert isinstance(out.data, FakeGPUArray), f"{name} forward left the device: {type(out.data)}"
    (out * out).sum().backward()
    for i, t in enumerate(inputs):
        assert t.grad is not None
        assert isinstance(t.grad.data, FakeGPUArray), f"{name} gradient {i} left the device"


def test_mixing_devices_names_both(fake_cupy):
    with pytest.raises(ValueError, match=r"Cannot mix NumPy \(cpu\) and CuPy \(gpu\) arrays"):
        backend.array_module(np.ones(2), np.ones(2).view(FakeGPUArray))


def test_gpu_without_cupy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(ImportError, match=r"pip install 'shendu\[gpu\]'"):
        backend.set_device("gpu")
    assert backend.device() == "cpu"
    with pytest.raises(ValueError, match="Expected device 'cpu' or 'gpu'. Received: device='tpu'"):
        backend.set_device("tpu")
