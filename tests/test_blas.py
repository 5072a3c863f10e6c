"""shendu.blas: OpenBLAS's idle threads spin briefly instead of for 0.1 s."""

import os
import subprocess
import sys

import pytest

import shendu

CODE = (
    "import os, shendu\n"
    "print(shendu.blas.thread_timeout(), os.environ.get('OPENBLAS_THREAD_TIMEOUT'))\n"
)

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
    return out.stdout.split()


@openblas
def test_import_sets_a_short_spin_and_restarts_the_threads():
    assert _run(None) == [str(shendu.blas.THREAD_TIMEOUT), str(shendu.blas.THREAD_TIMEOUT)]


@openblas
def test_a_user_setting_wins():
    assert _run("28") == ["28", "28"]


@openblas
def test_products_still_run_on_the_restarted_threads():
    code = (
        "import numpy as np, shendu, os\n"
        "a = np.random.default_rng(0).standard_normal((512, 512))\n"
        "print(np.allclose(a @ a, np.einsum('ij,jk->ik', a, a)), len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) >= 2  # the main thread and a restarted BLAS worker
