"""shendu.blas: OpenBLAS's thread controls; during fit its idle threads spin briefly, set
without writing the environment (no setenv in a process whose other threads may read it);
after fit, and after importing shendu, OpenBLAS and the environment are as they were."""

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
watch = shendu.callbacks.LambdaCallback(
    on_train_batch_end=lambda *_: during.append(seen())
)
model.fit(x, x[:, :4], epochs=1, verbose=0, callbacks=[watch])
print(*before, *sorted(set(during))[0], *seen(), environ == dict(os.environ))
"""

openblas = pytest.mark.skipif(
    shendu.blas._openblas() is None, reason="NumPy's BLAS here is not OpenBLAS"
)
findable = pytest.mark.skipif(
    shendu.blas._openblas() is None
    or shendu.blas._timeout_setting(shendu.blas._openblas()) is None,
    reason="OpenBLAS's timeout setting cannot be found here (not x86-64, another build)",
)


def _run(code, env_value=None):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if env_value is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.split()


@findable
def test_fit_spins_briefly_and_puts_the_setting_back_without_touching_the_environment():
    default, short = str(shendu.blas.OPENBLAS_DEFAULT), str(shendu.blas.THREAD_TIMEOUT)
    # before fit, during it, after it; and the environment never changed
    assert _run(CODE) == [default, "None", short, "None", default, "None", "True"]


@openblas
def test_a_user_setting_wins():
    assert _run(CODE, "24") == ["24", "24", "24", "24", "24", "24", "True"]


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


@findable
def test_products_still_run_on_the_restarted_threads():
    code = (
        "import numpy as np, shendu, os\n"
        "a = np.random.default_rng(0).standard_normal((512, 512))\n"
        "with shendu.blas.short_spin():\n"
        "    inside = shendu.blas.thread_timeout()\n"
        "    ok = np.allclose(a @ a, np.einsum('ij,jk->ik', a, a))\n"
        "ok = ok and np.allclose(a @ a, np.einsum('ij,jk->ik', a, a))\n"
        "print(ok, inside, len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert out[:2] == ["True", str(shendu.blas.THREAD_TIMEOUT)]
    assert int(out[2]) >= 2  # the main thread and a restarted BLAS worker
