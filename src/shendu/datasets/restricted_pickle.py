"""A pickle reader for the data set files Keras keeps as pickles (CIFAR-10/100 batches)
or as object arrays inside ``.npz`` files (IMDB, Reuters), admitting only what those
files hold: dicts, lists, tuples, strings, bytes, numbers, and NumPy arrays of numbers
(or, in an ``.npz`` member, of such lists).

A pickle may name globals that the reader calls. Here the three globals NumPy's arrays
need (``numpy.ndarray``, ``numpy.dtype``, ``multiarray._reconstruct``) resolve to
placeholders of this module that only record their arguments, and ``_codecs.encode`` (how
protocol 2 spells bytes) to a latin-1 encoder: nothing of NumPy, and no other global, is
ever called by the file. Every other global (``os.system``,
``builtins.eval``, a ``__reduce__`` gadget) is refused with ``DataFileError`` before
anything runs. After the stream is read, each recorded array is checked (a numeric
dtype, a shape whose size matches the bytes the file holds, under the ceiling) and built
with ``numpy.frombuffer``; object arrays only from lists of such values.
"""

from __future__ import annotations

import io
import pickle
import re
import struct
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from .checked import DataFileError, declared_bytes

_RECONSTRUCT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
_FROMBUFFER = {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}
_DTYPE_NAME = re.compile(r"^[biuf][1248]$|^O[48]$")
#: the Python values a data set pickle may hold besides arrays
_PLAIN = (type(None), bool, int, float, str, bytes)


class _NDArrayClass:
    """What ``numpy.ndarray`` resolves to: only passed to ``_reconstruct``."""


class _ArraySpec:
    """An array recorded from the stream (``_reconstruct`` then its state)."""

    state: tuple | None = None

    def __setstate__(self, state):
        self.state = state


class _DTypeSpec:
    """A dtype recorded from the stream: ``numpy.dtype(name, align, copy)``, then its
    state (the byte order is its second field)."""

    def __init__(self, name, align=False, copy=False):
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if not isinstance(name, str) or not _DTYPE_NAME.match(name):
            raise DataFileError(f"a data set array of dtype {name!r} (numbers only)")
        self.name, self.order = name, "|"

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.order = state[1]


def _latin1_bytes(text, encoding="latin1"):
    """What ``_codecs.encode`` resolves to: protocol-2 pickles written by Python 3 spell
    bytes as ``_codecs.encode(text, "latin1")``; nothing else is encoded."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DataFileError("a pickle that encodes something other than latin-1 bytes")
    return text.encode("latin-1")


def _frombuffer(buffer, dtype, shape, order):
    """What ``numeric._frombuffer`` resolves to (protocol 5 arrays): recorded, checked
    later like the others."""
    spec = _ArraySpec()
    data = bytes(buffer) if isinstance(buffer, (bytes, bytearray, pickle.PickleBuffer)) else None
    spec.state = (1, shape, dtype, order == "F", data)
    return spec


def _reconstruct(cls, shape, dtype):
    if cls is not _NDArrayClass:
        raise DataFileError("a pickle that rebuilds something other than an array")
    return _ArraySpec()


class _Unpickler(pickle._Unpickler):  # noqa: SLF001
    # set by the pure-Python unpickler when loading starts (not in its type stubs)
    read: Callable[[int], bytes]
    append: Callable[[Any], None]
    """The pure-Python unpickler: its memo is a dict, where the C one allocates an array as
    large as the largest memo index a file names (``LONG_BINPUT 1265918837`` in an
    80-byte file asked for gigabytes; found by fuzzing). About 2 s for IMDB's train set."""

    def __init__(self, file, what, size):
        super().__init__(file, encoding="bytes")
        self.what, self.size = what, size

    def _bytearray8(self):
        """BYTEARRAY8, whose pure-Python reader allocates the declared length before
        reading: a length the stream cannot hold is refused first."""
        (n,) = struct.unpack("<Q", self.read(8))
        if n > self.size:
            raise DataFileError(
                f"{self.what}: a byte array of {n} bytes in a pickle of {self.size}"
            )
        self.append(bytearray(self.read(n)))

    dispatch = dict(pickle._Unpickler.dispatch)  # noqa: SLF001
    dispatch[pickle.BYTEARRAY8[0]] = _bytearray8  # type: ignore[assignment]  # our subclass

    def find_class(self, module, name):
        if (module, name) in _RECONSTRUCT:
            return _reconstruct
        if (module, name) == ("numpy", "ndarray"):
            return _NDArrayClass
        if (module, name) == ("numpy", "dtype"):
            return _DTypeSpec
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        if (module, name) in _FROMBUFFER:
            return _frombuffer
        raise DataFileError(
            f"{self.what}: refused the pickle's global {module}.{name} (a data set file "
            "holds arrays, lists, dicts, strings and numbers only; this one may be "
            "corrupt or malicious)"
        )

    def persistent_load(self, pid):
        raise DataFileError(f"{self.what}: refused a persistent reference in the pickle")


def read_pickled(raw: bytes, what: str):
    """The value pickled in ``raw`` (from the file ``what``), under the rules above."""
    try:
        value = _Unpickler(io.BytesIO(raw), what, len(raw)).load()
    except DataFileError:
        raise
    except Exception as err:  # noqa: BLE001 (a malformed stream, whatever the opcode)
        raise DataFileError(
            f"{what}: not a readable data set pickle ({type(err).__name__}: {err})"
        ) from None
    return _materialize(value, what)


def _materialize(value, what, depth=0, memo=None):
    """``value`` with each recorded array built and checked; refuses anything else. Each
    object is built once (``memo``), so a pickle that nests references to one tuple in
    itself (a few bytes naming 2**64 leaves) costs what it holds, not what it names."""
    if memo is None:
        memo = {}
    if depth > 64:
        raise DataFileError(f"{what}: values nested deeper than 64 levels")
    if isinstance(value, _PLAIN):
        return value
    key = id(value)
    if key in memo:
        return memo[key][1]
    if isinstance(value, _ArraySpec):
        out = _array(value, what, depth, memo)
    elif isinstance(value, list):
        out = [_materialize(v, what, depth + 1, memo) for v in value]
    elif isinstance(value, tuple):
        out = tuple(_materialize(v, what, depth + 1, memo) for v in value)
    elif isinstance(value, dict):
        out = {
            _materialize(k, what, depth + 1, memo): _materialize(v, what, depth + 1, memo)
            for k, v in value.items()
        }
    else:
        raise DataFileError(f"{what}: the pickle holds a {type(value).__name__}")
    memo[key] = (value, out)  # the source kept alive: its id is not reused meanwhile
    return out


def _array(spec, what, depth, memo):
    state = spec.state
    if not (isinstance(state, tuple) and len(state) == 5):
        raise DataFileError(f"{what}: an array without its data")
    _, shape, dtype, fortran, data = state
    if not isinstance(dtype, _DTypeSpec):
        raise DataFileError(f"{what}: an array without a dtype")
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise DataFileError(f"{what}: an array of shape {shape!r}")
    order: Literal["F", "C"] = "F" if fortran else "C"
    if dtype.name.startswith("O"):  # an object array: a list of plain values or lists
        count = int(np.prod(shape)) if shape else 1
        if not isinstance(data, list) or len(data) != count:
            raise DataFileError(f"{what}: an object array of shape {shape} without its items")
        out = np.empty(count, dtype=object)
        for i, item in enumerate(data):
            out[i] = _materialize(item, what, depth + 1, memo)
        return out.reshape(shape, order=order)
    dt = np.dtype(dtype.name)
    if dtype.order in "<>":
        dt = dt.newbyteorder("<" if dtype.order == "<" else ">")
    nbytes = declared_bytes(shape, dt, what, "an array")
    if not isinstance(data, bytes) or len(data) != nbytes:
        held = len(data) if isinstance(data, bytes) else type(data).__name__
        raise DataFileError(
            f"{what}: an array of shape {shape} ({nbytes} bytes) whose data holds {held}"
        )
    array = np.frombuffer(data, dtype=dt).reshape(shape, order=order)
    return array.astype(dt.newbyteorder("="))  # a writable copy in the machine's order
