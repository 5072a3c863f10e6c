"""The five benchmark models (bench/run.py's builders) trained 20 steps with the kernels
and without: the weights agree to 1% of how far training moved them (plus 1e-6).

Why relative to the movement: the kernels round differently in the last bits (fast-math
sums, a rational tanh), and 20 Adam steps amplify that where gradients are near zero
(Adam's normalised step) or activations sit at ReLU's kink. On an AMD EPYC the transformer's
first Dense kernel differed by 3.7e-5 after moving 1.8e-2 (0.2%); an Intel Xeon stayed
within 2e-6. A wrong kernel moves the weights differently, far beyond 1%."""

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
    """(initial weights, weights after training) of a benchmark model."""
    select(mode)
    shendu.set_random_seed(11)
    if name == "iris":
        run, _ = bench.iris("shendu", steps_scale=20 / 1200)  # one epoch of 12 steps
        runs = 2  # 24 steps
    else:
        run, _ = getattr(bench, name)("shendu", 20)
        runs = 1
    initial = [w.copy() for w in run.model.get_weights()] if run.model.built else None
    for _ in range(runs):
        run()
    return initial, [w.copy() for w in run.model.get_weights()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iris", "mlp", "cnn", "lstm", "transformer"])
def test_benchmark_model_trains_equal_with_and_without_kernels(bench, name, kernel_mode):
    initial, ref = _weights_after(bench, name, "numpy", kernel_mode)
    _, got = _weights_after(bench, name, "numba", kernel_mode)
    assert initial is not None, "the benchmark model is built before training"
    moved = max(np.abs(a - w0).max() for a, w0 in zip(ref, initial))
    assert moved > 1e-3, f"training barely moved the weights ({moved})"
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6 + 0.01 * moved)
