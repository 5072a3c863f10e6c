"""Validation of untrusted model files, before anything in them is used.

Archives (``.shendu``: exactly ``config.json`` and ``model.safetensors``; ``.keras``:
``config.json``, ``metadata.json``, ``model.weights.h5`` and assets) are checked before the
``zipfile`` module parses them: the number of members is read from the end-of-archive
record first (a few KB of zip can list a million members), then member names (no
absolute paths, no ``..``, no duplicates, counted in one pass), declared sizes and
compression ratios (zip bombs) and compression methods. JSON (configs, headers) is parsed
with its nesting depth bounded. Configs may not name modules, functions, files or URLs in
the keys a loader would follow (``module``, ``function``, ``filepath``...); strings that are
user data (a vocabulary holding a URL, a token ``../``) are data, never followed. Every
refusal raises ``ModelFileError`` (a ``ValueError``) naming what is wrong and where.
"""

from __future__ import annotations

import collections
import json
import os
import re
import struct
import zipfile
import zlib

MEMBERS = ("config.json", "model.safetensors")
MAX_HEADER = 16 * 1024 * 1024
MAX_CONFIG = 16 * 1024 * 1024
MAX_MEMBERS = 64
MAX_DEPTH = 100
BOMB_RATIO = 100
BOMB_SIZE = 256 * 1024 * 1024
#: Keys whose values a Keras-style loader would follow (import a module, call a function,
#: open a file or a URL): a model file may not hold them.
FORBIDDEN_KEYS = frozenset(
    {
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
)


class ModelFileError(ValueError):
    """A model or weights file that shendu refuses to load, with the reason."""


def count_zip_entries(path) -> int | None:
    """The number of members an archive declares, from its end-of-central-directory record
    (and the zip64 one), without parsing the central directory; None when there is none."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            tail_len = min(size, 22 + 65535 + 20)
            f.seek(size - tail_len)
            tail = f.read(tail_len)
    except OSError as err:
        raise ModelFileError(f"{path}: cannot be read ({err})") from None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                record = f.read(56)
        except (OSError, ValueError, OverflowError):
            return None
        if len(record) == 56 and record[:4] == b"PK\x06\x06":
            count = struct.unpack("<Q", record[32:40])[0]
    return count


def open_archive(path, required=MEMBERS, allowed=None, kind=".shendu"):
    """The zip at ``path`` after the checks of the module docstring.

    ``required`` members must be present; with ``allowed`` (a predicate on names) other
    members pass when it accepts them, else only ``required`` may be there."""
    declared = count_zip_entries(path)
    if declared is not None and declared > MAX_MEMBERS:
        raise ModelFileError(
            f"{path}: the archive declares {declared} members (at most {MAX_MEMBERS} are read)"
        )
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path}: not a {kind} file (not a zip archive)") from None
    except OSError as err:
        raise ModelFileError(f"{path}: cannot be read ({err})") from None
    except (ValueError, UnicodeDecodeError, NotImplementedError, EOFError, struct.error) as err:
        # malformed central directories surface as these from the zipfile module
        raise ModelFileError(f"{path}: not a valid zip archive ({type(err).__name__})") from None
    try:
        _check_members(zf, path, required, allowed)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_members(zf, path, required, allowed):
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{path}: the archive has more than {MAX_MEMBERS} members")
    names = [i.filename for i in infos]
    for name in names:
        if name.startswith(("/", "\\")) or ".." in re.split(r"[\\/]", name) or ":" in name:
            raise ModelFileError(f"{path}: unsafe member name {name!r} in the archive")
    dupes = sorted(n for n, c in collections.Counter(names).items() if c > 1)
    if dupes:
        raise ModelFileError(f"{path}: duplicate member names {dupes}")
    missing = [m for m in required if m not in names]
    if missing:
        raise ModelFileError(f"{path}: missing members {missing} (expected {list(required)})")
    extra = [n for n in names if n not in required and not (allowed and allowed(n))]
    if extra:
        raise ModelFileError(f"{path}: unexpected members {extra} (expected {list(required)})")
    for info in infos:
        if info.file_size > BOMB_SIZE and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
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
    if "config.json" in names and zf.getinfo("config.json").file_size > MAX_CONFIG:
        raise ModelFileError(f"{path}: config.json is larger than {MAX_CONFIG} bytes")


def open_member(zf, name, path):
    """A stream over a member (errors while reading it raise ``ModelFileError``)."""
    try:
        return zf.open(zf.getinfo(name))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise ModelFileError(f"{path}: member {name!r} is corrupt ({err})") from None


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


def parse_json(raw: bytes, path, what="config.json"):
    """JSON from untrusted bytes: UTF-8, no repeated keys, nesting at most MAX_DEPTH."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: {what} is not UTF-8") from None

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            repeated = sorted(k for k, c in collections.Counter(keys).items() if c > 1)
            raise ModelFileError(f"{path}: {what} repeats keys {repeated}")
        return dict(pairs)

    try:
        value = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: {what} is not valid JSON ({err})") from None
    except RecursionError:
        raise ModelFileError(
            f"{path}: {what} is nested too deeply (at most {MAX_DEPTH} levels are read)"
        ) from None
    depth = json_depth(value)
    if depth > MAX_DEPTH:
        raise ModelFileError(
            f"{path}: {what} is nested {depth} levels deep (at most {MAX_DEPTH} are read)"
        )
    return value


def json_depth(value) -> int:
    """The nesting depth of lists and objects in a parsed JSON value (iteratively)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_config(raw, path):
    config = parse_json(raw, path)
    if not isinstance(config, dict) or config.get("format") != "shendu":
        raise ModelFileError(f"{path}: config.json is not a shendu model config")
    return config


def check_config_values(node, path, where="model", safe_mode=True):
    """Refuse module, function, file and URL references (``FORBIDDEN_KEYS``) anywhere in a
    config, and nesting deeper than ``MAX_DEPTH``."""
    stack = [(node, where, 1)]
    while stack:
        value, at, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ModelFileError(
                f"{path}: the config is nested deeper than {MAX_DEPTH} levels (at ...{at[-80:]})"
            )
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise ModelFileError(f"{path}: non-string key at {at}")
                if k in FORBIDDEN_KEYS and v is not None:
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
                stack.append((v, f"{at}.{k}", depth + 1))
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]", depth + 1) for i, v in enumerate(value))
