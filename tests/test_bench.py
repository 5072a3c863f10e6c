"""The benchmark script's table logic and its workloads (built from shendu; Keras and PyTorch
are optional columns and are not needed here)."""

import importlib.util
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_run", os.path.join(ROOT, "bench", "run.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_run"]


def test_speed_is_against_the_faster_pytorch_setting(bench):
    # samples/s: shendu 300; PyTorch 200 at default threads, 400 at one thread; Keras 150
    row = bench.fmt_row("X", [300] * 3, [[200] * 3, [400] * 3], "samples/s", [150] * 3, True)
    assert row.split()[-3:] == ["0.75x", "2.00x", "samples/s"]
    # seconds: lower is faster
    row = bench.fmt_row("A", [0.1] * 3, [[0.4] * 3, [0.2] * 3], "s", [0.3] * 3, True, [0.15])
    assert row.split()[-3:] == ["2.00x", "3.00x", "s"]
    assert "0.15 [0.15-0.15]" in row  # shendu's one-thread run has its column


def test_rows_without_the_optional_columns(bench):
    assert bench.fmt_row("A", [0.1], [], "s").split()[-1] == "s"
    assert "x" not in bench.fmt_row("A", [0.1], [], "s").split("]")[-1]
    row = bench.fmt_row("A", [0.1], [[0.2]], "s", None, False)
    assert row.split()[-2:] == ["2.00x", "s"]


@pytest.mark.parametrize("name", ["iris", "mlp", "cnn", "lstm", "transformer"])
def test_each_workload_builds_and_trains_with_shendu(bench, name):
    run, samples = getattr(bench, name)("shendu", 0.02 if name == "iris" else 1)
    run()
    assert samples > 0


def test_the_thread_choice_of_a_tuned_fit_is_reported(bench):
    run, _ = bench.mlp("shendu", 12)
    run()
    line = bench.thread_choice(run)
    tuner = run.model._blas_tuner
    if not tuner.candidates:  # one BLAS thread, or not OpenBLAS: nothing was tuned
        assert line is None
        return
    assert line.startswith(f"fit chose {tuner.choice} BLAS thread") and " ms" in line
    assert bench.thread_choice(lambda: None) is None
