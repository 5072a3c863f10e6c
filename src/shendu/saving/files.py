"""Atomic writes: a crash mid-save leaves the old file intact, and the file written has the
mode a plain ``open(path, "w")`` would give it: a new file the umask's, an overwritten file
its own (another account serving the model can still read the next checkpoint)."""

from __future__ import annotations

import os
import secrets
import stat


def atomic_write(path, write, suffix="") -> None:
    """Call ``write(tmp_path)``, fsync the file, then rename it over ``path``.

    The temporary file lives in the destination folder (so the rename is atomic on
    one filesystem), ends in ``suffix`` (writers that choose a format by extension), and
    is removed when ``write`` fails or is interrupted.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = _create_temporary(folder, suffix)
    try:
        kept = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None
        write(tmp)
        if kept is not None:  # an overwritten file keeps its mode
            os.chmod(tmp, kept)
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


def _create_temporary(folder, suffix) -> str:
    """A new empty file in ``folder`` with a random name, created as ``open`` creates files
    (mode 0o666 less the umask; ``tempfile.mkstemp`` would make it 0o600)."""
    for _ in range(100):
        tmp = os.path.join(folder, f".shendu-tmp-{secrets.token_hex(8)}{suffix}")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"{folder}: no free temporary file name for an atomic write")
