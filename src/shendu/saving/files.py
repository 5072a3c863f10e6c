"""Atomic writes: a crash mid-save leaves the old file intact."""

from __future__ import annotations

import os
import tempfile


def atomic_write(path, write, suffix="") -> None:
    """Call ``write(tmp_path)``, fsync the file, then rename it over ``path``.

    The temporary file lives in the destination folder (so the rename is atomic on
    one filesystem), ends in ``suffix`` (writers that choose a format by extension), and
    is removed when ``write`` fails or is interrupted.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".shendu-tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        try:
            dir_fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
