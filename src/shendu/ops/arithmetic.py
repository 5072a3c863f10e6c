"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, comparisons, casts.

Each binary op undoes broadcasting in backward by summing the gradient back to
each input's shape. Each op states its derivative next to its forward. The
``backward_graph`` of each op repeats that rule with shendu ops on Tensors, so
second derivatives work (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import broadcast_error, data_of, shape_of, split_elements, sum_to_shape
from .dtypes import numeric_dtype, promote


class SumTo(Function):
    """Sum ``x`` down to ``shape`` (the adjoint of broadcasting). d/dx: broadcast gy back."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return sum_to_shape(x, self.shape)

    def backward(self, gy):
        return backend.array_module(gy).broadcast_to(gy, self.x_shape)

    def backward_graph(self, gy):
        from .shape import broadcast_to

        return broadcast_to(gy, self.x_shape)


def sum_to(x, shape):
    """Differentiable ``sum_to_shape`` used by graph-mode backward rules."""
    if isinstance(x, Tensor):
        if x.shape == tuple(shape):
            return x
        return SumTo(shape).apply(x)
    return sum_to_shape(x, tuple(shape))


# --------------------------------------------------------------------- binary arithmetic


class _Binary(Function):
    op_name = "op"

    def compute(self, a, b):
        """The op on two arrays (each binary op defines it)."""
        raise NotImplementedError

    def forward(self, a, b):
        try:
            y = self.compute(a, b)
        except ValueError as err:
            raise broadcast_error(self.op_name, a, b, err) from None
        if self.recording:
            self.a, self.b = a, b
        return y


class Add(_Binary):
    """y = a + b.  da = gy, db = gy (summed back over broadcast axes)."""

    op_name = "add"

    def compute(self, a, b):
        if type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape:
            if a.dtype == b.dtype and a.dtype.kind == "f":
                return split_elements(np, np.add, np.empty_like(a), a, b)
        return a + b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        return (
            sum_to_shape(gy, shape_of(self.a)) if n0 else None,
            sum_to_shape(gy, shape_of(self.b)) if n1 else None,
        )

    def backward_graph(self, gy):
        a, b = self.inputs
        return sum_to(gy, shape_of(a)), sum_to(gy, shape_of(b))


class Subtract(_Binary):
    """y = a - b.  da = gy, db = -gy."""

    op_name = "subtract"

    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        return (
            sum_to_shape(gy, shape_of(self.a)) if n0 else None,
            sum_to_shape(-gy, shape_of(self.b)) if n1 else None,
        )

    def backward_graph(self, gy):
        a, b = self.inputs
        return sum_to(gy, shape_of(a)), sum_to(-gy, shape_of(b))


class Multiply(_Binary):
    """y = a * b.  da = gy * b, db = gy * a."""

    op_name = "multiply"

    def compute(self, a, b):
        return a * b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        return (
            sum_to_shape(gy * self.b, shape_of(self.a)) if n0 else None,
            sum_to_shape(gy * self.a, shape_of(self.b)) if n1 else None,
        )

    def backward_graph(self, gy):
        a, b = self.inputs
        return sum_to(gy * b, shape_of(a)), sum_to(gy * a, shape_of(b))


class Divide(_Binary):
    """y = a / b.  da = gy / b, db = -gy * a / b**2."""

    op_name = "divide"

    def compute(self, a, b):
        return a / b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        a, b = self.a, self.b
        return (
            sum_to_shape(gy / b, shape_of(a)) if n0 else None,
            sum_to_shape(-gy * a / (b * b), shape_of(b)) if n1 else None,
        )

    def backward_graph(self, gy):
        a, b = self.inputs
        return sum_to(gy / b, shape_of(a)), sum_to(-gy * a / (b * b), shape_of(b))


class Power(_Binary):
    """y = a ** b.  da = gy * b * a**(b-1), db = gy * y * log(a) (where a > 0, else 0)."""

    op_name = "power"

    def compute(self, a, b):
        return a**b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        a, b = self.a, self.b
        xp = backend.array_module(gy)
        ga = gb = None
        if n0:
            ga = sum_to_shape(gy * b * a ** (b - 1), shape_of(a))
        if n1:
            a_arr = xp.asarray(a)
            safe = xp.where(a_arr > 0, a_arr, 1)
            gb = sum_to_shape(gy * (a_arr**b) * xp.log(safe), shape_of(b))
        return ga, gb

    def backward_graph(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b * power(a, b - 1), shape_of(a))
        safe = where(greater(a, 0), a, 1.0)
        gb = sum_to(gy * power(a, b) * log(safe), shape_of(b))
        return ga, gb


class Maximum(_Binary):
    """y = max(a, b).  The gradient goes to the larger input (half to each on ties)."""

    op_name = "maximum"

    def compute(self, a, b):
        return backend.array_module(a, b).maximum(a, b)

    def _masks(self, xp, a, b):
        ma = (a > b) + 0.5 * (a == b)
        return ma, 1 - ma

    def backward(self, gy):
        xp = backend.array_module(gy)
        ma, mb = self._masks(xp, self.a, self.b)
        n0, n1 = self.needs_input_grad
        return (
            sum_to_shape(gy * ma, shape_of(self.a)) if n0 else None,
            sum_to_shape(gy * mb, shape_of(self.b)) if n1 else None,
        )

    def backward_graph(self, gy):
        xp = backend.array_module(gy.data)
        ma, mb = self._masks(xp, xp.asarray(self.a), xp.asarray(self.b))
        ma, mb = ma.astype(gy.dtype), mb.astype(gy.dtype)
        a, b = self.inputs
        return sum_to(gy * ma, shape_of(a)), sum_to(gy * mb, shape_of(b))


class Minimum(Maximum):
    """y = min(a, b).  The gradient goes to the smaller input (half to each on ties)."""

    op_name = "minimum"

    def compute(self, a, b):
        return backend.array_module(a, b).minimum(a, b)

    def _masks(self, xp, a, b):
        ma = (a < b) + 0.5 * (a == b)
        return ma, 1 - ma


def _binary(cls, a, b, float_result=False, bools="bool"):
    """``cls`` applied to ``a`` and ``b`` converted to Keras's result dtype (the common
    cases, two Tensors of one dtype or a float Tensor and a Python number, need none)."""
    if isinstance(a, Tensor) and a.data.dtype.kind != "b":
        kind = a.data.dtype.kind
        if (isinstance(b, Tensor) and b.data.dtype == a.data.dtype) or (
            kind == "f" and type(b) in (float, int)
        ):
            if kind == "f" or not float_result:
                return cls().apply(a, b)
    elif isinstance(b, Tensor) and b.data.dtype.kind == "f" and type(a) in (float, int):
        return cls().apply(a, b)
    a, b = promote(a, b, float_result=float_result, bools=bools)
    return cls().apply(a, b)


def add(x1, x2):
    """Elementwise ``x1 + x2`` with broadcasting."""
    return _binary(Add, x1, x2)


def subtract(x1, x2):
    """Elementwise ``x1 - x2`` with broadcasting."""
    return _binary(Subtract, x1, x2)


def multiply(x1, x2):
    """Elementwise ``x1 * x2`` with broadcasting."""
    return _binary(Multiply, x1, x2)


def divide(x1, x2):
    """Elementwise ``x1 / x2`` with broadcasting (integers divide in floatx)."""
    return _binary(Divide, x1, x2, float_result=True)


true_divide = divide


def power(x1, x2):
    """Elementwise ``x1 ** x2`` with broadcasting (bools in int32, as Keras)."""
    return _binary(Power, x1, x2, bools="int32")


def maximum(x1, x2):
    """Elementwise maximum."""
    return _binary(Maximum, x1, x2)


def minimum(x1, x2):
    """Elementwise minimum."""
    return _binary(Minimum, x1, x2)


# --------------------------------------------------------------------- unary elementwise


class Unary(Function):
    """An elementwise op given by ``f`` and its derivative ``df``.

    ``f(xp, x)`` and ``df(xp, x, y)`` are written once; ``xp`` is the array module
    in first-order backward and ``shendu.ops`` in graph mode, so the same formula
    gives the differentiable derivative.
    """

    def f(self, xp, x):
        """The op on ``x`` with the array module ``xp`` (each op defines it)."""
        raise NotImplementedError

    def df(self, xp, x, y):
        """The derivative at ``x`` (``y = f(x)``), with ``xp`` (each op defines it)."""
        raise NotImplementedError

    def forward(self, x):
        y = self.f(backend.array_module(x), x)
        if self.recording:
            self.x, self.y = x, y
        return y

    def backward(self, gy):
        g = gy * self.df(backend.array_module(gy), self.x, self.y)
        return g if g.dtype == gy.dtype else g.astype(gy.dtype)

    def backward_graph(self, gy):
        from .. import ops

        (x,) = self.inputs
        y = type(self)(**self.params()).apply(x)
        return gy * self.df(ops, x, y)

    def params(self) -> dict:
        return {}

    #: True when the function maps integers to integers (negative, abs, square)
    integer_result = False
    #: True when Keras computes it on bools in int32 (square, relu)
    bools_in_int32 = False


def _unary(cls, x, **params):
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.data.dtype.kind in "iub" and not cls.integer_result:
        x = cast(x, backend.floatx())  # Keras: float functions of integers are in floatx
    elif x.data.dtype == np.bool_ and getattr(cls, "bools_in_int32", False):
        x = cast(x, "int32")
    if x.data.dtype.kind not in "fiub":
        from ..naming import snake_case

        raise TypeError(
            f"{snake_case(cls.__name__)}: expected a numeric input. Received: dtype={x.data.dtype}"
        )
    return cls(**params).apply(x)


class Negative(Unary):
    """y = -x.  dy/dx = -1."""

    integer_result = True

    def f(self, xp, x):
        return -x

    def backward(self, gy):
        return -gy

    def backward_graph(self, gy):
        return -gy


class Sqrt(Unary):
    """y = sqrt(x).  dy/dx = 1 / (2 y)."""

    def f(self, xp, x):
        return xp.sqrt(x)

    def df(self, xp, x, y):
        return 0.5 / y


class Square(Unary):
    """y = x**2.  dy/dx = 2x."""

    integer_result = True
    bools_in_int32 = True

    def f(self, xp, x):
        return x * x

    def df(self, xp, x, y):
        return 2 * x


class Exp(Unary):
    """y = exp(x).  dy/dx = y."""

    def f(self, xp, x):
        return xp.exp(x)

    def df(self, xp, x, y):
        return y


class Log(Unary):
    """y = log(x).  dy/dx = 1 / x."""

    def f(self, xp, x):
        return xp.log(x)

    def df(self, xp, x, y):
        return 1 / x


class Log1p(Unary):
    """y = log(1 + x).  dy/dx = 1 / (1 + x)."""

    def f(self, xp, x):
        return xp.log1p(x)

    def df(self, xp, x, y):
        return 1 / (1 + x)


class Expm1(Unary):
    """y = exp(x) - 1.  dy/dx = y + 1."""

    def f(self, xp, x):
        return xp.expm1(x)

    def df(self, xp, x, y):
        return y + 1


class Abs(Unary):
    """y = |x|.  dy/dx = sign(x) (0 at 0)."""

    integer_result = True

    def f(self, xp, x):
        return xp.abs(x)

    def df(self, xp, x, y):
        return xp.sign(x)


class Tanh(Unary):
    """y = tanh(x).  dy/dx = 1 - y**2."""

    def f(self, xp, x):
        return xp.tanh(x)

    def df(self, xp, x, y):
        return 1 - y * y


class Sinh(Unary):
    """y = sinh(x).  dy/dx = cosh(x)."""

    def f(self, xp, x):
        return xp.sinh(x)

    def df(self, xp, x, y):
        return xp.cosh(x)


class Cosh(Unary):
    """y = cosh(x).  dy/dx = sinh(x)."""

    def f(self, xp, x):
        return xp.cosh(x)

    def df(self, xp, x, y):
        return xp.sinh(x)


class Sin(Unary):
    """y = sin(x).  dy/dx = cos(x)."""

    def f(self, xp, x):
        return xp.sin(x)

    def df(self, xp, x, y):
        return xp.cos(x)


class Cos(Unary):
    """y = cos(x).  dy/dx = -sin(x)."""

    def f(self, xp, x):
        return xp.cos(x)

    def df(self, xp, x, y):
        return -xp.sin(x)


class Arctan(Unary):
    """y = arctan(x).  dy/dx = 1 / (1 + x**2)."""

    def f(self, xp, x):
        return xp.arctan(x)

    def df(self, xp, x, y):
        return 1 / (1 + x * x)


# Numerical Recipes' erfc approximation (fractional error below 1.2e-7 everywhere).
_ERFC_COEFFS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


_ERF64 = np.frompyfunc(__import__("math").erf, 1, 1)


def _erf_array(xp, x):
    """erf(x): exact (the C library's) for float64 NumPy arrays; elsewhere Numerical
    Recipes' erfc approximation, accurate to 1.2e-7 (float32 round-off)."""
    if xp is np and getattr(x, "dtype", None) == np.float64:
        return np.asarray(_ERF64(x), dtype=np.float64)
    z = xp.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = _ERFC_COEFFS[-1]
    for c in reversed(_ERFC_COEFFS[:-1]):
        poly = poly * t + c
    erfc = t * xp.exp(-z * z + poly)
    y = xp.sign(x) * (1.0 - erfc)
    return y.astype(x.dtype) if hasattr(x, "dtype") else y


class Erf(Unary):
    """y = erf(x) (to 1.2e-7).  dy/dx = 2 / sqrt(pi) * exp(-x**2)."""

    def f(self, xp, x):
        if xp is np or xp.__name__ == "cupy":
            return _erf_array(xp, x)
        return xp.erf(x)

    def df(self, xp, x, y):
        return (2 / np.sqrt(np.pi)) * xp.exp(-(x * x))


class Sign(Function):
    """y = sign(x).  dy/dx = 0."""

    integer_result = True

    def forward(self, x):
        self.shape_dtype = (x.shape, x.dtype)
        return backend.array_module(x).sign(x)

    def backward(self, gy):
        return gy * 0

    def backward_graph(self, gy):
        return gy * 0


def negative(x):
    return _unary(Negative, x)


def sqrt(x):
    return _unary(Sqrt, x)


def square(x):
    return _unary(Square, x)


def exp(x):
    return _unary(Exp, x)


def log(x):
    return _unary(Log, x)


def log1p(x):
    return _unary(Log1p, x)


def expm1(x):
    return _unary(Expm1, x)


def abs(x):  # noqa: A001 - the keras.ops name
    return _unary(Abs, x)


absolute = abs


def sign(x):
    return _unary(Sign, x)


def tanh(x):
    return _unary(Tanh, x)


def sinh(x):
    return _unary(Sinh, x)


def cosh(x):
    return _unary(Cosh, x)


def sin(x):
    return _unary(Sin, x)


def cos(x):
    return _unary(Cos, x)


def arctan(x):
    return _unary(Arctan, x)


def erf(x):
    return _unary(Erf, x)


# --------------------------------------------------------------------- clip, where, cast


class Clip(Function):
    """y = min(max(x, lo), hi).  dy/dx = 1 inside [lo, hi], 0 outside."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = backend.array_module(x)
        if self.recording:
            self.mask = (x >= self.lo) & (x <= self.hi)
        return xp.clip(x, self.lo, self.hi).astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy * self.mask

    def backward_graph(self, gy):
        return gy * self.mask.astype(gy.dtype)


def clip(x, x_min, x_max):
    """Clip values to ``[x_min, x_max]``."""
    if x_min is not None and x_max is not None and np.any(np.asarray(x_min) > np.asarray(x_max)):
        raise ValueError(
            f"clip: `x_min` must not exceed `x_max`. Received: x_min={x_min}, x_max={x_max}"
        )
    # Keras's dtype: int16 clipped to float bounds is float32; bool clips as int32
    x = promote(x, *[b for b in (x_min, x_max) if b is not None])[0]
    if x.data.dtype == np.bool_:
        x = cast(x, "int32")
    lo = -np.inf if x_min is None else data_of(x_min)
    hi = np.inf if x_max is None else data_of(x_max)
    return Clip(lo=lo, hi=hi).apply(x)


class Where(Function):
    """y = x1 where condition else x2.  dx1 = gy * c, dx2 = gy * (1 - c)."""

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        xp = backend.array_module(self.condition)
        try:
            y = xp.where(self.condition, a, b)
        except ValueError as err:
            raise ValueError(
                "where: the condition and the inputs do not broadcast. Received: shapes "
                f"{shape_of(self.condition)}, {shape_of(a)}, {shape_of(b)} ({err})"
            ) from None
        if self.recording:
            self.shapes = (shape_of(a), shape_of(b))
        return y

    def backward(self, gy):
        xp = backend.array_module(gy)
        c = self.condition
        n0, n1 = self.needs_input_grad
        return (
            sum_to_shape(xp.where(c, gy, 0), self.shapes[0]) if n0 else None,
            sum_to_shape(xp.where(c, 0, gy), self.shapes[1]) if n1 else None,
        )

    def backward_graph(self, gy):
        c = self.condition
        return (
            sum_to(where(c, gy, 0.0), self.shapes[0]),
            sum_to(where(c, 0.0, gy), self.shapes[1]),
        )


def where(condition, x1=None, x2=None):
    """Choose ``x1`` where ``condition`` holds, else ``x2`` (broadcasting all three)."""
    cond = data_of(condition)
    if x1 is None and x2 is None:
        xp = backend.array_module(cond)
        return tuple(Tensor.wrap(i) for i in xp.nonzero(cond))
    xp = backend.array_module(cond) if hasattr(cond, "shape") else np
    cond = xp.asarray(cond).astype(bool, copy=False)
    a, b = promote(x1, x2)
    return Where(cond).apply(a, b)


class Cast(Function):
    """y = x as ``dtype``.  dy/dx: the gradient cast back to the input's dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype, copy=False)

    def backward(self, gy):
        return gy.astype(self.in_dtype, copy=False)

    def backward_graph(self, gy):
        return cast(gy, self.in_dtype)


def cast(x, dtype):
    """Cast ``x`` to ``dtype``; differentiable between float dtypes."""
    dtype = numeric_dtype(dtype, "cast")
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype == dtype:
        return x
    if dtype.kind not in "fc":
        return Tensor.wrap(x.data.astype(dtype))
    return Cast(dtype).apply(x)


# --------------------------------------------------------------------- comparisons (no grad)


def _compare(fn_name, x1, x2):
    a, b = data_of(x1), data_of(x2)
    xp = backend.array_module(*(v for v in (a, b) if hasattr(v, "shape")))
    try:
        return Tensor.wrap(getattr(xp, fn_name)(a, b))
    except ValueError as err:
        raise broadcast_error(fn_name, a, b, err) from None


def less(x1, x2):
    return _compare("less", x1, x2)


def less_equal(x1, x2):
    return _compare("less_equal", x1, x2)


def greater(x1, x2):
    return _compare("greater", x1, x2)


def greater_equal(x1, x2):
    return _compare("greater_equal", x1, x2)


def equal(x1, x2):
    return _compare("equal", x1, x2)


def not_equal(x1, x2):
    return _compare("not_equal", x1, x2)


def logical_and(x1, x2):
    return _compare("logical_and", x1, x2)


def logical_or(x1, x2):
    return _compare("logical_or", x1, x2)


def logical_not(x):
    a = data_of(x)
    return Tensor.wrap(backend.array_module(a).logical_not(a))


def isnan(x):
    a = data_of(x)
    return Tensor.wrap(backend.array_module(a).isnan(a))


def isfinite(x):
    a = data_of(x)
    return Tensor.wrap(backend.array_module(a).isfinite(a))


def stop_gradient(variable):
    """The same values, cut from the graph."""
    return variable.detach() if isinstance(variable, Tensor) else Tensor(variable)


from ._util import export_ops  # noqa: E402

export_ops(globals())
