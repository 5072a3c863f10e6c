"""The benchmark script's table logic and its workloads (built from shendu; Keras and PyTorch
are optional columns and are not needed here)."""

import importlib.util
import os
import sys

import numpy as np
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


def test_the_one_thread_column_without_pytorch(bench):
    # --loaded measures shendu's 1-thread setting even where PyTorch is missing
    row = bench.fmt_row("B", [100.0] * 3, [], "samples/s", None, False, [120.0] * 3)
    assert "120 [120-120]" in row and "x" not in row.replace("samples/s", "")


def test_the_loaded_mode_starts_a_competitor_and_stops_it(bench):
    competitor = bench.competing_process()
    try:
        assert competitor.poll() is None  # running
    finally:
        competitor.kill()
        competitor.wait()
    assert competitor.poll() is not None


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


@pytest.fixture(scope="module")
def floor():
    spec = importlib.util.spec_from_file_location(
        "bench_gemm_floor", os.path.join(ROOT, "bench", "gemm_floor.py")
    )
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    spec.loader.exec_module(module)  # puts bench/ on sys.path to import bench/run.py
    yield module
    sys.path[:] = path
    sys.modules.pop("run", None)


def _dense(batch, *widths):
    return sum(2 * batch * a * b for a, b in zip(widths, widths[1:]))


# the FLOPs of each workload's forward products, counted from its layers, and of the input
# gradients its step skips (the model's input needs none)
FORWARD_AND_SKIPPED = {
    "B": (_dense(128, 784, 512, 512, 10), _dense(128, 784, 512)),
    "C": (
        _dense(128 * 26 * 26, 9, 32) + _dense(128 * 11 * 11, 288, 64) + _dense(128, 1600, 10),
        _dense(128 * 26 * 26, 9, 32),
    ),
    "D": (
        _dense(50 * 64, 32, 512) + 50 * _dense(64, 128, 512) + _dense(64, 128, 1),
        _dense(50 * 64, 32, 512),
    ),
    "E": (
        4 * _dense(2048, 128, 128)
        + _dense(2048, 128, 512, 128)
        + 2 * 128 * _dense(64, 32, 64)  # q k^T and P v for 32 x 4 (sample, head) blocks
        + _dense(32, 128, 1),
        3 * _dense(2048, 128, 128),
    ),
}


@pytest.mark.parametrize("letter", "BCDE")
def test_the_gemm_floor_counts_every_product_of_a_step(floor, letter):
    # a step's products: the forward ones, and twice as many FLOPs backward (the input
    # gradient and the weight gradient of each), less the input gradients nothing needs
    forward, skipped = FORWARD_AND_SKIPPED[letter]
    total = sum(floor.product_flops(p.shape) * p.count for p in floor.PRODUCTS[letter])
    assert total == 3 * forward - skipped


def test_the_gemm_floor_prints_each_workload_and_its_products(floor, capsys):
    floor.main(["--only", "D", "--repeats", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["workload", "GEMM", "floor"]
    row = lines[1].split()
    assert row[:2] == ["D", "x1.2"] and float(row[2]) > 0 and float(row[3]) > 0
    assert len(lines) == 2 + len(floor.PRODUCTS["D"])


def test_the_gemm_floor_names_the_letters_it_takes(floor):
    with pytest.raises(SystemExit, match="--only takes letters of BCDE. Received: 'BX'"):
        floor.main(["--only", "BX", "--repeats", "1"])


def test_the_header_names_the_kernels_path(bench):
    import shendu
    from shendu.kernels import dispatch

    run = bench
    before = dict(dispatch._state)
    try:
        dispatch.set_kernels("numpy")
        assert run.kernels_line(shendu) == "NumPy (SHENDU_KERNELS=numpy)"
        numba = pytest.importorskip("numba")
        dispatch.set_kernels("auto")
        assert run.kernels_line(shendu) == (
            f"numba {numba.__version__} (auto; NumPy below 16,384 elements)"
        )
    finally:
        dispatch._state.clear()
        dispatch._state.update(before)


def test_the_larger_workloads_build_and_train_with_shendu(bench):
    import shendu

    for build in (bench.larger.resnet20, bench.larger.gpt):
        model, x, y = build(shendu, 4)
        history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
    model, x, y = bench.larger.mlp_of_width(shendu, 256, 8)
    assert model.count_params() == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10


def _conv_and_dense_macs(model):
    """Multiply-adds per sample of a model's Conv2D and Dense layers, from their shapes."""
    import shendu

    macs = 0
    for layer in model.layers:
        if isinstance(layer, shendu.layers.Conv2D):
            h, w, filters = layer.output.shape[1:]
            macs += h * w * filters * int(np.prod(layer.kernel.shape[:3]))
        elif isinstance(layer, shendu.layers.Dense):
            macs += int(np.prod(layer.kernel.shape))
    return macs


def test_the_larger_workloads_products_are_counted_from_their_layers(bench):
    import shendu

    resnet, _, _ = bench.larger.resnet20(shendu, 1)
    assert bench.larger.resnet20_flops_per_sample() == 6 * _conv_and_dense_macs(resnet)
    mlp, _, _ = bench.larger.mlp_of_width(shendu, 1024, 1)
    assert bench.larger.mlp_flops_per_sample(1024) == 6 * _conv_and_dense_macs(mlp)
    gpt, _, _ = bench.larger.gpt(shendu, 1)
    L = bench.larger
    weights = sum(  # every kernel of a product: not embeddings, norms or biases
        int(np.prod(w.shape))
        for w in gpt.trainable_weights
        if len(w.shape) >= 2 and not w.path.endswith(("embeddings", "bias"))
    )
    attention = L.GPT_BLOCKS * 2 * L.GPT_T * L.GPT_D
    assert L.gpt_flops_per_sample() == 6 * L.GPT_T * (weights + attention)


def test_the_width_sweep_keeps_each_runs_products_near_bs(bench):
    flops = {
        w: bench.width_steps(w, False) * bench.larger.mlp_flops_per_sample(w)
        for w in bench.larger.WIDTHS
    }
    assert bench.width_steps(512, False) == bench.STEPS["B"]
    for width in (256, 1024):
        assert 0.5 < flops[width] / flops[512] < 2.5, width
    # the widest take the fewest steps the tuner's first probe needs to end early
    assert bench.width_steps(4096, False) == bench.MIN_WIDTH_STEPS
    assert bench.width_steps(4096, True) == 2


def test_the_peak_fraction_line_of_each_counted_workload(bench, capsys):
    assert bench.products_per_sample("C") is None
    flops = bench.products_per_sample("W1024")
    assert flops == bench.larger.mlp_flops_per_sample(1024)
    # 1,000 samples/s of 1e8 FLOPs each on a 200 GFLOP/s peak: half of it
    bench.print_peak_fractions("W1024", 1e8, 200.0, [1000.0], [[500.0], [800.0]], [400.0])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["W", "as"],
        ["PyTorch", "on"],
        ["Keras", "on"],
    ]
    assert [line.split()[-1] for line in lines[1:]] == ["40.0%", "20.0%"]
    assert "50.0%" in lines[0]


def test_the_memory_probe_reports_the_fits_memory(bench, capsys):
    bench.memory_probe("C", "shendu")
    before, peak = map(float, capsys.readouterr().out.split("MEMORY")[-1].split())
    assert 0 < before <= peak


def test_the_shendu_only_mode_leaves_the_peers_out(bench, monkeypatch):
    monkeypatch.setitem(bench.PEERS, "off", True)
    assert not bench.have_torch()
    assert bench.keras_module() == (None, "--shendu-only")
