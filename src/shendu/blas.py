"""OpenBLAS (NumPy's wheels) seen from shendu: its thread count, read and set through its
own functions, per process or per thread, and the idle spin of its threads, read only.

After each matrix product OpenBLAS keeps its worker threads spinning for 2**28 cycles (about
0.1 s) waiting for the next one; ``OPENBLAS_THREAD_TIMEOUT`` (the exponent), read when the
library loads, changes that. shendu used to have OpenBLAS read a shorter spin while ``fit``
ran, by setting that variable for a moment: a ``setenv`` in a process whose other threads may
be reading the environment, which C libraries do not allow. It no longer does: the
environment is left alone, and a user who wants the short spin sets it before Python starts
(``OPENBLAS_THREAD_TIMEOUT=18``; docs/guides/performance.md has the measurements). Other
BLAS libraries (MKL, Accelerate) are left alone; so are other operating systems.
"""

from __future__ import annotations

import contextlib
import sys

OPENBLAS_DEFAULT = 28  # the spin's exponent OpenBLAS uses when the variable is unset
_state = {"set_local_threads": None, "set_threads": None, "get_threads": None}
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
            lib.openblas_thread_timeout  # noqa: B018  (OpenBLAS, not another BLAS)
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
    _library()
    get = _state["get_threads"]
    return int(get()) if get is not None else None


def set_num_threads(n: int) -> bool:
    """Set OpenBLAS's thread count; False when it cannot be set (another BLAS)."""
    _library()
    setter = _state["set_threads"]
    if setter is None:
        return False
    setter(int(n))
    return True


def openblas():
    """The loaded OpenBLAS (a ctypes library), or None when NumPy uses another BLAS."""
    return _library()


def _library():
    """The loaded OpenBLAS with its thread controls looked up once (None: not OpenBLAS)."""
    if "lib" not in _state:
        lib = None
        if sys.platform.startswith("linux"):
            import numpy  # noqa: F401  (loads the BLAS)

            lib = _openblas()
        _state["lib"] = lib
        if lib is not None:
            _state["set_local_threads"] = getattr(lib, "openblas_set_num_threads_local", None)
            _state["set_threads"] = _first_symbol(lib, _SET_NAMES)
            _state["get_threads"] = _first_symbol(lib, _GET_NAMES)
    return _state["lib"]


def thread_timeout() -> int | None:
    """The exponent of OpenBLAS's idle-thread spin in effect now (None: not OpenBLAS)."""
    lib = _library()
    return None if lib is None else int(lib.openblas_thread_timeout()) or OPENBLAS_DEFAULT


@contextlib.contextmanager
def process_threads(n: int):
    """Within the block, OpenBLAS runs on ``n`` threads in the whole process; then its count
    is back.

    For loops that call the BLAS themselves from several threads at once (``kernels``):
    there OpenBLAS's per-thread setting (``single_threaded``) was measured to serialize the
    threads' products, its process-wide count did not. Elsewhere it does nothing.
    """
    before = num_threads()
    if before is None or before == n:
        yield
        return
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


@contextlib.contextmanager
def single_threaded():
    """Within the block, BLAS calls made by this thread run on this thread alone.

    For work that is already split over threads (``shendu.parallel``), so that each thread's
    matrix products do not also start the BLAS's own threads. Uses OpenBLAS's per-thread
    setting (0.3.27 and later), reset to the global one afterwards; elsewhere it does nothing.
    """
    _library()
    set_local = _state["set_local_threads"]
    if set_local is None:
        yield
        return
    set_local(1)
    try:
        yield
    finally:
        set_local(0)  # 0: this thread follows the global thread count again
