"""The BLAS matrix product NumPy uses, callable from numba loops.

A recurrence alternates one small matrix product with elementwise work, step after step;
with the product behind NumPy, every step returns to Python (and takes the GIL) twice. A
loop that calls ``cblas_sgemm`` itself runs the whole sequence in one call, without the
GIL, so blocks of the batch run on separate threads.

The symbol is NumPy's own OpenBLAS (``scipy_cblas_sgemm64_`` in NumPy's wheels, 64-bit
integers; ``cblas_sgemm`` where NumPy links a system OpenBLAS, 32-bit integers). numba
links it by name (``llvmlite.binding.add_symbol``), so the compiled loops stay cacheable.
Without OpenBLAS (macOS's Accelerate, MKL) ``sgemm_function`` returns None and the kernels
that need it take their NumPy path.
"""

from __future__ import annotations

import ctypes

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
_SYMBOLS = (("scipy_cblas_sgemm64_", 64), ("cblas_sgemm64_", 64), ("cblas_sgemm", 32))
_state: dict = {}


def _find():
    """(symbol name, integer bits, address) of the loaded OpenBLAS's cblas_sgemm, or None."""
    from .. import blas

    lib = blas.openblas()
    if lib is None:
        return None
    for name, bits in _SYMBOLS:
        fn = getattr(lib, name, None)
        if fn is not None:
            return name, bits, ctypes.cast(fn, ctypes.c_void_p).value
    return None


def sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """C = alpha A B + beta C (cblas_sgemm): the name loops call; each compiled loop is
    linked to the BLAS's function (``sgemm_function``), this Python body never runs."""
    raise RuntimeError("cblas.sgemm is only callable from a compiled kernel loop")


def sgemm_function():
    """numba's declaration of cblas_sgemm (row-major C = alpha A B + beta C), linked to the
    loaded OpenBLAS; None when there is none."""
    if "sgemm" not in _state:
        found = _find()
        if found is None:
            _state["sgemm"] = None
        else:
            import llvmlite.binding as llvm
            from numba import types

            name, bits, address = found
            llvm.add_symbol(name, address)
            i, f, p = types.int64 if bits == 64 else types.int32, types.float32, types.voidptr
            signature = types.void(types.int32, types.int32, types.int32, i, i, i)
            signature = types.void(*signature.args, f, p, i, p, i, f, p, i)
            _state["sgemm"] = types.ExternalFunction(name, signature)
    return _state["sgemm"]
