"""Reading safetensors data from a stream, checked before anything is allocated.

A safetensors buffer is an 8-byte little-endian header length n, n bytes of JSON
(``name -> {dtype, shape, data_offsets}`` plus an optional ``__metadata__`` of strings),
then the tensors' bytes. ``TensorFile`` reads and validates the header alone (length,
UTF-8, JSON nesting, dtypes, shapes, offsets that tile the data exactly), so that the
loader knows every tensor's size before it builds anything; ``read`` then streams the
tensors, in file order, straight into the arrays that will hold them (a model's
variables), one chunk at a time. Peak memory is the destination arrays plus one chunk,
whatever the file's size. Writing stays with the ``safetensors`` package.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass

import numpy as np

from .checks import MAX_HEADER, ModelFileError, parse_json

DTYPES = {
    "F16": np.float16,
    "F32": np.float32,
    "F64": np.float64,
    "I8": np.int8,
    "I16": np.int16,
    "I32": np.int32,
    "I64": np.int64,
    "U8": np.uint8,
    "U16": np.uint16,
    "U32": np.uint32,
    "U64": np.uint64,
    "BOOL": np.bool_,
}
CHUNK = 1 << 20
#: What ``TensorFile.read``'s destination returns for a tensor to read past and drop.
SKIP = object()


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the header: its name, dtype, shape and byte span in the data."""

    name: str
    dtype: np.dtype
    shape: tuple
    begin: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.begin


class TensorFile:
    """The validated header of safetensors data of ``size`` bytes read from ``stream``."""

    def __init__(self, stream, size: int, path):
        self.stream, self.path = stream, path
        if size < 8:
            raise ModelFileError(f"{path}: safetensors data is too short ({size} bytes)")
        (n,) = struct.unpack("<Q", _read_exactly(stream, 8, path))
        if n > MAX_HEADER:
            raise ModelFileError(f"{path}: safetensors header of {n} bytes exceeds {MAX_HEADER}")
        if n > size - 8:
            raise ModelFileError(f"{path}: safetensors header runs past the end of the data")
        header = parse_json(_read_exactly(stream, n, path), path, "safetensors header")
        if not isinstance(header, dict):
            raise ModelFileError(f"{path}: safetensors header is not a JSON object")
        self.body = size - 8 - n
        self.metadata = header.pop("__metadata__", None) or {}
        if not isinstance(self.metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.metadata.items()
        ):
            raise ModelFileError(f"{path}: safetensors metadata must map strings to strings")
        entries = [self._entry(name, value) for name, value in header.items()]
        entries.sort(key=lambda e: e.begin)
        position = 0
        for e in entries:
            if e.begin != position:
                kind = "overlaps another tensor" if e.begin < position else "leaves a gap"
                raise ModelFileError(f"{path}: tensor {e.name!r} {kind}")
            position = e.end
        if position != self.body:
            raise ModelFileError(
                f"{path}: safetensors data has {self.body - position} trailing bytes after the "
                "tensors"
                if position < self.body
                else f"{path}: safetensors data is truncated"
            )
        self.entries = {e.name: e for e in entries}  # in file order

    def _entry(self, name, value) -> TensorEntry:
        path = self.path
        if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(f"{path}: tensor {name!r} has a malformed header entry")
        dtype = value["dtype"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise ModelFileError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        shape = value["shape"]
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise ModelFileError(f"{path}: tensor {name!r} has an invalid shape {shape!r}")
        count = 1
        for s in shape:
            count *= s
            if count > self.body:
                raise ModelFileError(f"{path}: tensor {name!r} shape {shape} overflows the data")
        offsets = value["data_offsets"]
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            raise ModelFileError(f"{path}: tensor {name!r} has invalid data_offsets")
        begin, end = offsets
        if not 0 <= begin <= end <= self.body:
            raise ModelFileError(
                f"{path}: tensor {name!r} offsets [{begin}, {end}] fall outside the data "
                f"({self.body} bytes)"
            )
        np_dtype = np.dtype(DTYPES[dtype]).newbyteorder("<")
        if end - begin != count * np_dtype.itemsize:
            raise ModelFileError(
                f"{path}: tensor {name!r} spans {end - begin} bytes but its dtype and shape "
                f"need {count * np_dtype.itemsize}"
            )
        return TensorEntry(name, np_dtype, tuple(shape), begin, end)

    def read(self, destination) -> dict:
        """Stream every tensor in file order. ``destination(entry)`` returns the array to
        fill (of the entry's shape and dtype), None for a new array, or ``SKIP``; returns
        the new arrays by name. Any read error raises ``ModelFileError``."""
        fresh = {}
        for e in self.entries.values():
            target = destination(e)
            if target is SKIP:
                for done in range(0, e.nbytes, CHUNK):
                    _read_exactly(self.stream, min(CHUNK, e.nbytes - done), self.path)
                continue
            if target is None:
                target = fresh[e.name] = np.empty(e.shape, e.dtype.newbyteorder("="))
            _fill(self.stream, target, e, self.path)
        return fresh


def _read_exactly(stream, n, path) -> bytes:
    try:
        data = stream.read(n)
    except Exception as err:  # zip and zlib errors of a damaged member
        raise ModelFileError(f"{path}: the weights cannot be read ({err})") from None
    if len(data) != n:
        raise ModelFileError(f"{path}: safetensors data is truncated")
    return data


def _fill(stream, target, entry, path):
    """Read ``entry``'s bytes into ``target`` (a C-contiguous array of its shape and dtype)."""
    if (
        target.shape != entry.shape
        or not target.flags.c_contiguous
        or target.dtype.kind != entry.dtype.kind
        or target.dtype.itemsize != entry.dtype.itemsize
    ):
        raise ModelFileError(f"{path}: tensor {entry.name!r} has no place of its shape and dtype")
    view = memoryview(target.reshape(-1).view(np.uint8))
    done = 0
    while done < entry.nbytes:
        n = min(CHUNK, entry.nbytes - done)
        view[done : done + n] = _read_exactly(stream, n, path)
        done += n
    if sys.byteorder != "little" and entry.dtype.itemsize > 1:
        target.byteswap(inplace=True)


def tensor_file_from_bytes(data: bytes, path) -> TensorFile:
    """A ``TensorFile`` over bytes already in memory."""
    import io

    return TensorFile(io.BytesIO(data), len(data), path)


__all__ = ["SKIP", "TensorEntry", "TensorFile", "tensor_file_from_bytes"]
