"""shendu.blas: OpenBLAS's thread controls; fit leaves its idle spin and the environment as
they were (no setenv in a process whose other threads may read the environment)."""

import os
import subprocess
import sys

import pytest

import shendu

CODE = """
import os, numpy as np, shendu
def seen():
    return shendu.blas.thread_timeout(), os.environ.get('OPENBLAS_THREAD_TIMEOUT')
before = seen()
x = np.random.default_rng(0).standard_normal((256, 8)).astype('float32')
model = shendu.Sequential([shendu.Input((8,)), shendu.layers.Dense(4)])
model.compile('sgd', 'mse')
environ = dict(os.environ)
during = []
watch = shendu.callbacks.LambdaCallback(on_train_batch_end=lambda *_: during.append(seen()))
model.fit(x, x[:, :4], epochs=1, verbose=0, callbacks=[watch])
print(set(during) == {before} == {seen()}, environ == dict(os.environ), *seen())
"""

openblas = pytest.mark.skipif(
    shendu.blas._openblas() is None, reason="NumPy's BLAS here is not OpenBLAS"
)


def _run(code, env_value=None):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if env_value is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.split()


@openblas
def test_fit_leaves_the_spin_and_the_environment_as_they_were():
    default = str(shendu.blas.OPENBLAS_DEFAULT)
    assert _run(CODE) == ["True", "True", default, "None"]


@openblas
def test_a_user_setting_is_openblas_own():
    assert _run(CODE, "18") == ["True", "True", "18", "18"]


@openblas
def test_the_thread_count_is_read_and_set_through_openblas():
    code = (
        "import numpy as np, shendu\n"
        "before = shendu.blas.num_threads()\n"
        "with shendu.blas.process_threads(1):\n"
        "    inside = shendu.blas.num_threads()\n"
        "a = np.random.default_rng(0).standard_normal((256, 256))\n"
        "with shendu.blas.single_threaded():\n"
        "    ok = np.allclose(a @ a, np.einsum('ij,jk->ik', a, a))\n"
        "print(before, inside, shendu.blas.num_threads(), ok)\n"
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert out == ["2", "1", "2", "True"]
