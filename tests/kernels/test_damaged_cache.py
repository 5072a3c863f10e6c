"""A damaged numba cache file (a truncated ``.nbi`` or ``.nbc``) ended every fit in numba's
raw UnpicklingError, naming no file. Now the kernel warns once, naming the file, compiles
its loop afresh and computes the same result."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

SCRIPT = """
import warnings
import numpy as np
from shendu.kernels.dispatch import Kernel, set_kernels
set_kernels("numba")
k = Kernel.registry["layer_norm_forward"]
x = np.arange(32, dtype="float32").reshape(4, 8)
y, xhat, inv = np.empty_like(x), np.empty_like(x), np.empty(4, "float32")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    k(x, np.ones(8, "float32"), np.zeros(8, "float32"), 1e-3, False, y, xhat, inv)
for w in caught:
    print("WARNING", w.message)
print("SUM", round(float(np.abs(y).sum()), 3))
"""


def _run(cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


@pytest.mark.parametrize("suffix", [".nbi", ".nbc"])
def test_a_truncated_cache_file_is_named_and_the_loop_recompiled(tmp_path, suffix):
    first = _run(tmp_path)
    assert "WARNING" not in first
    damaged = [p for p in tmp_path.rglob(f"*_forward_loop*{suffix}")]
    assert damaged
    for p in damaged:
        p.write_bytes(p.read_bytes()[:20])
    again = _run(tmp_path)
    assert "numba's cache file" in again and "is damaged" in again
    assert "_forward_loop" in again
    assert again.splitlines()[-1] == first.splitlines()[-1]  # the same result
