"""``get_file``: a file of Keras's cache, never downloaded."""

from __future__ import annotations

import os


def keras_cache_dir(cache_dir=None):
    """Keras's cache folder: ``cache_dir``, else $KERAS_HOME, else ~/.keras."""
    if cache_dir is not None:
        return os.fspath(cache_dir)
    return os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """The path of ``fname`` in Keras's cache (``~/.keras/<cache_subdir>/<fname>``) when the
    file is there. shendu never downloads: when it is missing, the error says where to put
    it. ``file_hash`` (SHA-256 or MD5 hex) is checked when given."""
    if fname is None:
        if origin is None:
            raise ValueError("get_file: pass `fname` or `origin`")
        fname = os.path.basename(origin.split("?")[0])
    folder = os.path.join(keras_cache_dir(cache_dir), cache_subdir)
    path = fname if os.path.isabs(fname) else os.path.join(folder, fname)
    candidates = [path]
    if extract or untar:
        base = path
        for suffix in (".tar.gz", ".tgz", ".tar", ".zip"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        candidates.insert(0, base + "_extracted" if extract else base)
        candidates.insert(1, base)
    for candidate in candidates:
        if os.path.exists(candidate):
            expected = file_hash or md5_hash
            if expected and os.path.isfile(candidate):
                _check_hash(candidate, expected, hash_algorithm)
            return candidate
    where = f" (from {origin})" if origin else ""
    raise FileNotFoundError(
        f"get_file: {fname!r} is not in the Keras cache and shendu never downloads. "
        f"Download it{where} yourself and place it at {path}"
    )


def _check_hash(path, expected, algorithm):
    import hashlib

    if algorithm == "auto":
        algorithm = "sha256" if len(expected) == 64 else "md5"
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != expected:
        raise ValueError(
            f"get_file: {path} does not match its expected {algorithm} hash {expected}"
        )
