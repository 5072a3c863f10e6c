"""More elementwise functions under ``keras.ops`` names, each given by its formula and its
derivative, stated once.

A unary rule is ``f(xp, x)`` and ``df(xp, x, y)`` (y = f(x)); a binary rule adds the two
partial derivatives ``da(xp, a, b, y)`` and ``db(xp, a, b, y)``. ``xp`` is the array module
in a first-order backward and ``shendu.ops`` when the gradient itself is differentiated
(``create_graph=True``), so the one formula serves every order. Integer and boolean inputs
of floating-point functions are computed in the default float dtype, as in Keras.

Functions whose result is piecewise constant (floor, round, comparisons, bit operations)
carry no gradient: they return Tensors that are not recorded, which Keras's backends
differentiate to zero.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import broadcast_error, data_of, shape_of, sum_to_shape
from .arithmetic import Unary, sum_to
from .dtypes import promote


def _as_float_tensor(x):
    """``x`` as a Tensor of a floating dtype (integers and booleans in floatx)."""
    t = x if isinstance(x, Tensor) else Tensor(x)
    if t.data.dtype.kind in "iub":
        from .arithmetic import cast

        return cast(t, backend.floatx())
    return t


class _TableUnary(Unary):
    """A unary function from the table below."""

    def __init__(self, name, f, df):
        self.fname, self.f_rule, self.df_rule = name, f, df

    def f(self, xp, x):
        return self.f_rule(xp, x)

    def df(self, xp, x, y):
        return self.df_rule(xp, x, y)

    def params(self):
        return {"name": self.fname, "f": self.f_rule, "df": self.df_rule}

    @property
    def name(self):
        return self.fname


def _erfinv(xp, y):
    """Inverse error function: Giles's single-precision approximation refined by two Newton
    steps on erf (to float64 round-off)."""
    from .arithmetic import _erf_array

    edge = xp.abs(y) >= 1.0
    y_in = y
    y = xp.clip(y, -1.0 + 1e-15, 1.0 - 1e-15)
    w = -xp.log((1.0 - y) * (1.0 + y))
    small = w < 5.0
    ws = w - 2.5
    p = 2.81022636e-08
    for c in (
        3.43273939e-07,
        -3.5233877e-06,
        -4.39150654e-06,
        0.00021858087,
        -0.00125372503,
        -0.00417768164,
        0.246640727,
        1.50140941,
    ):
        p = c + p * ws
    wl = xp.sqrt(xp.maximum(w, 5.0)) - 3.0
    q = -0.000200214257
    for c in (
        0.000100950558,
        0.00134934322,
        -0.00367342844,
        0.00573950773,
        -0.0076224613,
        0.00943887047,
        1.00167406,
        2.83297682,
    ):
        q = c + q * wl
    x = xp.where(small, p, q) * y
    for _ in range(2):
        err = _erf_array(xp, x) - y
        x = x - err / ((2 / math.sqrt(math.pi)) * xp.exp(-x * x))
    out = xp.where(edge, xp.where(y_in > 0, np.inf, -np.inf), x)
    return out.astype(y_in.dtype, copy=False) if isinstance(out, np.ndarray) else out


_LN2, _LN10 = math.log(2.0), math.log(10.0)

#: name -> (f(xp, x), df(xp, x, y)): y = f(x), dy/dx = df.
UNARY = {
    # trigonometric and hyperbolic inverses
    "arccos": (lambda xp, x: xp.arccos(x), lambda xp, x, y: -1.0 / xp.sqrt(1.0 - x * x)),
    "arcsin": (lambda xp, x: xp.arcsin(x), lambda xp, x, y: 1.0 / xp.sqrt(1.0 - x * x)),
    "arccosh": (lambda xp, x: xp.arccosh(x), lambda xp, x, y: 1.0 / xp.sqrt(x * x - 1.0)),
    "arcsinh": (lambda xp, x: xp.arcsinh(x), lambda xp, x, y: 1.0 / xp.sqrt(x * x + 1.0)),
    "arctanh": (lambda xp, x: xp.arctanh(x), lambda xp, x, y: 1.0 / (1.0 - x * x)),
    "tan": (lambda xp, x: xp.tan(x), lambda xp, x, y: 1.0 + y * y),
    # powers, roots, logarithms
    "cbrt": (lambda xp, x: xp.cbrt(x), lambda xp, x, y: 1.0 / (3.0 * y * y)),
    "exp2": (lambda xp, x: xp.exp2(x), lambda xp, x, y: _LN2 * y),
    "log2": (lambda xp, x: xp.log2(x), lambda xp, x, y: 1.0 / (_LN2 * x)),
    "log10": (lambda xp, x: xp.log10(x), lambda xp, x, y: 1.0 / (_LN10 * x)),
    "reciprocal": (lambda xp, x: xp.reciprocal(x), lambda xp, x, y: -y * y),
    "rsqrt": (lambda xp, x: 1.0 / xp.sqrt(x), lambda xp, x, y: -0.5 * y * y * y),
    "sinc": (
        lambda xp, x: xp.sinc(x),
        lambda xp, x, y: xp.where(
            x == 0, 0.0, (xp.cos(math.pi * x) - y) / xp.where(x == 0, 1.0, x)
        ),
    ),
    # error functions
    "erfc": (
        lambda xp, x: 1.0 - _erf(xp, x),
        lambda xp, x, y: (-2 / math.sqrt(math.pi)) * xp.exp(-(x * x)),
    ),
    "erfinv": (
        lambda xp, x: _erfinv(xp, x),
        lambda xp, x, y: (math.sqrt(math.pi) / 2) * xp.exp(y * y),
    ),
    # angles
    "deg2rad": (lambda xp, x: x * (math.pi / 180.0), lambda xp, x, y: math.pi / 180.0 + 0 * x),
    "rad2deg": (lambda xp, x: x * (180.0 / math.pi), lambda xp, x, y: 180.0 / math.pi + 0 * x),
    # complex parts of real inputs
    "real": (lambda xp, x: x + 0, lambda xp, x, y: 1.0 + 0 * x),
    "conj": (lambda xp, x: x + 0, lambda xp, x, y: 1.0 + 0 * x),
    "imag": (lambda xp, x: x * 0, lambda xp, x, y: 0 * x),
}


def _erf(xp, x):
    if xp is np:
        from .arithmetic import _erf_array

        return _erf_array(xp, x)
    return xp.erf(x)


def _unary_function(name):
    f, df = UNARY[name]

    def fn(x):
        x = _as_float_tensor(x)
        return _TableUnary(name, f, df).apply(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (NumPy's), differentiable."
    return fn


arccos = _unary_function("arccos")
arcsin = _unary_function("arcsin")
arccosh = _unary_function("arccosh")
arcsinh = _unary_function("arcsinh")
arctanh = _unary_function("arctanh")
tan = _unary_function("tan")
cbrt = _unary_function("cbrt")
exp2 = _unary_function("exp2")
log2 = _unary_function("log2")
log10 = _unary_function("log10")
reciprocal = _unary_function("reciprocal")
rsqrt = _unary_function("rsqrt")
sinc = _unary_function("sinc")
erfc = _unary_function("erfc")
erfinv = _unary_function("erfinv")
deg2rad = _unary_function("deg2rad")
rad2deg = _unary_function("rad2deg")
real = _unary_function("real")
conj = _unary_function("conj")
conjugate = conj
imag = _unary_function("imag")


def fabs(x):
    """|x| in a floating dtype (NumPy's fabs)."""
    from .arithmetic import abs as abs_

    return abs_(_as_float_tensor(x))


def angle(x):
    """The argument of each element: 0 for non-negative reals, pi for negative ones."""
    x = _as_float_tensor(x)
    xp = backend.array_module(x.data)
    return Tensor.wrap(xp.angle(x.data).astype(x.dtype))


def i0(x):
    """The modified Bessel function of the first kind of order 0 (not differentiable here)."""
    x = _as_float_tensor(x)
    return Tensor.wrap(np.i0(x.data).astype(x.dtype))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by finite numbers; the gradient passes where ``x`` is
    finite and is 0 where it was replaced."""
    from .arithmetic import isfinite, where

    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind not in "fc":
        return x
    xp = backend.array_module(x.data)
    filled = Tensor.wrap(
        xp.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf).astype(x.dtype)
    )
    return where(isfinite(x), x, filled)


# ------------------------------------------------------------------------- binary rules


class _TableBinary(Function):
    """y = f(a, b) from the BINARY table; da = gy * da_rule, db = gy * db_rule, each summed
    back over broadcast axes."""

    def __init__(self, name, f, da, db):
        self.fname, self.f_rule, self.da_rule, self.db_rule = name, f, da, db

    @property
    def name(self):
        return self.fname

    def forward(self, a, b):
        xp = backend.array_module(a if hasattr(a, "shape") else b)
        try:
            y = self.f_rule(xp, a, b)
        except ValueError as err:
            raise broadcast_error(self.fname, a, b, err) from None
        if self.recording:
            self.a, self.b, self.y = a, b, y
        return y

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        xp = backend.array_module(gy)
        a, b, y = self.a, self.b, self.y
        ga = sum_to_shape(gy * self.da_rule(xp, a, b, y), shape_of(a)) if n0 else None
        gb = sum_to_shape(gy * self.db_rule(xp, a, b, y), shape_of(b)) if n1 else None
        return (
            None if ga is None else ga.astype(gy.dtype, copy=False),
            None if gb is None else gb.astype(gy.dtype, copy=False),
        )

    def backward_graph(self, gy):
        from .. import ops

        a, b = self.inputs
        y = _TableBinary(self.fname, self.f_rule, self.da_rule, self.db_rule).apply(a, b)
        return (
            sum_to(gy * self.da_rule(ops, a, b, y), shape_of(a)),
            sum_to(gy * self.db_rule(ops, a, b, y), shape_of(b)),
        )


def _logaddexp_da(xp, a, b, y):
    return xp.exp(a - y)


BINARY = {
    "arctan2": (
        lambda xp, a, b: xp.arctan2(a, b),
        lambda xp, a, b, y: b / (a * a + b * b),
        lambda xp, a, b, y: -a / (a * a + b * b),
    ),
    "hypot": (
        lambda xp, a, b: xp.hypot(a, b),
        lambda xp, a, b, y: a / y,
        lambda xp, a, b, y: b / y,
    ),
    "logaddexp": (
        lambda xp, a, b: xp.logaddexp(a, b),
        _logaddexp_da,
        lambda xp, a, b, y: xp.exp(b - y),
    ),
    "logaddexp2": (
        lambda xp, a, b: xp.logaddexp2(a, b),
        lambda xp, a, b, y: xp.exp2(a - y),
        lambda xp, a, b, y: xp.exp2(b - y),
    ),
    # fmod: a - trunc(a / b) b; mod: a - floor(a / b) b (the quotients are constant)
    "fmod": (
        lambda xp, a, b: xp.fmod(a, b),
        lambda xp, a, b, y: 1.0 + 0 * y,
        lambda xp, a, b, y: -xp.trunc(a / b) + 0 * y,
    ),
    "mod": (
        lambda xp, a, b: xp.mod(a, b),
        lambda xp, a, b, y: 1.0 + 0 * y,
        lambda xp, a, b, y: -xp.floor(a / b) + 0 * y,
    ),
    # fmax / fmin: like maximum / minimum, but a NaN loses to a number
    "fmax": (
        lambda xp, a, b: xp.fmax(a, b),
        lambda xp, a, b, y: (y == a) * 1.0 + 0 * y,
        lambda xp, a, b, y: (y != a) * 1.0 + 0 * y,
    ),
    "fmin": (
        lambda xp, a, b: xp.fmin(a, b),
        lambda xp, a, b, y: (y == a) * 1.0 + 0 * y,
        lambda xp, a, b, y: (y != a) * 1.0 + 0 * y,
    ),
    # ldexp: a * 2**b (b integer in NumPy; any real here)
    "ldexp": (
        lambda xp, a, b: a * xp.exp2(b),
        lambda xp, a, b, y: xp.exp2(b) + 0 * y,
        lambda xp, a, b, y: _LN2 * y,
    ),
    # divide_no_nan: a / b, and 0 where b == 0
    "divide_no_nan": (
        lambda xp, a, b: xp.where(b == 0, 0.0, a / xp.where(b == 0, 1.0, b)),
        lambda xp, a, b, y: xp.where(b == 0, 0.0, 1.0 / xp.where(b == 0, 1.0, b)),
        lambda xp, a, b, y: xp.where(b == 0, 0.0, -y / xp.where(b == 0, 1.0, b)),
    ),
}


#: binary functions that keep integer operands integer (Keras: mod(int32, int32) is int32)
_INTEGER_BINARY = ("mod", "fmod", "fmax", "fmin")


def _binary_function(name):
    f, da, db = BINARY[name]
    bools = "int32" if name in ("mod", "fmod") else "bool"  # Keras: mod of bools in int32

    float_result = name not in _INTEGER_BINARY

    def fn(x1, x2):
        a, b = promote(x1, x2, float_result=float_result, weak_scalars=False, bools=bools)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _TableBinary(name, f, da, db).apply(a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}``, differentiable in both arguments."
    return fn


arctan2 = _binary_function("arctan2")
hypot = _binary_function("hypot")
logaddexp = _binary_function("logaddexp")
logaddexp2 = _binary_function("logaddexp2")
fmod = _binary_function("fmod")
mod = _binary_function("mod")
fmax = _binary_function("fmax")
fmin = _binary_function("fmin")
ldexp = _binary_function("ldexp")
divide_no_nan = _binary_function("divide_no_nan")


def remainder(x1, x2):
    return mod(x1, x2)


# --------------------------------------------------------------- piecewise-constant results


def _arrays(*xs):
    """The raw arrays of ``xs``; Python numbers stay numbers, which NumPy keeps weak."""
    return [
        data_of(x) if isinstance(x, Tensor) else x if type(x) in (int, float) else np.asarray(x)
        for x in xs
    ]


def _nondiff_unary(name, np_name=None, float_result=False, keep_float=False):
    np_fn = getattr(np, np_name or name)

    def fn(x):
        (a,) = _arrays(x)
        xp = backend.array_module(a)
        y = getattr(xp, np_name or name)(a) if xp is not np else np_fn(a)
        if keep_float and a.dtype.kind in "iub" and float_result:
            y = y.astype(backend.floatx())
        return Tensor.wrap(y)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{np_name or name}`` (piecewise constant: no gradient)."
    return fn


floor = _nondiff_unary("floor", float_result=True, keep_float=True)
ceil = _nondiff_unary("ceil", float_result=True, keep_float=True)
trunc = _nondiff_unary("trunc")
signbit = _nondiff_unary("signbit")
isinf = _nondiff_unary("isinf")
isneginf = _nondiff_unary("isneginf")
isposinf = _nondiff_unary("isposinf")
isreal = _nondiff_unary("isreal")
bitwise_invert = _nondiff_unary("bitwise_invert", "invert")
bitwise_not = _nondiff_unary("bitwise_not", "invert")


def round(x, decimals=0):  # noqa: A001 - the Keras name
    """Round half to even to ``decimals`` places (no gradient)."""
    (a,) = _arrays(x)
    return Tensor.wrap(backend.array_module(a).round(a, decimals))


def _nondiff_binary(name, np_name=None, float_result=False, bools="bool"):
    def fn(x1, x2):
        a, b = _arrays(*promote(x1, x2, float_result=float_result, bools=bools))
        xp = backend.array_module(a)
        try:
            return Tensor.wrap(getattr(xp, np_name or name)(a, b))
        except ValueError as err:
            raise broadcast_error(name, a, b, err) from None

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{np_name or name}`` (no gradient)."
    return fn


floor_divide = _nondiff_binary("floor_divide", bools="int32")
heaviside = _nondiff_binary("heaviside", float_result=True)
nextafter = _nondiff_binary("nextafter", float_result=True)
gcd = _nondiff_binary("gcd")
lcm = _nondiff_binary("lcm")


def bitwise_and(x, y):
    """Elementwise ``bitwise_and`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).bitwise_and(a, b))


def bitwise_or(x, y):
    """Elementwise ``bitwise_or`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).bitwise_or(a, b))


def bitwise_xor(x, y):
    """Elementwise ``bitwise_xor`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).bitwise_xor(a, b))


def bitwise_left_shift(x, y):
    """Elementwise ``left_shift`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).left_shift(a, b))


def bitwise_right_shift(x, y):
    """Elementwise ``right_shift`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).right_shift(a, b))


def left_shift(x, y):
    """Elementwise ``left_shift`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).left_shift(a, b))


def right_shift(x, y):
    """Elementwise ``right_shift`` of integers (no gradient)."""
    a, b = _arrays(x, y)
    return Tensor.wrap(backend.array_module(a).right_shift(a, b))


logical_xor = _nondiff_binary("logical_xor")


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = _arrays(x1, x2)
    return Tensor.wrap(backend.array_module(a).isclose(a, b, rtol, atol, equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = _arrays(x1, x2)
    return Tensor.wrap(np.asarray(backend.array_module(a).allclose(a, b, rtol, atol, equal_nan)))


__all__ = [
    "allclose",
    "angle",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan2",
    "arctanh",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "cbrt",
    "ceil",
    "conj",
    "conjugate",
    "deg2rad",
    "divide_no_nan",
    "erfc",
    "erfinv",
    "exp2",
    "fabs",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "gcd",
    "heaviside",
    "hypot",
    "i0",
    "imag",
    "isclose",
    "isinf",
    "isneginf",
    "isposinf",
    "isreal",
    "lcm",
    "ldexp",
    "left_shift",
    "log10",
    "log2",
    "logaddexp",
    "logaddexp2",
    "logical_xor",
    "mod",
    "nan_to_num",
    "nextafter",
    "rad2deg",
    "real",
    "reciprocal",
    "remainder",
    "right_shift",
    "round",
    "rsqrt",
    "signbit",
    "sinc",
    "tan",
    "trunc",
]


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` is in ``x2`` (no gradient)."""
    a, b = _arrays(x1, x2)
    return Tensor.wrap(np.isin(a, b, assume_unique=assume_unique, invert=invert))


from ._util import export_ops  # noqa: E402

export_ops(globals())
