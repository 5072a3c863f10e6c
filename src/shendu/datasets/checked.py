"""Reading data set files from disk under the loader's rules: every size a file declares
is checked against the bytes it holds and a ceiling before anything is allocated,
compressed members against a ratio, and decompression is bounded. A damaged or crafted
file raises ``DataFileError`` naming the file and what is wrong, never a raw NumPy,
zipfile or gzip error, and never an allocation of what the file only claims.

- ``.npz`` (``read_npz``): each member's ``.npy`` header is parsed from the archive first;
  the declared shape times the item size must equal the member's bytes after the header,
  stay under ``MAX_ARRAY_BYTES``, and a member may expand at most ``BOMB_RATIO`` times its
  compressed size. Object arrays are refused (nothing is unpickled).
- IDX, gzipped or not (``read_idx``): the header is read first, the declared size checked
  against the ceiling, then exactly that many bytes are read from the stream (a gzip
  bomb stops there), and the file must end there.
"""

from __future__ import annotations

import gzip
import os
import struct
import zipfile
from typing import Any

import numpy as np

#: the largest array a data set file may declare (MNIST's images are 47 MB)
MAX_ARRAY_BYTES = 1 << 30
#: the most a compressed member may expand
BOMB_RATIO = 100

_IDX_TYPES: dict[int, Any] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DataFileError(ValueError):
    """A data set file that is damaged, crafted or not of the expected layout."""


def declared_bytes(shape, dtype, path, what):
    count = 1
    for n in shape:
        count *= int(n)
    nbytes = count * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise DataFileError(
            f"{path}: {what} declares shape {tuple(shape)} ({nbytes} bytes), over the "
            f"limit of {MAX_ARRAY_BYTES} bytes per array"
        )
    return nbytes


def read_npz(path, keys):
    """The arrays ``keys`` of the ``.npz`` file ``path``, each checked before it is read."""
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            for key in keys:
                info = infos.get(f"{key}.npy")
                if info is None:
                    raise DataFileError(
                        f"{path}: no array {key!r} (the file holds {sorted(infos)})"
                    )
                _check_npy_member(zf, info, path, key)
        with np.load(path, allow_pickle=False) as f:  # no object arrays: nothing unpickled
            return [f[k] for k in keys]
    except DataFileError:
        raise
    except Exception as err:  # noqa: BLE001 (zipfile, zlib and NumPy: any is a damaged file)
        raise DataFileError(
            f"{path}: not a readable .npz file ({type(err).__name__}: {err})"
        ) from None


def _check_npy_member(zf, info, path, key):
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > BOMB_RATIO * max(
        info.compress_size, 1
    ):
        raise DataFileError(
            f"{path}: array {key!r} expands {info.compress_size} stored bytes to "
            f"{info.file_size} (a decompression bomb)"
        )
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise DataFileError(f"{path}: array {key!r} has an unknown .npy version {version}")
        shape, _, dtype = read_header(f, max_header_size=10000)
        header = f.tell()
    if dtype.hasobject or dtype.kind not in "biuf":
        raise DataFileError(
            f"{path}: array {key!r} has dtype {dtype}; data sets hold numbers (object arrays "
            "would need unpickling, which shendu never does: allow_pickle=False)"
        )
    nbytes = declared_bytes(shape, dtype, path, f"array {key!r}")
    if info.file_size - header != nbytes:
        raise DataFileError(
            f"{path}: array {key!r} declares shape {tuple(shape)} ({nbytes} bytes) but the "
            f"file holds {info.file_size - header}"
        )


def read_idx(path):
    """An IDX file (the MNIST format) as a NumPy array; ``.gz`` files are decompressed as
    they are read, and no further than the header declares."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
                raise DataFileError(f"{path}: not an IDX file (bad magic number)")
            kind, ndim = magic[2], magic[3]
            if kind not in _IDX_TYPES:
                raise DataFileError(f"{path}: unknown IDX element type 0x{kind:02x}")
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataFileError(f"{path}: truncated IDX header")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            dtype = np.dtype(_IDX_TYPES[kind])
            expected = declared_bytes(dims, dtype, path, "the IDX header")
            data = f.read(expected)
            extra = f.read(1)
    except DataFileError:
        raise
    except Exception as err:  # noqa: BLE001 (gzip and zlib: any is a damaged file)
        raise DataFileError(
            f"{path}: not a readable IDX file ({type(err).__name__}: {err})"
        ) from None
    if len(data) != expected or extra:
        held = f"{len(data)}" if not extra else f"more than {expected}"
        raise DataFileError(
            f"{path}: IDX data holds {held} bytes; dimensions {dims} need {expected}"
        )
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def check_layout(path, arrays, layout, pairs=()):
    """Refuse arrays whose shapes are not the data set's: ``layout`` maps each name to
    its shape past the first axis (``(28, 28)`` for MNIST's images, ``()`` for labels);
    each pair of names (images and their labels) must have one length."""
    for name, array in arrays.items():
        want = tuple(layout[name])
        if array.ndim != 1 + len(want) or tuple(array.shape[1:]) != want:
            expected = "(n" + "".join(f", {d}" for d in want) + ")"
            raise DataFileError(
                f"{path}: {name} has shape {array.shape}; this data set's is {expected}"
            )
    for a, b in pairs:
        if len(arrays[a]) != len(arrays[b]):
            raise DataFileError(
                f"{path}: {a} holds {len(arrays[a])} samples and {b} {len(arrays[b])}; "
                "they must match"
            )
