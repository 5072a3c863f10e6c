"""Validation of untrusted model files, before anything in them is used.

A ``.shendu`` file is a zip with exactly two members, ``config.json`` and
``model.safetensors``. Everything is checked against limits first: member names,
duplicates, declared sizes and compression ratios (zip bombs), the safetensors
header (length, UTF-8, JSON, dtypes, shapes, offsets that tile the data exactly),
and the config (no URLs, file paths, modules or functions). Every refusal raises
``ModelFileError`` (a ``ValueError``) naming what is wrong.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib

import numpy as np

MEMBERS = ("config.json", "model.safetensors")
MAX_HEADER = 100 * 1024 * 1024
MAX_CONFIG = 16 * 1024 * 1024
BOMB_RATIO = 100
BOMB_SIZE = 256 * 1024 * 1024
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
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PATHLIKE = re.compile(r"^(/|~|\\\\|[A-Za-z]:[\\/])|(^|[\\/])\.\.([\\/]|$)")
_FORBIDDEN_KEYS = {
    "module",
    "function",
    "fn",
    "filepath",
    "file",
    "path",
    "url",
    "uri",
    "vocabulary_path",
    "registered_name",
    "__class__",
    "__reduce__",
}


class ModelFileError(ValueError):
    """A model or weights file that shendu refuses to load, with the reason."""


def open_archive(path):
    """The validated zip of a .shendu file and its two members' infos."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path}: not a .shendu file (not a zip archive)") from None
    except OSError as err:
        raise ModelFileError(f"{path}: cannot be read ({err})") from None
    except (ValueError, UnicodeDecodeError, NotImplementedError, EOFError, struct.error) as err:
        # malformed central directories surface as these from the zipfile module
        raise ModelFileError(f"{path}: not a valid zip archive ({type(err).__name__})") from None
    try:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        for name in names:
            if name.startswith(("/", "\\")) or ".." in re.split(r"[\\/]", name) or ":" in name:
                raise ModelFileError(f"{path}: unsafe member name {name!r} in the archive")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ModelFileError(f"{path}: duplicate member names {dupes}")
        missing = [m for m in MEMBERS if m not in names]
        extra = [n for n in names if n not in MEMBERS]
        if missing:
            raise ModelFileError(f"{path}: missing members {missing} (expected {list(MEMBERS)})")
        if extra:
            raise ModelFileError(f"{path}: unexpected members {extra} (expected {list(MEMBERS)})")
        for info in infos:
            if info.file_size > BOMB_SIZE and info.file_size > BOMB_RATIO * max(
                info.compress_size, 1
            ):
                raise ModelFileError(
                    f"{path}: member {info.filename!r} declares {info.file_size} bytes from "
                    f"{info.compress_size} compressed (a decompression bomb)"
                )
            if info.flag_bits & 0x1:
                raise ModelFileError(f"{path}: encrypted members are not supported")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(
                    f"{path}: member {info.filename!r} uses compression method "
                    f"{info.compress_type}; only stored and deflated members are read"
                )
        if zf.getinfo("config.json").file_size > MAX_CONFIG:
            raise ModelFileError(f"{path}: config.json is larger than {MAX_CONFIG} bytes")
    except BaseException:
        zf.close()
        raise
    return zf


def read_member(zf, name, path):
    """The bytes of a member, reading no more than its declared size (+1 to detect lies)."""
    info = zf.getinfo(name)
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        zlib.error,
    ) as err:
        raise ModelFileError(f"{path}: member {name!r} is corrupt ({err})") from None
    if len(data) != info.file_size:
        raise ModelFileError(f"{path}: member {name!r} does not match its declared size")
    return data


def parse_config(raw, path):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: config.json is not UTF-8") from None

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ModelFileError(f"{path}: config.json repeats keys {sorted(set(keys))}")
        return dict(pairs)

    try:
        config = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: config.json is not valid JSON ({err})") from None
    if not isinstance(config, dict) or config.get("format") != "shendu":
        raise ModelFileError(f"{path}: config.json is not a shendu model config")
    return config


def check_config_values(node, path, where="model", safe_mode=True):
    """Refuse URLs, file paths, module and function references anywhere in a config."""
    stack = [(node, where)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise ModelFileError(f"{path}: non-string key at {at}")
                if k in _FORBIDDEN_KEYS and v is not None:
                    if k == "function" and not safe_mode:
                        continue
                    raise ModelFileError(
                        f"{path}: the config names a {k!r} at {at}; a model file may not refer "
                        "to modules, functions, files or URLs"
                        + (
                            " (Lambda layers need safe_mode=False and the function in "
                            "custom_objects)"
                            if k == "function"
                            else ""
                        )
                    )
                stack.append((v, f"{at}.{k}"))
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, str):
            if _URL.search(value):
                raise ModelFileError(f"{path}: the config holds a URL at {at}: {value[:80]!r}")
            if _PATHLIKE.search(value):
                raise ModelFileError(
                    f"{path}: the config holds a file path at {at}: {value[:80]!r}"
                )


def check_safetensors(data: bytes, path) -> dict:
    """Validate a safetensors buffer; returns its header (name -> dtype, shape, offsets)."""
    if len(data) < 8:
        raise ModelFileError(f"{path}: safetensors data is too short ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER:
        raise ModelFileError(f"{path}: safetensors header of {n} bytes exceeds {MAX_HEADER}")
    if n > len(data) - 8:
        raise ModelFileError(f"{path}: safetensors header runs past the end of the data")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: safetensors header is not UTF-8") from None
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: safetensors header is not JSON") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: safetensors header is not a JSON object")
    body = len(data) - 8 - n
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
            ):
                raise ModelFileError(f"{path}: safetensors metadata must map strings to strings")
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(f"{path}: tensor {name!r} has a malformed header entry")
        dtype = entry["dtype"]
        if dtype not in DTYPES:
            raise ModelFileError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise ModelFileError(f"{path}: tensor {name!r} has an invalid shape {shape!r}")
        count = 1
        for s in shape:
            count *= s
            if count > body:
                raise ModelFileError(f"{path}: tensor {name!r} shape {shape} overflows the data")
        offsets = entry["data_offsets"]
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            raise ModelFileError(f"{path}: tensor {name!r} has invalid data_offsets")
        begin, end = offsets
        if not 0 <= begin <= end <= body:
            raise ModelFileError(
                f"{path}: tensor {name!r} offsets [{begin}, {end}] fall outside the data "
                f"({body} bytes)"
            )
        if end - begin != count * np.dtype(DTYPES[dtype]).itemsize:
            raise ModelFileError(
                f"{path}: tensor {name!r} spans {end - begin} bytes but its dtype and shape "
                f"need {count * np.dtype(DTYPES[dtype]).itemsize}"
            )
        spans.append((begin, end, name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            kind = "overlaps another tensor" if begin < position else "leaves a gap before it"
            raise ModelFileError(f"{path}: tensor {name!r} {kind}")
        position = end
    if position != body:
        raise ModelFileError(
            f"{path}: safetensors data has {body - position} trailing bytes after the tensors"
            if position < body
            else f"{path}: safetensors data is truncated"
        )
    return header


def load_tensors(data: bytes, path) -> dict:
    """Validated tensors (name -> NumPy array) from safetensors bytes."""
    check_safetensors(data, path)
    from .. import saving as _saving

    st = _saving.safetensors_numpy()
    try:
        return dict(st.load(data))
    except Exception as err:  # the library's own validation
        raise ModelFileError(f"{path}: safetensors data is invalid ({err})") from None
