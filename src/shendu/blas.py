"""OpenBLAS (NumPy's wheels) seen from shendu: its thread count, read and set through its
own functions, per process or per thread, and how long its idle threads spin.

After each matrix product OpenBLAS keeps its worker threads spinning for 2**28 cycles (about
0.1 s) waiting for the next one. Between two products a training step does elementwise work,
copies and Python on the main thread; the spinning workers take the other cores from that
work (and from ``shendu.parallel``'s threads, and from any other process). With the spin cut
to 2**18 cycles (about 0.1 ms: long enough to bridge the gaps between the products of an
LSTM step, short enough to free the cores during the rest) the benchmark's convolution and
recurrent steps ran faster (docs/guides/performance.md has the figures).

OpenBLAS reads the spin's exponent from ``OPENBLAS_THREAD_TIMEOUT`` when it loads, into a
setting its function ``openblas_thread_timeout`` returns. While ``fit`` runs
(``short_spin()``) shendu writes ``THREAD_TIMEOUT`` into that setting and restarts the idle
threads; when ``fit`` returns, the setting is put back and the threads restart once more.
The setting is found through the accessor's own code (on x86-64, ``mov eax, [rip + d];
ret``: the setting is at the address it reads) and the write is checked through the
accessor; where that cannot be done (another processor, another build) nothing changes.
The environment is never written (``setenv`` in a process whose other threads may read the
environment is unsafe in C), and importing shendu changes nothing. A value you set in
``OPENBLAS_THREAD_TIMEOUT`` wins (28 is OpenBLAS's default). Other BLAS libraries (MKL,
Accelerate) are left alone; so are other operating systems.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from typing import Any

THREAD_TIMEOUT = 18
OPENBLAS_DEFAULT = 28  # the spin's exponent OpenBLAS uses when the variable is unset
_ENV = "OPENBLAS_THREAD_TIMEOUT"
#: x86-64 code of an accessor returning a global int: mov eax, [rip + disp32]; ret
_LOAD_AND_RETURN = (b"\x8b\x05", 0xC3)
_state: dict[str, Any] = {
    "depth": 0,
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
            lib.openblas_thread_timeout, lib.blas_thread_shutdown_  # noqa: B018
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


def _timeout_setting(lib):
    """OpenBLAS's thread-timeout setting as a ctypes int (None when it cannot be found):
    the int its accessor ``openblas_thread_timeout`` loads, read from the accessor's code
    (see the module docstring) and checked against what the accessor returns."""
    import ctypes

    if "timeout_setting" in _state:
        return _state["timeout_setting"]
    setting = None
    if platform.machine().lower() in ("x86_64", "amd64"):
        address = ctypes.cast(lib.openblas_thread_timeout, ctypes.c_void_p).value
        code = ctypes.string_at(address, 7) if address else b""
        opcode, ret = _LOAD_AND_RETURN
        if address and len(code) == 7 and code[:2] == opcode and code[6] == ret:
            offset = int.from_bytes(code[2:6], "little", signed=True)
            candidate = ctypes.c_int.from_address(address + 6 + offset)
            if candidate.value == lib.openblas_thread_timeout():
                setting = candidate
    _state["timeout_setting"] = setting
    return setting


def _set_timeout(lib, setting, value) -> bool:
    """Write ``value`` into the setting, check it through the accessor, and restart the
    idle threads so that they spin with it; False (and nothing changed) when the check
    fails."""
    before = setting.value
    setting.value = value
    if lib.openblas_thread_timeout() != value:
        setting.value = before
        return False
    lib.blas_thread_shutdown_()  # the threads restart with the new spin at the next product
    return True


@contextlib.contextmanager
def short_spin():
    """Within the block (``fit``), OpenBLAS's idle threads spin 2**THREAD_TIMEOUT cycles
    (see the module docstring), unless OPENBLAS_THREAD_TIMEOUT is set; after it, OpenBLAS's
    own setting is back. The environment is not touched."""
    lib = _library()
    setting = None if lib is None or _ENV in os.environ else _timeout_setting(lib)
    if setting is None or _state["depth"]:
        _state["depth"] += 1
        try:
            yield
        finally:
            _state["depth"] -= 1
        return
    before = setting.value
    _state["depth"] += 1
    changed = _set_timeout(lib, setting, THREAD_TIMEOUT)
    try:
        yield
    finally:
        _state["depth"] -= 1
        if changed:
            _set_timeout(lib, setting, before)


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
