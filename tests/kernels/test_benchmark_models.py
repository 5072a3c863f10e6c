"""The five benchmark models (bench/run.py's builders) trained 20 steps with the kernels
and without: the weights agree to rtol 1e-5."""

import importlib.util
import os
import sys

import numpy as np
import pytest

import shendu

pytest.importorskip("numba")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_run_kernels", os.path.join(ROOT, "bench", "run.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run_kernels"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_run_kernels"]


def _weights_after(bench, name, mode, select):
    select(mode)
    shendu.set_random_seed(11)
    if name == "iris":
        run, _ = bench.iris("shendu", steps_scale=20 / 1200)  # one epoch of 12 steps
        run()
        run()  # 24 steps
    else:
        run, _ = getattr(bench, name)("shendu", 20)
        run()
    return [w.copy() for w in run.model.get_weights()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iris", "mlp", "cnn", "lstm", "transformer"])
def test_benchmark_model_trains_equal_with_and_without_kernels(bench, name, kernel_mode):
    ref = _weights_after(bench, name, "numpy", kernel_mode)
    got = _weights_after(bench, name, "numba", kernel_mode)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=2e-6)
