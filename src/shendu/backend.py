"""Which array module an array lives on, the float dtype policy, and the library's seeded RNG.

Array code never imports numpy or cupy directly for computation: it asks
``array_module(x)`` for the module of the arrays at hand (``xp``) so that the
same op runs on NumPy and, when installed, on CuPy. CuPy is imported lazily.
"""

from __future__ import annotations

import sys

import numpy as np

from . import naming
from .keras_tensor import KerasTensor

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE = "cpu"
_UIDS: dict = {}
_ALLOWED_FLOATX = ("float16", "float32", "float64")
_generator: np.random.Generator = np.random.default_rng()
_seed: int | None = None
_MODULES = sys.modules


def _cupy_if_loaded():
    """Return the cupy module only if the user (or a device call) already imported it."""
    return sys.modules.get("cupy")


def array_module(*arrays):
    """Return the array module (``numpy`` or ``cupy``) of the given arrays.

    Raises ``ValueError`` when NumPy and CuPy arrays are mixed in one call.
    """
    cp = _MODULES.get("cupy")  # _cupy_if_loaded(), inlined: this runs in every op
    if cp is None:
        return np
    found = None
    for a in arrays:
        if isinstance(a, cp.ndarray):
            if found is np:
                raise ValueError(
                    "Cannot mix NumPy (cpu) and CuPy (gpu) arrays in one op. "
                    "Move both to one device first (Tensor.to('cpu') or Tensor.to('gpu'))."
                )
            found = cp
        elif isinstance(a, np.ndarray):
            if found is cp:
                raise ValueError(
                    "Cannot mix NumPy (cpu) and CuPy (gpu) arrays in one op. "
                    "Move both to one device first (Tensor.to('cpu') or Tensor.to('gpu'))."
                )
            found = np
    return found or np


def floatx() -> str:
    """Return the default float dtype name (``"float32"`` unless changed)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: one of ``float16``, ``float32``, ``float64``."""
    global _FLOATX
    name = np.dtype(value).name if isinstance(value, (str, type, np.dtype)) else value
    if name not in _ALLOWED_FLOATX:
        raise ValueError(
            f"Unknown `floatx` value, expected one of {_ALLOWED_FLOATX}. "
            f"Received: floatx={value!r}"
        )
    _FLOATX = name


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (1e-7 unless changed)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"Expected a positive float for `epsilon`. Received: epsilon={value!r}")
    _EPSILON = float(value)


def image_data_format() -> str:
    """'channels_last' (the default) or 'channels_first': the default ``data_format`` of
    the image layers and ops."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    """``data_format``, or the configured default when None (checked)."""
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


def backend() -> str:
    """The name of the array backend: ``"numpy"`` (CuPy arrays on a GPU share its API)."""
    return "numpy"


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name: 'float32', 'int64', 'bool', 'string' (Python types: int ->
    'int32', as Keras's, float -> floatx, bool -> 'bool'; None -> floatx)."""
    if dtype is None:
        return _FLOATX
    if dtype is int:
        return "int32"
    if dtype is float:
        return _FLOATX
    if dtype is bool:
        return "bool"
    if dtype in ("string", "str", str):
        return "string"
    if hasattr(dtype, "dtype") and not isinstance(dtype, type):
        dtype = dtype.dtype
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}") from None
    return "string" if name.startswith(("str", "<U", "object")) else name


# Keras's type promotion lattice (keras/src/backend/common/dtypes.py, after JAX's): each
# dtype points to the dtypes just above it; "int" and "float" are the weak types of Python
# scalars, which take the other operand's type instead of widening it.
_WEAK = ("int", "float")
_LATTICE = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("float16",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex64": ("complex128",),
    "complex128": (),
}


def _upper_bounds():
    """For each dtype, itself and every dtype above it in the lattice."""
    out = {}
    for node in _LATTICE:
        seen, stack = {node}, [node]
        while stack:
            for up in _LATTICE[stack.pop()]:
                if up not in seen:
                    seen.add(up)
                    stack.append(up)
        out[node] = seen
    return out


_UPPER = _upper_bounds()
_TABLE_CACHE: dict = {}


def _least_upper_bound(names) -> str:
    common = set.intersection(*(_UPPER[n] for n in names))
    # the least of the common upper bounds: the one below all the others
    for candidate in common:
        if all(other in _UPPER[candidate] for other in common):
            return candidate
    raise ValueError(f"No common dtype for {sorted(names)}")  # pragma: no cover (a lattice)


def _promotable(dtype) -> tuple[str, bool]:
    """(lattice name, weak) of one argument of ``result_type``."""
    if dtype is int or dtype is float:
        return ("int" if dtype is int else "float"), True
    if dtype is None:
        return _FLOATX, False
    name = standardize_dtype(dtype)
    if name not in _LATTICE or name in _WEAK:
        raise ValueError(
            f"Invalid dtype: {name!r}. shendu's ops take bool, uint8/16/32/64, int8/16/32/64, "
            f"float16/32/64 and complex64/128 (Keras's dtypes less bfloat16). "
            f"Received: {dtype!r}"
        )
    return name, False


def result_type(*dtypes) -> str:
    """The dtype that values of ``dtypes`` combine to, by Keras's lattice: the least type
    above all of them. Python ``int`` and ``float`` are weak (``uint8`` with ``int`` stays
    ``uint8``, ``int8`` with ``float`` gives floatx); weak types alone give ``int32`` and
    floatx; an integer next to a float takes the float's type; ``int64`` with ``uint64``
    meets at floatx; no dtypes give floatx. Refuses dtypes Keras does not know (object,
    strings)."""
    key = (dtypes, _FLOATX)
    try:
        return _TABLE_CACHE[key]
    except (KeyError, TypeError):  # unhashable arguments (arrays' dtypes are hashable)
        pass
    if not dtypes:
        return _FLOATX
    names, weak = zip(*(_promotable(d) for d in dtypes))
    if len(set(names)) == 1:
        out, out_weak = names[0], all(weak)
    else:
        out = _least_upper_bound(set(names))
        out_weak = out in _WEAK
    if out_weak and out != "bool":
        precision = _FLOATX[-2:]
        out = {"int": f"int{precision}", "float": f"float{precision}"}.get(out, out)
    try:
        _TABLE_CACHE[key] = out
    except TypeError:
        pass
    return out


def is_int_dtype(dtype) -> bool:
    return np.dtype(standardize_dtype(dtype)).kind in "iu"


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... for successive calls with the same ``prefix``."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def clear_session(free_memory=True) -> None:
    """Start over as Keras's ``clear_session``: automatic layer names count from the start
    again (dense, dense_1, ...) and uids restart; with ``free_memory``, unreferenced objects
    are collected."""
    naming.reset_names()
    _UIDS.clear()
    if free_memory:
        import gc

        gc.collect()


def is_keras_tensor(x) -> bool:
    """True for a symbolic tensor of the functional API (``Input`` and what layers make
    of it)."""
    return isinstance(x, KerasTensor)


def set_random_seed(seed: int) -> None:
    """Seed the library's one NumPy Generator (and CuPy's RNG when CuPy is loaded).

    Every random op in shendu (initializers, dropout, shuffling, augmentation)
    draws from this generator unless it is given its own seed.
    """
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"Expected a non-negative integer seed. Received: seed={seed!r}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    np.random.seed(_seed % 2**32)
    cp = _cupy_if_loaded()
    if cp is not None:
        cp.random.seed(_seed)


def generator() -> np.random.Generator:
    """Return the library's global NumPy Generator."""
    return _generator


def make_generator(seed=None) -> np.random.Generator:
    """A Generator: a fresh one from ``seed``, or one spawned from the global generator."""
    if seed is None:
        return np.random.default_rng(_generator.integers(0, 2**63 - 1))
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def is_float_dtype(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def to_numpy(x):
    """Return ``x`` as a NumPy array (copying from the GPU when needed)."""
    cp = _cupy_if_loaded()
    if cp is not None and isinstance(x, cp.ndarray):
        return cp.asnumpy(x)
    return np.asarray(x)


def require_cupy():
    """Import CuPy, or explain how to get it (the ``[gpu]`` extra)."""
    try:
        import cupy
    except ImportError:
        raise ImportError(
            "The GPU needs CuPy, which is not installed. Install the extra: "
            "pip install 'shendu[gpu]' (cupy-cuda12x; use cupy-cuda13x for CUDA 13 drivers)."
        ) from None
    return cupy


def device() -> str:
    """The default device of new model weights and batches: ``"cpu"`` or ``"gpu"``."""
    return _DEVICE


def set_device(name: str) -> None:
    """Choose ``"cpu"`` (NumPy) or ``"gpu"`` (CuPy). Asking for the GPU without CuPy, or
    without a working CUDA driver, raises an error that says which and how to fix it."""
    global _DEVICE
    if name not in ("cpu", "gpu"):
        raise ValueError(f"Expected device 'cpu' or 'gpu'. Received: device={name!r}")
    if name == "gpu":
        cp = require_cupy()
        try:
            count = cp.cuda.runtime.getDeviceCount()
        except Exception as err:  # CUDARuntimeError and friends
            raise RuntimeError(
                f"CuPy is installed but no CUDA device is usable ({err}). Check the NVIDIA "
                "driver (nvidia-smi) and that the cupy-cuda12x / cupy-cuda13x wheel matches "
                "the driver's CUDA version."
            ) from None
        if count < 1:
            raise RuntimeError("CuPy is installed but reports no CUDA device")
    _DEVICE = name


def to_device_array(a, name: str):
    """``a`` as an array on ``name`` ("cpu" or "gpu")."""
    if name == "cpu":
        return to_numpy(a)
    return require_cupy().asarray(a)
