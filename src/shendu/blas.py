"""How long the BLAS's idle threads spin: shendu's setting for OpenBLAS (NumPy's wheels).

After each matrix product OpenBLAS keeps its worker threads spinning for 2**28 cycles (about
0.1 s) waiting for the next one. Between two products a training step does elementwise work,
copies and Python on the main thread; the spinning workers take the other cores from that work
(and from ``shendu.parallel``'s threads, and from any other process). On the 2-core benchmark
machine the CNN ran about 20% faster, and the LSTM and Transformer steps stopped switching
between a fast and a slow speed, with the spin cut to 2**18 cycles (about 0.1 ms: long enough
to bridge the gaps between the products of an LSTM step, short enough to free the cores during
the rest).

OpenBLAS reads its ``OPENBLAS_THREAD_TIMEOUT`` (the exponent) when it starts its threads. At
import shendu sets it to ``THREAD_TIMEOUT`` and restarts the idle threads, unless the variable is
already set (your choice wins: set it to 28 for OpenBLAS's default). Other BLAS libraries
(MKL, Accelerate) are left alone; so are other operating systems.
"""

from __future__ import annotations

import contextlib
import os
import sys

THREAD_TIMEOUT = 18
_ENV = "OPENBLAS_THREAD_TIMEOUT"
_state = {
    "thread_timeout": None,
    "set_local_threads": None,
    "set_threads": None,
    "get_threads": None,
}
_SET_NAMES = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_")
_GET_NAMES = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_")


def _openblas():
    """The loaded OpenBLAS library (ctypes) when it exposes what we need, else None."""
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_read_env, lib.blas_thread_shutdown_, lib.openblas_thread_timeout  # noqa: B018
        except (OSError, AttributeError):
            continue
        return lib
    return None


def _first_symbol(lib, names):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


def num_threads() -> int | None:
    """OpenBLAS's thread count now (None when it cannot be read)."""
    get = _state["get_threads"]
    return int(get()) if get is not None else None


def set_num_threads(n: int) -> bool:
    """Set OpenBLAS's thread count; False when it cannot be set (another BLAS)."""
    setter = _state["set_threads"]
    if setter is None:
        return False
    setter(int(n))
    return True


def configure() -> int | None:
    """Set OpenBLAS's idle-thread spin to 2**THREAD_TIMEOUT cycles (see the module docstring).

    Returns the exponent in effect, or None when no OpenBLAS with these controls is loaded.
    """
    if not sys.platform.startswith("linux"):
        return None
    import numpy  # noqa: F401  (loads the BLAS)

    lib = _openblas()
    if lib is None:
        return None
    _state["set_local_threads"] = getattr(lib, "openblas_set_num_threads_local", None)
    _state["set_threads"] = _first_symbol(lib, _SET_NAMES)
    _state["get_threads"] = _first_symbol(lib, _GET_NAMES)
    if _ENV not in os.environ:
        os.environ[_ENV] = str(THREAD_TIMEOUT)
        lib.openblas_read_env()
        lib.blas_thread_shutdown_()  # the threads restart with the new spin at the next product
    _state["thread_timeout"] = int(lib.openblas_thread_timeout()) or None
    return _state["thread_timeout"]


def thread_timeout() -> int | None:
    """The exponent of OpenBLAS's idle-thread spin in this process (None: not OpenBLAS)."""
    return _state["thread_timeout"]


@contextlib.contextmanager
def single_threaded():
    """Within the block, BLAS calls made by this thread run on this thread alone.

    For work that is already split over threads (``shendu.parallel``), so that each thread's
    matrix products do not also start the BLAS's own threads. Uses OpenBLAS's per-thread
    setting (0.3.27 and later), reset to the global one afterwards; elsewhere it does nothing.
    """
    set_local = _state["set_local_threads"]
    if set_local is None:
        yield
        return
    set_local(1)
    try:
        yield
    finally:
        set_local(0)  # 0: this thread follows the global thread count again
