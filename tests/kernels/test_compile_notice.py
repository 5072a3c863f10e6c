"""A kernel about to compile its loop (no numba cache of it yet) says so once on standard
error: a new user's first fit with the ``[fast]`` extra waits a few seconds there, and is
told why; a later run loads the loop from the cache and says nothing."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

SCRIPT = """
import numpy as np
from shendu.kernels.dispatch import Kernel, set_kernels
set_kernels("numba")
k = Kernel.registry["layer_norm_forward"]
x = np.arange(32, dtype="float32").reshape(4, 8)
y, xhat, inv = np.empty_like(x), np.empty_like(x), np.empty(4, "float32")
for _ in range(2):  # the notice comes once
    k(x, np.ones(8, "float32"), np.zeros(8, "float32"), 1e-3, False, y, xhat, inv)
print("SUM", round(float(np.abs(y).sum()), 3))
"""


def _run(cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stderr, r.stdout


def test_the_first_compile_is_announced_once_and_a_cached_load_is_not(tmp_path):
    first_err, first_out = _run(tmp_path)
    notice = (
        "shendu: compiling the layer_norm_forward kernel for this machine "
        "(numba, once: later runs load it from the cache)"
    )
    assert first_err.count(notice) == 1
    second_err, second_out = _run(tmp_path)
    assert "compiling" not in second_err
    assert second_out == first_out
