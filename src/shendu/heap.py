"""Keep freed array memory in the process for reuse (glibc's malloc, Linux).

A training step allocates and frees the same large arrays every step (im2col columns,
activations, gradients). glibc's malloc serves requests above its mmap threshold with fresh
``mmap`` pages and gives them back with ``munmap`` on free, and it trims the top of the heap
back to the OS; either way the next step page-faults the same memory in again and the kernel
zeroes every page (docs/benchmarks.md, "the heap": on the benchmark's CNN a large part of
the step time).

While ``fit`` runs, and ``evaluate`` or ``predict`` over several batches (``kept_for_reuse()``),
shendu sets two malloc parameters so that blocks up to 32 MiB come from the heap and freed heap
memory is kept for the next allocation:

- ``M_MMAP_THRESHOLD`` = 32 MiB (glibc's own upper limit for its dynamic threshold);
- ``M_TRIM_THRESHOLD`` = 1 GiB (the heap is not trimmed on every free).

The process's peak memory is unchanged; what changes is that memory, once used, stays with the
process during training, as a caching allocator does. When ``fit`` returns, the parameters go
back to glibc's defaults (128 KiB each) and the kept memory back to the operating system
(``malloc_trim``); glibc's dynamic mmap threshold, which any ``mallopt`` call ends, stays off.
The price of giving it back: each ``fit`` faults its first step's memory in again (one step's
worth of page faults per call, which a long fit does not notice). Importing shendu changes
nothing. ``configure()`` sets the parameters for the whole process
instead (until ``restore_defaults()``), for a program that wants them everywhere. Set the
environment variable ``SHENDU_HEAP=system`` to leave malloc alone in every case. A process
started with its own malloc settings (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_MAX_``, or ``GLIBC_TUNABLES`` naming ``glibc.malloc``) keeps
them: shendu changes nothing there either, since glibc cannot say what they were to put them
back. On other C libraries and systems nothing is changed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024
GLIBC_DEFAULT_BYTES = 128 * 1024  # glibc's default for both thresholds

_state: dict[str, Any] = {"configured": False, "depth": 0}


def _glibc():
    """The C library when it is glibc (the only one whose parameters we know), else None."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - present only in glibc
    except (OSError, AttributeError):
        return None
    return libc


#: glibc's environment settings of malloc: a process started with any of them keeps them
USER_MALLOC_SETTINGS = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)


def user_settings() -> list[str]:
    """The malloc settings this process was started with (names of the variables)."""
    found = [name for name in USER_MALLOC_SETTINGS if name in os.environ]
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        found.append("GLIBC_TUNABLES")
    return found


def configure() -> bool:
    """Set the malloc parameters above; return whether they are in effect.

    Does nothing (and returns False) with ``SHENDU_HEAP=system``, when the process has malloc
    settings of its own (``user_settings()``), off Linux, or without glibc.
    """
    if os.environ.get("SHENDU_HEAP", "").lower() == "system" or user_settings():
        return False
    if not sys.platform.startswith("linux"):
        return False
    libc = _glibc()
    if libc is None:
        return False
    ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    ok = libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok
    _state["configured"] = ok
    return ok


def restore_defaults() -> None:
    """Put glibc's default thresholds back and return the kept memory (``release``)."""
    if not _state["configured"]:
        return
    libc = _glibc()
    libc.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_BYTES)
    libc.mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT_BYTES)
    libc.malloc_trim(0)
    _state["configured"] = False


@contextlib.contextmanager
def kept_for_reuse():
    """Within the block (``fit``), freed memory is kept for reuse (``configure``); after it,
    glibc's defaults are back, unless the parameters were in effect before the block."""
    outermost = _state["depth"] == 0 and not _state["configured"]
    _state["depth"] += 1
    try:
        if outermost:
            configure()
        yield
    finally:
        _state["depth"] -= 1
        if outermost:
            restore_defaults()


def is_configured() -> bool:
    """Whether shendu's malloc parameters are in effect in this process."""
    return _state["configured"]


def release() -> None:
    """Give the freed memory the heap keeps back to the operating system (``malloc_trim``)."""
    if not _state["configured"]:
        return
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
