"""How long the BLAS's idle threads spin: shendu's setting for OpenBLAS (NumPy's wheels).

After each matrix product OpenBLAS keeps its worker threads spinning for 2**28 cycles (about
0.1 s) waiting for the next one. Between two products a training step does elementwise work,
copies and Python on the main thread; the spinning workers take the other cores from that work
(and from ``shendu.parallel``'s threads, and from any other process). With the spin cut to
2**18 cycles (about 0.1 ms: long enough to bridge the gaps between the products of an LSTM
step, short enough to free the cores during the rest) the benchmark's steps ran faster and
steadier (docs/benchmarks.md, "the BLAS spin").

OpenBLAS reads its ``OPENBLAS_THREAD_TIMEOUT`` (the exponent) when it starts its threads.
While ``fit`` runs (``short_spin()``) shendu has OpenBLAS read ``THREAD_TIMEOUT`` instead and
restarts the idle threads; when ``fit`` returns, OpenBLAS reads the environment as it stands
again (its default when the variable is unset) and the threads restart once more. The
environment itself is never changed, and importing shendu changes nothing. A value you set
in ``OPENBLAS_THREAD_TIMEOUT`` wins (28 is OpenBLAS's default). Other BLAS libraries (MKL,
Accelerate) are left alone; so are other operating systems.
"""

from __future__ import annotations

import contextlib
import os
import sys

THREAD_TIMEOUT = 18
OPENBLAS_DEFAULT = 28  # what OpenBLAS uses when the variable is unset
_ENV = "OPENBLAS_THREAD_TIMEOUT"
_state = {"depth": 0, "set_local_threads": None, "set_threads": None, "get_threads": None}
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


def _read_timeout(lib, value) -> None:
    """Have OpenBLAS read OPENBLAS_THREAD_TIMEOUT as ``value`` (None: as the environment has
    it), and restart its idle threads with that spin. The environment is left as it was."""
    if value is not None:
        before = os.environ.get(_ENV)
        os.environ[_ENV] = str(value)
        try:
            lib.openblas_read_env()
        finally:
            if before is None:
                del os.environ[_ENV]
            else:
                os.environ[_ENV] = before
    else:
        lib.openblas_read_env()
    lib.blas_thread_shutdown_()  # the threads restart with the new spin at the next product


@contextlib.contextmanager
def short_spin():
    """Within the block (``fit``), OpenBLAS's idle threads spin 2**THREAD_TIMEOUT cycles
    (see the module docstring), unless OPENBLAS_THREAD_TIMEOUT is set; after it, OpenBLAS's
    own setting is back."""
    lib = _library()
    if lib is None or _ENV in os.environ or _state["depth"]:
        _state["depth"] += 1
        try:
            yield
        finally:
            _state["depth"] -= 1
        return
    _state["depth"] += 1
    _read_timeout(lib, THREAD_TIMEOUT)
    try:
        yield
    finally:
        _state["depth"] -= 1
        _read_timeout(lib, None)


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
