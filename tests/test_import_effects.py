"""``import shendu`` changes nothing process-wide that other libraries depend on: glibc's
malloc behaves as before (a freed 8 MiB array goes back to the system at once), and OpenBLAS
and the environment keep their settings. Each check runs in a fresh process, once with
NumPy alone and once after importing shendu, and the two must agree."""

import os
import subprocess
import sys

import pytest

PROBE = """
import json, os, sys
import numpy as np
if sys.argv[1] == "shendu":
    import shendu  # noqa: F401
def rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])
base = rss()
a = np.ones(1 << 21, np.float32)  # 8 MiB, above glibc's default mmap threshold
a[:] = 2.0
held = rss()
del a
freed = rss()
timeout = None
try:
    import ctypes
    paths = {l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l and '.so' in l}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        if hasattr(lib, 'openblas_thread_timeout'):
            timeout = int(lib.openblas_thread_timeout())
except OSError:
    pass
env = {k: v for k, v in os.environ.items() if k.startswith(('OPENBLAS', 'OMP', 'MALLOC', 'MKL'))}
print(json.dumps({"returned": held - freed > 6000, "timeout": timeout, "env": env}))
"""


def _probe(what):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, what], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_import_shendu_leaves_malloc_blas_and_the_environment_as_they_were():
    import json

    alone, with_shendu = json.loads(_probe("numpy")), json.loads(_probe("shendu"))
    assert alone["returned"], "glibc's default: a freed 8 MiB array goes back to the system"
    assert with_shendu == alone
