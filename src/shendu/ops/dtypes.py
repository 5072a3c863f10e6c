"""Keras's dtype rules for the operands of an op (``backend.result_type`` is the lattice).

An operand's type, as Keras's ops see it: a Tensor or array has its dtype (strong); a
Python ``int`` or ``float`` is weak (it takes the other operand's type: ``uint8 + 2`` is
uint8, ``int8 + 2.5`` is floatx); a Python ``bool`` is bool; a list becomes an array as
``convert_to_tensor`` makes it (ints int32, floats floatx); a NumPy array or scalar beside
a Tensor is taken at 32 bits (float64 as float32, int64 as int32), as Keras's JAX backend
converts NumPy data, so ``float32_tensor * np.ones(3)`` stays float32. Every op that combines
operands converts them to ``result_type`` of these before computing, so no op follows
NumPy's own promotion (``int32 + float32`` is float64 there, float32 in Keras).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

#: how NumPy constants beside a Tensor are taken (Keras on JAX converts them to 32 bits)
_NARROW = {"int64": "int32", "uint64": "uint32", "float64": "float32"}


def operand_dtype(x, narrow=False):
    """What ``backend.result_type`` takes for operand ``x``: a dtype, or the weak ``int`` or
    ``float`` of a Python number; ``narrow``: NumPy data taken at 32 bits."""
    if isinstance(x, Tensor):
        if x.data.dtype.kind not in "biufc":
            raise TypeError(f"expected a numeric input. Received: dtype={x.data.dtype}")
        return x.data.dtype
    if isinstance(x, (bool, np.bool_)):
        return "bool"
    if isinstance(x, numbers.Integral) and not isinstance(x, np.integer):
        return int
    if isinstance(x, numbers.Real) and not isinstance(x, np.floating):
        return float
    dtype = x.dtype if hasattr(x, "dtype") else constant_array(x).dtype
    if dtype.kind not in "biufc":
        raise TypeError(f"expected a numeric input. Received: dtype={dtype}")
    return _NARROW.get(dtype.name, dtype) if narrow else dtype


def constant_array(value, xp=np):
    """A Python constant (number or nested list) as ``convert_to_tensor`` makes it: ints
    int32, floats floatx, bools bool."""
    arr = xp.asarray(value)
    if arr.dtype.kind == "i" and not hasattr(value, "dtype"):
        return arr.astype("int32")
    if arr.dtype.kind == "f" and not hasattr(value, "dtype"):
        return arr.astype(backend.floatx())
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            "Expected a number, a tensor or a nested list of numbers. "
            f"Received: {type(value).__name__} of dtype {arr.dtype}"
        )
    return arr


def result_dtype(*operands, float_result=False) -> np.dtype:
    """Keras's result dtype of ``operands``; with ``float_result``, the float type a float
    function gives them (integer and bool operands compute in floatx)."""
    narrow = any(isinstance(x, Tensor) for x in operands)
    types = [operand_dtype(x, narrow) for x in operands]
    if float_result:
        types.append(float)
    return np.dtype(backend.result_type(*types))


def convert(x, dtype, xp=np):
    """Operand ``x`` in ``dtype``: a Tensor cast (differentiably) when it differs, a
    constant as an array (or NumPy scalar) of ``dtype``."""
    if isinstance(x, Tensor):
        if x.data.dtype == dtype:
            return x
        from .arithmetic import cast

        return cast(x, dtype)
    if isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray):
        return dtype.type(x)
    return xp.asarray(x, dtype=dtype)


def promote(*operands, float_result=False, weak_scalars=True, bools="bool"):
    """The operands converted to their Keras result dtype: Tensors cast, arrays converted,
    scalars as Python numbers, which NumPy treats as weak (when no operand is a Tensor, the
    first array becomes one). ``weak_scalars=False``: scalars as NumPy scalars of the
    dtype, for functions that turn them into arrays themselves; ``bools="int32"``: an
    arithmetic op that Keras computes on bools in int32 (power, mod, floor_divide)."""
    if not any(isinstance(x, Tensor) for x in operands):  # the first array is the tensor
        first = next((i for i, x in enumerate(operands) if hasattr(x, "dtype")), 0)
        given = operands[first]
        tensor = Tensor(given if hasattr(given, "dtype") else constant_array(given))
        operands = operands[:first] + (tensor,) + operands[first + 1 :]
    dtype = result_dtype(*operands, float_result=float_result)
    if dtype == np.bool_ and bools != "bool":
        dtype = np.dtype(bools)
    xp = backend.array_module(*[x.data for x in operands if isinstance(x, Tensor)])
    out = []
    for x in operands:
        if weak_scalars and isinstance(x, (numbers.Number, np.generic)):
            # a scalar beside Tensors of ``dtype``: a Python number, which NumPy keeps weak
            # (and a recorded step keeps as a constant)
            if dtype.kind == "f" and not isinstance(x, complex):
                out.append(float(x))  # type: ignore[arg-type]  # a real number here
                continue
            if dtype.kind in "iu" and isinstance(x, numbers.Integral) and _fits(int(x), dtype):
                out.append(int(x) if not isinstance(x, (bool, np.bool_)) else x)
                continue
        out.append(convert(x, dtype, xp))
    return out


def _fits(value, dtype):
    info = np.iinfo(dtype)
    return info.min <= value <= info.max


#: Keras's sums and products of narrow integers accumulate in 32 bits (JAX's rule)
_ACCUMULATE = {
    "bool": "int32",
    "int8": "int32",
    "int16": "int32",
    "uint8": "uint32",
    "uint16": "uint32",
}


def accumulation_dtype(dtype) -> np.dtype:
    """The dtype a sum or product of ``dtype`` values has in Keras."""
    return np.dtype(_ACCUMULATE.get(np.dtype(dtype).name, dtype))


def cumulative_dtype(dtype) -> np.dtype:
    """The dtype of a cumulative sum or product of ``dtype`` values in Keras: bool counts
    in int32, other types keep theirs."""
    return np.dtype("int32") if np.dtype(dtype) == np.bool_ else np.dtype(dtype)


def mean_dtype(dtype) -> np.dtype:
    """The dtype of a mean (or variance) of ``dtype`` values: float32 for integers and
    bool (``result_type(dtype, "float32")``), the float dtype itself otherwise."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(backend.result_type(dtype, "float32"))


def index_dtype() -> np.dtype:
    """The dtype of indices an op returns (argmax, argsort, nonzero...): int32 in Keras."""
    return np.dtype("int32")


def promote_products(*operands):
    """Operands of a product of arrays (matmul, einsum, dot, tensordot, outer...) as
    Tensors of Keras's result dtype; int8 operands multiply in int32 (Keras does so in
    matmul and einsum; shendu in every product), so their products do not wrap around."""
    if all(operand_dtype(x, narrow=True) == np.dtype("int8") for x in operands):
        dtype = np.dtype("int32")
    else:
        dtype = result_dtype(*operands)
    xp = backend.array_module(*[x.data for x in operands if isinstance(x, Tensor)])
    return [
        convert(x, dtype, xp) if isinstance(x, Tensor) else Tensor(convert(x, dtype, xp))
        for x in operands
    ]


def float_tensor(x) -> Tensor:
    """``x`` as a Tensor of a float dtype, as a Keras float function sees it: integers and
    bool in floatx (``result_type(dtype, float)``), floats as they are."""
    t = x if isinstance(x, Tensor) else Tensor(constant_array(x) if not hasattr(x, "dtype") else x)
    if t.data.dtype.kind == "f":
        return t
    from .arithmetic import cast

    return cast(t, result_dtype(t, float_result=True))


def promote_with(x, *weights):
    """An op's data operand ``x`` next to its weights (kernel, bias): both in their result
    dtype when they differ (an int32 batch into a float32 kernel computes in float32)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    dtype = x.data.dtype
    for w in weights:  # the common case, one dtype throughout: nothing to do (hot path)
        if w is not None and not (isinstance(w, Tensor) and w.data.dtype == dtype):
            break
    else:
        return (x, *weights)
    present = [w for w in weights if w is not None]
    promoted = iter(promote(x, *present))
    return tuple(
        next(promoted) if w is not None or i == 0 else None for i, w in enumerate((x, *weights))
    )


def numeric_dtype(dtype, op: str) -> np.dtype:
    """``dtype`` as a NumPy dtype an op may make: bool, integers, floats or complex. Keras
    has no object dtype and no string arrays in its ops, so neither has shendu's."""
    try:
        out = np.dtype(backend.floatx() if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype. Received: dtype={dtype!r}") from None
    if out.kind not in "biufc":
        raise ValueError(
            f"{op}: expected a numeric dtype (bool, int8...int64, uint8...uint64, float16, "
            f"float32, float64). Received: dtype={dtype!r}"
        )
    return out
