"""shendu.blas: during fit OpenBLAS's idle threads spin briefly instead of for 0.1 s; after
fit, and after importing shendu, OpenBLAS and the environment are as they were."""

import os
import subprocess
import sys

import pytest

import shendu

CODE = """
import os, shendu
print(shendu.blas.thread_timeout(), os.environ.get('OPENBLAS_THREAD_TIMEOUT'))
with shendu.blas.short_spin():
    print(shendu.blas.thread_timeout(), os.environ.get('OPENBLAS_THREAD_TIMEOUT'))
print(shendu.blas.thread_timeout(), os.environ.get('OPENBLAS_THREAD_TIMEOUT'))
"""

openblas = pytest.mark.skipif(
    shendu.blas._openblas() is None, reason="NumPy's BLAS here is not OpenBLAS"
)


def _run(env_value):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if env_value is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env
    )
    lines = out.stdout.strip().splitlines()
    return [line.split() for line in lines]


@openblas
def test_the_short_spin_holds_inside_the_scope_only():
    default, short = str(shendu.blas.OPENBLAS_DEFAULT), str(shendu.blas.THREAD_TIMEOUT)
    # after the import, inside the scope, after it: the environment is never changed
    assert _run(None) == [[default, "None"], [short, "None"], [default, "None"]]


@openblas
def test_a_user_setting_wins():
    assert _run("28") == [["28", "28"]] * 3


@openblas
def test_products_still_run_on_the_restarted_threads():
    code = (
        "import numpy as np, shendu, os\n"
        "a = np.random.default_rng(0).standard_normal((512, 512))\n"
        "with shendu.blas.short_spin():\n"
        "    ok = np.allclose(a @ a, np.einsum('ij,jk->ik', a, a))\n"
        "ok = ok and np.allclose(a @ a, np.einsum('ij,jk->ik', a, a))\n"
        "print(ok, len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) >= 2  # the main thread and a restarted BLAS worker
