"""Float64 gradient checks, forward references and error messages for elementwise ops."""

import numpy as np
import pytest

import shendu
from shendu import ops
from shendu.testing import gradcheck, gradgradcheck

from .samples import BINARY_SHAPES, UNARY_SHAPES, make

# name: (op, numpy reference, (low, high), kinks to avoid, twice differentiable)
UNARY = {
    "negative": (ops.negative, np.negative, (-2, 2), None, True),
    "sqrt": (ops.sqrt, np.sqrt, (0.5, 3), None, True),
    "square": (ops.square, np.square, (-2, 2), None, True),
    "exp": (ops.exp, np.exp, (-2, 2), None, True),
    "log": (ops.log, np.log, (0.5, 3), None, True),
    "log1p": (ops.log1p, np.log1p, (-0.5, 2), None, True),
    "expm1": (ops.expm1, np.expm1, (-2, 2), None, True),
    "abs": (ops.abs, np.abs, (-2, 2), [0], True),
    "tanh": (ops.tanh, np.tanh, (-2, 2), None, True),
    "sinh": (ops.sinh, np.sinh, (-2, 2), None, True),
    "cosh": (ops.cosh, np.cosh, (-2, 2), None, True),
    "sin": (ops.sin, np.sin, (-2, 2), None, True),
    "cos": (ops.cos, np.cos, (-2, 2), None, True),
    "arctan": (ops.arctan, np.arctan, (-2, 2), None, True),
    "sigmoid": (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-3, 3), None, True),
    "softplus": (ops.softplus, lambda x: np.log1p(np.exp(x)), (-3, 3), None, True),
    "softsign": (ops.softsign, lambda x: x / (1 + np.abs(x)), (-2, 2), [0], True),
    "relu": (ops.relu, lambda x: np.maximum(x, 0), (-2, 2), [0], True),
    "relu6": (ops.relu6, lambda x: np.clip(x, 0, 6), (-2, 8), [0, 6], True),
    "leaky_relu": (
        ops.leaky_relu,
        lambda x: np.where(x > 0, x, 0.2 * x),
        (-2, 2),
        [0],
        True,
    ),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.expm1(x)), (-2, 2), [0], True),
    "selu": (
        ops.selu,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
        (-2, 2),
        [0],
        True,
    ),
    "gelu_tanh": (
        lambda x: ops.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        (-3, 3),
        None,
        True,
    ),
    "gelu_erf": (
        lambda x: ops.gelu(x, approximate=False),
        None,
        (-3, 3),
        None,
        True,
    ),
    "silu": (ops.silu, lambda x: x / (1 + np.exp(-x)), (-3, 3), None, True),
    "hard_sigmoid": (
        ops.hard_sigmoid,
        lambda x: np.clip(x + 3, 0, 6) / 6,
        (-5, 5),
        [-3, 3],
        True,
    ),
    "mish": (ops.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), (-3, 3), None, True),
    "erf": (ops.erf, None, (-2, 2), None, True),
    "clip": (
        lambda x: ops.clip(x, -1.0, 1.0),
        lambda x: np.clip(x, -1, 1),
        (-2, 2),
        [-1, 1],
        True,
    ),
}

BINARY = {
    "add": (ops.add, np.add, (-2, 2), True),
    "subtract": (ops.subtract, np.subtract, (-2, 2), True),
    "multiply": (ops.multiply, np.multiply, (-2, 2), True),
    "divide": (ops.divide, np.divide, (0.5, 2), True),
    "power": (ops.power, np.power, (0.5, 2), True),
    "maximum": (ops.maximum, np.maximum, (-2, 2), True),
    "minimum": (ops.minimum, np.minimum, (-2, 2), True),
}


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name, shape):
    fn, _, (lo, hi), avoid, _ = UNARY[name]
    x = make(shape, np.random.default_rng(0), lo, hi, avoid)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(n for n in UNARY if UNARY[n][4]))
def test_unary_gradgradcheck(name):
    fn, _, (lo, hi), avoid, _ = UNARY[name]
    x = make((5,), np.random.default_rng(1), lo, hi, avoid)
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(n for n in UNARY if UNARY[n][1] is not None))
def test_unary_forward_matches_numpy_float32(name):
    fn, ref, (lo, hi), _, _ = UNARY[name]
    x = make((3, 4), np.random.default_rng(2), lo, hi).astype(np.float32)
    y = fn(shendu.tensor(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref(x.astype(np.float64)), rtol=1.3e-6, atol=1e-5)


def test_erf_and_gelu_erf_match_math_erf():
    import math

    x = np.linspace(-4, 4, 81)
    ref = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(ops.erf(x).numpy(), ref, atol=2e-7)
    gelu_ref = 0.5 * x * (1 + ref / 1.0)
    gelu_ref = 0.5 * x * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(), gelu_ref, atol=1e-6)


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name, shapes):
    fn, _, (lo, hi), _ = BINARY[name]
    rng = np.random.default_rng(3)
    a = make(shapes[0], rng, lo, hi)
    b = make(shapes[1], rng, lo, hi)
    if name in ("maximum", "minimum") and a.size and b.size:
        b = b + 0.37  # no ties
    assert gradcheck(fn, (a, b))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradgradcheck(name):
    fn, _, (lo, hi), _ = BINARY[name]
    rng = np.random.default_rng(4)
    assert gradgradcheck(fn, (make((3, 4), rng, lo, hi), make((3, 1), rng, lo, hi) + 0.37))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_forward_float32_and_error(name):
    fn, ref, (lo, hi), _ = BINARY[name]
    rng = np.random.default_rng(5)
    a = make((3, 4), rng, lo, hi).astype(np.float32)
    b = make((4,), rng, lo, hi).astype(np.float32)
    y = fn(shendu.tensor(a), shendu.tensor(b))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ref(a, b), rtol=1.3e-6, atol=1e-5)
    with pytest.raises(ValueError, match=rf"{name}: the shapes of the inputs do not broadcast"):
        fn(shendu.tensor(np.ones((3,))), shendu.tensor(np.ones((4,))))


def test_scalar_and_array_constants_keep_float32():
    x = shendu.tensor(np.ones(3, np.float32), requires_grad=True)
    y = x * 2.5 + np.ones(3) - np.float64(1.0)  # float64 constants adopt the tensor's dtype
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_where_gradients_and_error():
    rng = np.random.default_rng(6)
    c = rng.random((3, 4)) > 0.5
    assert gradcheck(lambda a, b: ops.where(c, a, b), (rng.random((3, 4)), rng.random((1, 4))))
    assert gradgradcheck(lambda a, b: ops.where(c, a * a, b), (rng.random((3, 4)), rng.random(4)))
    with pytest.raises(ValueError, match="where: the condition and the inputs do not broadcast"):
        ops.where(np.ones(3, bool), np.ones(4), np.ones(4))


def test_cast_gradient_and_unknown_dtype():
    x = np.random.default_rng(7).random(5)
    assert gradcheck(lambda a: ops.cast(a, "float32") * 1.0, (x,), eps=1e-2, atol=1e-3)
    with pytest.raises(TypeError, match="cast: unknown dtype"):
        ops.cast(x, "notadtype")


def test_clip_error():
    with pytest.raises(ValueError, match="clip: `x_min` must not exceed `x_max`"):
        ops.clip(np.ones(3), 2.0, 1.0)


def test_sign_has_zero_gradient():
    x = shendu.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    ops.sign(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


EXTREMES = np.array([-np.inf, -1e30, -1000.0, -1.0, 0.0, 1.0, 1000.0, 1e30, np.inf], np.float32)


@pytest.mark.parametrize(
    "name",
    [
        "sigmoid",
        "softplus",
        "tanh",
        "relu",
        "elu",
        "selu",
        "silu",
        "gelu_tanh",
        "mish",
        "softsign",
        "leaky_relu",
        "hard_sigmoid",
        "relu6",
    ],
)
def test_activation_extremes_have_no_spurious_nan(name):
    fn = UNARY[name][0]
    x = shendu.tensor(EXTREMES[1:-1], requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert np.isfinite(y.numpy()).all(), y
    assert np.isfinite(x.grad.numpy()).all(), x.grad
    y_inf = fn(shendu.tensor(EXTREMES)).numpy()
    assert not np.isnan(y_inf).any(), y_inf


def test_comparisons_are_not_differentiable():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    c = x > 1.5
    assert c.dtype == bool and not c.requires_grad
    np.testing.assert_array_equal(c.numpy(), [False, True])
    np.testing.assert_array_equal((x == 1.0).numpy(), [True, False])
    np.testing.assert_array_equal((x <= 1.0).numpy(), [True, False])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_rejects_non_numeric_input(name):
    fn = UNARY[name][0]
    with pytest.raises(TypeError, match=r"expected a numeric input. Received: dtype=<U3"):
        fn(np.array(["abc", "def"]))
