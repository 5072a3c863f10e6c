"""The heap tuning (shendu.heap): freed array memory is reused instead of page-faulted back."""

import os
import subprocess
import sys

import pytest

import shendu

linux_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shendu.heap._glibc() is None,
    reason="the malloc parameters exist only in glibc on Linux",
)

# Allocates and frees 64 MiB of 4 MiB arrays ten times; prints the minor page faults of the
# last nine rounds (the first round faults the memory in either way).
FAULTS = """
import resource, numpy as np, shendu
def round_():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(16)]
    del arrays
round_()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(9):
    round_()
print(shendu.heap.is_configured(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env_heap):
    env = dict(os.environ)
    env.pop("SHENDU_HEAP", None)
    if env_heap is not None:
        env["SHENDU_HEAP"] = env_heap
    out = subprocess.run(
        [sys.executable, "-c", FAULTS], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    return out[0] == "True", int(out[1])


@linux_glibc
def test_freed_memory_is_reused_without_page_faults():
    configured, faults = _faults(None)
    assert configured
    # 9 rounds x 64 MiB would be about 150,000 faults of 4 KiB pages if memory went back
    assert faults < 1000


@linux_glibc
def test_system_heap_opt_out_leaves_malloc_alone():
    configured, faults = _faults("system")
    assert not configured
    # glibc's defaults return the memory and fault it in again: the test above can fail
    assert faults > 10000


@linux_glibc
def test_release_gives_memory_back():
    code = (
        "import numpy as np, shendu\n"
        "def rss():\n"
        "    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0]"
        ".split()[1])\n"
        "arrays = [np.ones(1 << 20, np.float32) for _ in range(32)]\n"
        "del arrays\n"
        "kept = rss()\n"
        "shendu.heap.release()\n"
        "print(kept - rss())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 100_000  # KiB: most of the 128 MiB the heap kept goes back
