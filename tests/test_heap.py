"""The heap tuning (shendu.heap): during fit, freed array memory is reused instead of
page-faulted back; outside fit (and after importing shendu) malloc is as glibc sets it."""

import os
import subprocess
import sys

import pytest

import shendu

linux_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shendu.heap._glibc() is None,
    reason="the malloc parameters exist only in glibc on Linux",
)

# Allocates and frees 64 MiB of 4 MiB arrays ten times (inside kept_for_reuse() when SCOPED);
# prints whether the parameters were in effect and the minor page faults of the last nine
# rounds (the first round faults the memory in either way).
FAULTS = """
import contextlib, resource, sys, numpy as np, shendu
scope = shendu.heap.kept_for_reuse() if sys.argv[1] == "scoped" else contextlib.nullcontext()
def round_():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(16)]
    del arrays
with scope:
    round_()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(9):
        round_()
    print(shendu.heap.is_configured(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(shendu.heap.is_configured())
"""


def _faults(scoped, env_heap=None, extra_env=None):
    env = dict(os.environ)
    env.pop("SHENDU_HEAP", None)
    if env_heap is not None:
        env["SHENDU_HEAP"] = env_heap
    env.update(extra_env or {})
    out = subprocess.run(
        [sys.executable, "-c", FAULTS, "scoped" if scoped else "plain"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    return out[0] == "True", int(out[1]), out[2] == "True"


@linux_glibc
def test_freed_memory_is_reused_without_page_faults_inside_the_scope():
    configured, faults, after = _faults(scoped=True)
    assert configured and not after
    # 9 rounds x 64 MiB would be about 150,000 faults of 4 KiB pages if memory went back
    assert faults < 1000


@linux_glibc
def test_importing_shendu_leaves_malloc_alone():
    configured, faults, _ = _faults(scoped=False)
    assert not configured
    # glibc's defaults return the memory and fault it in again: the test above can fail
    assert faults > 10000


@linux_glibc
def test_system_heap_opt_out_leaves_malloc_alone_inside_the_scope():
    configured, faults, _ = _faults(scoped=True, env_heap="system")
    assert not configured
    assert faults > 10000


@linux_glibc
@pytest.mark.parametrize(
    "setting",
    [
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"MALLOC_TRIM_THRESHOLD_": "131072"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"},
    ],
)
def test_a_process_with_its_own_malloc_settings_keeps_them(setting):
    configured, faults, after = _faults(scoped=True, extra_env=setting)
    assert not configured and not after
    assert faults > 10000  # the user's thresholds (glibc's values here) stay in force


RSS = """
import numpy as np, shendu
def rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])
with shendu.heap.kept_for_reuse():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(32)]
    del arrays
    kept = rss()
print(kept - rss(), shendu.heap.is_configured())
"""


@linux_glibc
def test_the_end_of_the_scope_gives_memory_back():
    out = subprocess.run(
        [sys.executable, "-c", RSS], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 100_000  # KiB: most of the 128 MiB the heap kept goes back
    assert out[1] == "False"


@linux_glibc
def test_fit_runs_inside_the_scope_and_leaves_it():
    seen = []

    class Probe(shendu.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(shendu.heap.is_configured())

    before = shendu.heap.is_configured()
    model = shendu.Sequential([shendu.layers.Input((3,)), shendu.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = __import__("numpy").ones((8, 3), "float32")
    model.fit(x, x[:, :1], batch_size=4, verbose=0, callbacks=[Probe()])
    assert seen == [True, True] and shendu.heap.is_configured() == before
