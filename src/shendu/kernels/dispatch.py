"""Which path a kernel takes (NumPy or numba), chosen in one place.

A ``Kernel`` pairs a NumPy function (the reference: the path on CuPy, without numba, and
under ``SHENDU_KERNELS=numpy``) with a loop written for numba that computes the same thing
in one pass over memory. Both take the same arguments and write their results in place, so
an op calls the kernel and reads the same with or without the extra.

The selection is ``SHENDU_KERNELS`` (read on first use) or ``set_kernels``:
  numpy  the NumPy functions always;
  numba  the numba loops (an ImportError naming ``shendu[fast]`` when numba is missing);
  auto   (the default) numba when it imports and the call's largest array has at least
         AUTO_MIN_ELEMENTS elements, the NumPy functions otherwise: silently when numba is
         not installed, with one warning naming why when it is installed but cannot be
         loaded (a numba built for another NumPy, a broken install).

numba is imported on the first call of a kernel, never by ``import shendu``. Loops compile
on first use per argument types, with ``cache=True`` (numba keeps the machine code beside
the module, or in the user's cache directory when the package's folder is read-only; when
neither can be written the loop compiles on every start, with a warning), ``nogil=True``
(``shendu.parallel``'s threads run them side by side), ``error_model="numpy"`` and the
fast-math flags that keep NaN and infinity semantics (no ``nnan``/``ninf``). A loop about
to compile (no cache of it yet) says so once on standard error: the first fit with the
extra waits a few seconds there, once per machine.
"""

from __future__ import annotations

import os
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

MODES = ("numpy", "numba", "auto")
#: under 'auto', calls whose largest array is smaller take the NumPy path: small work runs
#: fast either way, and a short script (the seed program) does not pay numba's import and
#: its loops' first load (about 1 s and 0.1 s a loop on the project's machine)
AUTO_MIN_ELEMENTS = 1 << 14
ENV = "SHENDU_KERNELS"
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
MISSING = (
    "numba is not installed: the fused kernels need the `fast` extra (pip install 'shendu[fast]')"
)

_UNSET = object()
_state: dict[str, Any] = {
    "mode": None,
    "numba": None,
    "loaded": False,
    "why": None,
    "missing": False,
}


def _check_mode(mode, source):
    if mode not in MODES:
        raise ValueError(f"{source} must be one of {', '.join(MODES)}. Received: {mode!r}")
    return mode


def kernels() -> str:
    """The selection in effect: 'numpy', 'numba' or 'auto'."""
    if _state["mode"] is None:
        _state["mode"] = _check_mode(os.environ.get(ENV, "auto").strip().lower(), ENV)
    return _state["mode"]


def set_kernels(mode: str) -> None:
    """Select the kernels' path from now on: 'numpy', 'numba' or 'auto' (see the module
    docstring). 'numba' imports numba now and raises ImportError when it cannot."""
    mode = _check_mode(mode, "set_kernels(mode)")
    if mode == "numba":
        numba = _load_numba()
        if numba is None:
            raise ImportError(f"{MISSING}; {_state['why']}")
    _state["mode"] = mode


def _load_numba():
    """The numba module, or None with the reason in _state['why'] (imported once)."""
    if not _state["loaded"]:
        _state["loaded"] = True
        try:
            import numba
        except ModuleNotFoundError as exc:
            _state["why"], _state["missing"] = f"{exc}", True
        except Exception as exc:  # installed but not loadable (e.g. built for another NumPy)
            _state["why"] = f"numba could not be loaded ({type(exc).__name__}: {exc})"
        else:
            _state["numba"] = numba
    return _state["numba"]


def using_numba() -> bool:
    """Whether kernels take their numba path now (imports numba under 'auto')."""
    mode = kernels()
    if mode == "numpy":
        return False
    numba = _load_numba()
    if numba is not None:
        return True
    if mode == "numba":
        raise ImportError(f"{MISSING}; {_state['why']}")
    if _state["why"] and not _state["missing"]:
        warnings.warn(
            f"{_state['why']}; shendu uses its NumPy kernels", RuntimeWarning, stacklevel=3
        )
        _state["why"] = None  # warned once
    return False


def _with_compiled_helpers(loop: Callable, helpers: tuple, linked: dict, numba) -> Callable:
    """A copy of ``loop`` whose global names of ``helpers`` (plain functions the loop calls)
    refer to numba-compiled copies of them, which see the same replaced names, and whose
    names in ``linked`` refer to those objects (external functions)."""
    names: dict = {}
    for helper in helpers:
        names.update(helper.__globals__)
    names.update(loop.__globals__)
    names.update(linked)
    options = dict(fastmath=FASTMATH, error_model="numpy")
    for helper in helpers:
        copy = types.FunctionType(helper.__code__, names, helper.__name__, helper.__defaults__)
        names[helper.__name__] = numba.njit(**options)(copy)
    return types.FunctionType(
        loop.__code__, names, loop.__name__, loop.__defaults__, loop.__closure__
    )


def jit(
    loop: Callable, helpers: tuple = (), linked: dict | None = None, cache: bool = True
) -> Callable:
    """``loop`` compiled by numba with shendu's options (caching when a cache location
    can be written and ``cache``); ``helpers`` are plain functions it calls, compiled with
    it; ``linked`` maps global names of the loop to numba objects (external functions)."""
    numba = _load_numba()
    options = dict(nogil=True, fastmath=FASTMATH, error_model="numpy")
    if helpers or linked:
        loop = _with_compiled_helpers(loop, helpers, linked or {}, numba)
    if not cache:
        return numba.njit(cache=False, **options)(loop)
    try:
        return numba.njit(cache=True, **options)(loop)
    except RuntimeError as exc:  # no writable cache location
        warnings.warn(
            f"numba cannot cache {loop.__qualname__} ({exc}); it compiles on every start",
            RuntimeWarning,
            stacklevel=2,
        )
        return numba.njit(cache=False, **options)(loop)


def _from_numba_cache(err: BaseException) -> bool:
    """Whether ``err`` was raised while numba read its cache (a truncated or damaged
    ``.nbi`` / ``.nbc`` file: numba's raw UnpicklingError, EOFError...)."""
    tb = err.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename.replace(os.sep, "/")
        if filename.endswith("numba/core/caching.py"):
            return True
        tb = tb.tb_next
    return False


def _recompiled_without_cache(kernel: Kernel, compiled: Any, err: BaseException) -> Callable:
    """The kernel's loop compiled afresh, not read from or written to numba's cache, after
    one warning naming the damaged cache files."""
    cache_file = getattr(getattr(compiled, "_cache", None), "_cache_file", None)
    index = getattr(cache_file, "_index_path", None) or f"{kernel.loop.__name__}-*.nbi"
    warnings.warn(
        f"shendu kernel {kernel.name!r}: numba's cache file {index} "
        f"(or its .nbc data) is damaged ({type(err).__name__}: {err}); the loop is compiled "
        "afresh. Delete the damaged files to cache it again",
        RuntimeWarning,
        stacklevel=3,
    )
    return jit(kernel.loop, kernel.helpers, kernel._linked, cache=False)


def _will_compile(compiled: Any) -> str:
    """Why the first call of a numba dispatcher compiles its loop ("" when it loads it):
    numba has no cache of it yet, or keeps none. A cache made for other argument types
    counts as a cache (the message is a hint, not a promise)."""
    cache_file = getattr(getattr(compiled, "_cache", None), "_cache_file", None)
    index = getattr(cache_file, "_index_path", None)
    if index is None:
        return "numba, with no cache here: every run compiles it"
    if not os.path.exists(index):
        return "numba, once: later runs load it from the cache"
    return ""


def _largest(args) -> int:
    """The size of the largest array among ``args``."""
    return max((a.size for a in args if isinstance(a, np.ndarray)), default=0)


def _on_cpu(args, dtypes) -> bool:
    """Every array argument is a NumPy array, its floating ones of one of ``dtypes`` (CuPy
    arrays and other float dtypes take the reference path; boolean masks go through)."""
    for a in args:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f" and a.dtype.type not in dtypes:
                return False
        elif not isinstance(a, np.generic) and (
            hasattr(a, "__array_namespace__") or hasattr(a, "__cuda_array_interface__")
        ):
            return False  # a CuPy (or other library's) array
    return True


class Kernel:
    """One fused operation with two implementations of the same signature.

    ``reference(*args)`` uses NumPy (or CuPy) whole-array operations; ``loop(*args)`` is
    the numba source. Calling the kernel runs the compiled loop when numba is selected and
    every array is a NumPy array of one of ``dtypes``, the reference otherwise.
    ``helpers``: plain functions the loop calls (compiled with it); ``linked()``: a dict
    of further global names for the loop (e.g. the BLAS product, ``kernels.cblas``), or
    None when they cannot be had here (the kernel then runs its reference).
    """

    registry: dict[str, Kernel] = {}

    def __init__(
        self,
        name: str,
        reference: Callable,
        loop: Callable,
        dtypes: tuple = (np.float32, np.float64),
        helpers: tuple = (),
        linked: Callable[[], dict | None] | None = None,
    ):
        self.name = name
        self.reference = reference
        self.loop = loop
        self.dtypes = dtypes
        self.helpers = helpers
        self.linked = linked
        self._compiled: Callable | None = None
        self._linked: Any = _UNSET
        self._announced = False
        Kernel.registry[name] = self

    def available(self) -> bool:
        """Whether the loop can be compiled here: numba selected and loaded, and what it
        links to (``linked``) found."""
        if not using_numba():
            return False
        if self._linked is _UNSET:
            self._linked = {} if self.linked is None else self.linked()
        return self._linked is not None

    def compiled(self) -> Callable:
        """The numba-compiled loop (compiled at the first call for each argument types)."""
        if self._compiled is None:
            if not self.available():
                raise RuntimeError(f"kernel {self.name!r}: its numba loop is not available")
            self._compiled = jit(self.loop, self.helpers, self._linked)
        return self._compiled

    def runs_compiled(self, *args) -> bool:
        """Whether a call with ``args`` runs the compiled loop (else the reference)."""
        mode = kernels()
        if mode == "numpy" or (mode == "auto" and _largest(args) < AUTO_MIN_ELEMENTS):
            return False
        return _on_cpu(args, self.dtypes) and self.available()

    def __call__(self, *args):
        if self.runs_compiled(*args):
            compiled = self.compiled()
            if not self._announced:
                self._announced = True
                compiles = _will_compile(compiled)
                if compiles:
                    print(
                        f"shendu: compiling the {self.name} kernel for this machine ({compiles})",
                        file=sys.stderr,
                        flush=True,
                    )
            try:
                return compiled(*args)
            except Exception as err:
                if not _from_numba_cache(err):
                    raise
                self._compiled = _recompiled_without_cache(self, compiled, err)
                return self._compiled(*args)
        return self.reference(*args)

    def __repr__(self):
        return f"Kernel({self.name!r})"
