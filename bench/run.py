"""The benchmark suite: shendu side by side with PyTorch CPU (eager), in one run.

Workloads (issue "Fast"):
  A  seed program: Iris, Dense 10-10-3, Adam, 100 epochs at batch 10 (1,200 steps)
  B  MLP 784-512-512-10, softmax cross-entropy, Adam, batch 128 (and the GEMM-peak fraction)
  C  keras-io mnist_convnet on 28x28x1, batch 128
  D  LSTM(128) over 50 steps of 32 features, batch 64, then Dense(1), MSE
  E  Transformer encoder block: d_model 128, 4 heads, sequence 64, batch 32
  F  inference: B's MLP predict on 10,000 samples; single-sample latency of the Iris model
  G  `import shendu` wall time; peak RSS of A and C (each in a fresh process)
  H  ResNet-20 on 32x32x3, batch 128 (bench/larger.py)
  I  GPT-style language model: 4 blocks, d_model 256, causal attention over 256 tokens
  W  B's MLP at widths 256 to 4,096: samples/s and the fraction of the GEMM peak
  M  peak memory of training C, H and I (each library in a fresh process)

A full run is ABCDEFG; the larger workloads run when named (``--only HIWM``), as they take
several minutes with both peers on a 2-core machine.

Each timed pair runs interleaved (shendu, torch, shendu, torch, ...) after a warm-up,
at least 5 repeats; the table shows medians, min-max and shendu's speed relative to
PyTorch (above 1x means shendu is faster). PyTorch and shendu run with their default threads
and with 1 thread (BLAS and shendu's elementwise threads); the ratio is shendu's default
against the faster of PyTorch's two. When Keras 3 is importable it is a third
column, on the JAX backend (KERAS_BACKEND is set to jax unless already set), with its default
threads (XLA fixes them at start), timed in a block of its own after each shendu/PyTorch
pair (XLA's idle threads spin after a run and slowed whatever ran next): each workload's
model is built by the same code for shendu and for Keras (``lib.layers.Dense(...)``), and
the last column is shendu's speed against it.

``--loaded`` runs the whole suite beside one competing process (a busy loop started and
stopped by the suite itself), as on a shared machine or a laptop doing something else: the
1-thread column is then measured even without PyTorch, and each row says how shendu's
default compares with its one-thread setting.

Run it where both are importable, e.g.
    python -m venv .bench && .bench/bin/pip install torch==2.13.0 -e '.[bench]'
    .bench/bin/python bench/run.py [--quick]
    .bench/bin/pip install keras jax   # optional: the Keras column
Without torch, only shendu's column is printed (and Keras's, when it is importable);
``--shendu-only`` leaves both peers out where they are importable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import larger  # noqa: E402  (bench/larger.py: the larger workloads, #33)

#: set by --shendu-only: the peers are left out even where they are importable
PEERS = {"off": False}


def keras_module():
    """Keras 3 on the JAX backend (KERAS_BACKEND is set to jax unless already set), or None
    with the reason it could not be imported: an optional third column."""
    if PEERS["off"]:
        return None, "--shendu-only"
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except Exception as exc:  # not installed, or its backend is missing
        return None, f"{type(exc).__name__}: {exc}"
    return keras, None


def library(name):
    """The module a workload builds its model from: shendu or keras (the same code)."""
    if name == "keras":
        return keras_module()[0]
    import shendu

    return shendu


def kernels_line(shendu):
    """Which path shendu's kernels take in this run (SHENDU_KERNELS, numba's version)."""
    mode = shendu.kernels.kernels()
    if mode == "numpy":
        return "NumPy (SHENDU_KERNELS=numpy)"
    try:
        used = shendu.kernels.using_numba()
    except ImportError:
        used = False
    if not used:
        return f"NumPy ({mode}: numba not importable; pip install 'shendu[fast]')"
    import numba

    floor = shendu.kernels.dispatch.AUTO_MIN_ELEMENTS
    return f"numba {numba.__version__} ({mode}; NumPy below {floor:,} elements)"


def have_torch():
    if PEERS["off"]:
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------- workloads

#: training steps per timed run of B-E (a full run, and --quick)
STEPS = {"B": 20, "C": 8, "D": 6, "E": 8, "H": 6, "I": 6}
QUICK_STEPS = {"B": 4, "C": 2, "D": 2, "E": 2, "H": 2, "I": 2}
#: B's MLP 784-512-512-10: a training step does 6 FLOPs per parameter and sample
MLP_PARAMS = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10


def peak_fraction(samples_per_s, peak_gflops, flops_per_sample=6 * MLP_PARAMS):
    """Training speed as a fraction of the GEMM peak: the products' FLOPs per sample (B's:
    6 x params) at that speed against the 2048^3 product's GFLOP/s."""
    return flops_per_sample * samples_per_s / (peak_gflops * 1e9)


def products_per_sample(letter):
    """The products' FLOPs per sample of a training step of a workload (None: not counted)."""
    if letter == "B":
        return 6 * MLP_PARAMS
    if letter == "H":
        return larger.resnet20_flops_per_sample()
    if letter == "I":
        return larger.gpt_flops_per_sample()
    if letter.startswith("W"):
        return larger.mlp_flops_per_sample(int(letter[1:]))
    return None


def print_peak_fractions(letter, flops, peak, ours, theirs, keras_vals):
    """The fraction of the GEMM peak each library's median speed reaches: how much of the
    step the products would take at the peak; the rest is memory-bound passes and overhead."""
    label = "B" if letter == "B" else letter[0]
    print(
        f"{'  ' + label + ' as a fraction of GEMM peak':34s} "
        f"{peak_fraction(statistics.median(ours), peak, flops):26.1%}  (2048^3 matmul: "
        f"{peak:.1f} GFLOP/s)"
    )
    if theirs:
        best = max(statistics.median(v) for v in theirs)
        print(
            f"{'  PyTorch on ' + label + ', fraction of peak':34s} "
            f"{peak_fraction(best, peak, flops):26.1%}"
        )
    if keras_vals:
        print(
            f"{'  Keras on ' + label + ', fraction of peak':34s} "
            f"{peak_fraction(statistics.median(keras_vals), peak, flops):26.1%}"
        )


def iris_data():
    import shendu

    x, y = shendu.datasets.load_iris()
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), np.eye(3, dtype=np.float32)[y]


def iris(lib, steps_scale=1.0):
    """The seed program's model and fit, written once for shendu and Keras."""
    import warnings

    lib = library(lib)
    x, y = iris_data()
    x, y = x[:120], y[:120]
    epochs = max(1, int(100 * steps_scale))
    with warnings.catch_warnings():  # Keras 3 warns that input_dim is deprecated
        warnings.simplefilter("ignore")
        model = lib.models.Sequential(
            [
                lib.layers.Dense(10, input_dim=4, activation="relu"),
                lib.layers.Dense(10, activation="relu"),
                lib.layers.Dense(3, activation="softmax"),
            ]
        )
    model.compile(
        optimizer=lib.optimizers.Adam(), loss="categorical_crossentropy", metrics=["accuracy"]
    )

    def run():
        model.fit(x, y, epochs=epochs, batch_size=10, verbose=0)

    run.model = model  # for the thread choice the table reports
    return run, epochs * 12


def torch_iris(steps_scale=1.0):
    import torch

    x, y = iris_data()
    xt, yt = torch.tensor(x[:120]), torch.tensor(y[:120].argmax(1))
    epochs = max(1, int(100 * steps_scale))
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 10),
        torch.nn.ReLU(),
        torch.nn.Linear(10, 10),
        torch.nn.ReLU(),
        torch.nn.Linear(10, 3),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run():
        for _ in range(epochs):
            perm = torch.randperm(120)
            for i in range(0, 120, 10):
                idx = perm[i : i + 10]
                opt.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                (model(xt[idx]).argmax(1) == yt[idx]).float().mean()  # the accuracy Keras tracks

    return run, epochs * 12


def _fit_runner(model, x, y, batch, steps):
    n = batch * steps

    def run():
        model.fit(x[:n], y[:n], epochs=1, batch_size=batch, verbose=0, shuffle=True)

    run.model = model  # for the thread choice the table reports
    return run


def _torch_runner(model, x, y, batch, steps, loss_fn):
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x), torch.tensor(y)
    n = batch * steps

    def run():
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return run


def mlp_data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n)


def mlp(lib, steps):
    lib = library(lib)
    L = lib.layers
    x, y = mlp_data(128 * steps)
    m = lib.Sequential(
        [
            L.Input((784,)),
            L.Dense(512, activation="relu"),
            L.Dense(512, activation="relu"),
            L.Dense(10),
        ]
    )
    m.compile("adam", lib.losses.SparseCategoricalCrossentropy(from_logits=True))
    return _fit_runner(m, x, y, 128, steps), 128 * steps


def torch_mlp(steps):
    import torch

    x, y = mlp_data(128 * steps)
    m = torch.nn.Sequential(
        torch.nn.Linear(784, 512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 10),
    )
    return _torch_runner(
        m, x, y.astype(np.int64), 128, steps, torch.nn.CrossEntropyLoss()
    ), 128 * steps


def cnn_data(n):
    rng = np.random.default_rng(0)
    return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)


def cnn(lib, steps):
    lib = library(lib)
    L = lib.layers
    x, y = cnn_data(128 * steps)
    m = lib.Sequential(
        [
            L.Input((28, 28, 1)),
            L.Conv2D(32, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    )
    m.compile("adam", "sparse_categorical_crossentropy")
    return _fit_runner(m, x, y, 128, steps), 128 * steps


def torch_cnn(steps):
    import torch

    x, y = cnn_data(128 * steps)
    m = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.5),
        torch.nn.Linear(1600, 10),
    )
    x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    return _torch_runner(
        m, x, y.astype(np.int64), 128, steps, torch.nn.CrossEntropyLoss()
    ), 128 * steps


def lstm_data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 50, 32)).astype(np.float32), rng.standard_normal((n, 1)).astype(
        np.float32
    )


def lstm(lib, steps):
    lib = library(lib)
    L = lib.layers
    x, y = lstm_data(64 * steps)
    m = lib.Sequential([L.Input((50, 32)), L.LSTM(128), L.Dense(1)])
    m.compile("adam", "mse")
    return _fit_runner(m, x, y, 64, steps), 64 * steps


def torch_lstm(steps):
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(32, 128, batch_first=True)
            self.out = torch.nn.Linear(128, 1)

        def forward(self, x):
            return self.out(self.lstm(x)[0][:, -1])

    x, y = lstm_data(64 * steps)
    return _torch_runner(Net(), x, y, 64, steps, torch.nn.MSELoss()), 64 * steps


def tf_data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 64, 128)).astype(np.float32), rng.standard_normal(
        (n, 1)
    ).astype(np.float32)


def transformer(lib, steps):
    lib = library(lib)
    L = lib.layers
    x, y = tf_data(32 * steps)
    inp = L.Input((64, 128))
    att = L.MultiHeadAttention(num_heads=4, key_dim=32)(inp, inp)
    h = L.LayerNormalization(epsilon=1e-5)(L.Add()([inp, att]))
    ff = L.Dense(128)(L.Dense(512, activation="relu")(h))
    h = L.LayerNormalization(epsilon=1e-5)(L.Add()([h, ff]))
    out = L.Dense(1)(L.GlobalAveragePooling1D()(h))
    m = lib.Model(inp, out)
    m.compile("adam", "mse")
    return _fit_runner(m, x, y, 32, steps), 32 * steps


def shendu_iris(steps_scale=1.0):
    return iris("shendu", steps_scale)


def shendu_mlp(steps):
    return mlp("shendu", steps)


def shendu_cnn(steps):
    return cnn("shendu", steps)


def shendu_lstm(steps):
    return lstm("shendu", steps)


def shendu_transformer(steps):
    return transformer("shendu", steps)


def torch_transformer(steps):
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = torch.nn.TransformerEncoderLayer(
                128, 4, 512, dropout=0.0, batch_first=True
            )
            self.out = torch.nn.Linear(128, 1)

        def forward(self, x):
            return self.out(self.block(x).mean(1))

    x, y = tf_data(32 * steps)
    return _torch_runner(Net(), x, y, 32, steps, torch.nn.MSELoss()), 32 * steps


def larger_workload(builder, torch_builder, batch):
    """A larger workload (bench/larger.py) as the suite's pair of runner makers:
    ``ours(lib, steps)`` for shendu or Keras and ``theirs(steps)`` for PyTorch."""

    def ours(lib, steps):
        model, x, y = builder(library(lib), batch * steps)
        return _fit_runner(model, x, y, batch, steps), batch * steps

    def theirs(steps):
        model, x, y, loss = torch_builder(batch * steps)
        return _torch_runner(model, x, y, batch, steps, loss), batch * steps

    return ours, theirs


RESNET = larger_workload(larger.resnet20, larger.torch_resnet20, larger.RESNET_BATCH)
GPT = larger_workload(larger.gpt, larger.torch_gpt, larger.GPT_BATCH)


def width_workload(width):
    return larger_workload(
        lambda lib, n: larger.mlp_of_width(lib, width, n),
        lambda n: larger.torch_mlp_of_width(width, n),
        128,
    )


#: the fewest steps a timed run of the width sweep takes: with 2, the runs of widths 2,048
#: and 4,096 were mostly the tuner's first probe (its one-thread block, a step of each fit)
MIN_WIDTH_STEPS = 6


def width_steps(width, quick):
    """Steps per timed run of the width sweep: about B's products per run, and at least
    MIN_WIDTH_STEPS (2 with --quick)."""
    ratio = larger.mlp_flops_per_sample(512) / larger.mlp_flops_per_sample(width)
    return max(2 if quick else MIN_WIDTH_STEPS, round((4 if quick else 20) * ratio))


# ----------------------------------------------------------------------------- timing


def set_threads(n):
    """Set PyTorch's, the BLAS's and shendu's elementwise threads (None: the defaults)."""
    from threadpoolctl import threadpool_limits

    import shendu

    limiter = threadpool_limits(limits=n) if n else None
    shendu.parallel.limit_threads(n)
    if have_torch():
        import torch

        torch.set_num_threads(n or os.cpu_count())
    return limiter


# Idle seconds before each timed run. A pause lets the other library's idle threads stop
# spinning, but on this virtual machine it also lets the second core go cold: once shendu cut
# OpenBLAS's spin to 0.1 ms (shendu.blas), a 0.3 s pause made both sides slower (CNN: shendu
# 4,614 -> 4,077, PyTorch 6,382 -> 5,609 samples/s), so the runs go back to back, as the steps
# of a real training run do.
SETTLE_S = 0.0


def interleaved(makers, repeats):
    """Times per call of each runner, interleaved A, B, A, B... after one warm-up each (and
    SETTLE_S of idle time before each timed call, if set)."""
    runners = {name: make() for name, make in makers.items()}
    for run, _ in runners.values():
        run()
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, (run, _) in runners.items():
            if SETTLE_S:
                time.sleep(SETTLE_S)
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: (times[name], runners[name][1], runners[name][0]) for name in runners}


def thread_choice(run):
    """What shendu's fit chose for its BLAS threads in a runner's model (None: not tuned),
    with the medians of its last probe in ms per step."""
    tuner = getattr(getattr(run, "model", None), "_blas_tuner", None)
    if tuner is None or not tuner.candidates:
        return None
    probe = ", ".join(
        f"{n} thread{'s' if n > 1 else ''} {statistics.median(t) * 1e3:.1f} ms"
        for n, t in tuner.times.items()
        if t
    )
    return f"fit chose {tuner.choice} BLAS thread{'s' if tuner.choice > 1 else ''} ({probe})"


def gemm_peak_gflops():
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(3))
    return 2 * 2048**3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def subprocess_stats(code):
    """(wall seconds, peak RSS MiB) of ``python -c code`` in a fresh process."""
    # VmHWM (this process's own peak), not ru_maxrss, which a forked child inherits
    wrapper = (
        "import time, sys\nt0 = time.perf_counter()\n"
        + code
        + "\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
        "\nprint('STATS', time.perf_counter() - t0, int(hwm.split()[1]) / 1024)"
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    wall = time.perf_counter() - t0
    line = [s for s in out.splitlines() if s.startswith("STATS")][-1].split()
    return wall, float(line[2]), out


SEED_PROCESS = """
import shendu
from shendu.datasets import load_iris, train_test_split
from shendu.layers import Dense
from shendu.models import Sequential
from shendu.optimizers import Adam
shendu.set_random_seed(0)
x, y = load_iris()
x_train, x_test, y_train, y_test = train_test_split(x, shendu.utils.to_categorical(y), seed=42)
model = Sequential([Dense(10, input_dim=4, activation='relu'), Dense(10, activation='relu'),
                    Dense(3, activation='softmax')])
model.compile(optimizer=Adam(), loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=100, batch_size=10, verbose=0)
print('accuracy', model.evaluate(x_test, y_test, verbose=0)[1])
"""


def _speed(ours, theirs, unit):
    """shendu's speed relative to ``theirs`` (medians): above 1 means shendu is faster."""
    a, b = statistics.median(ours), statistics.median(theirs)
    return b / a if unit == "s" else a / b


def fmt_row(name, ours, theirs, unit, keras_vals=None, keras_ok=False, ours_one_thread=None):
    """One table row: shendu (its default threads, then one thread when PyTorch ran), PyTorch
    at each thread setting, then Keras when it ran; the speed of shendu's default against
    PyTorch (the faster of its settings) and against Keras."""

    def cell(values):
        if not values:
            return f"{'-':>26s}"
        med = statistics.median(values)
        return f"{med:9.4g} [{min(values):.3g}-{max(values):.3g}]".rjust(26)

    line = f"{name:34s} {cell(ours)}"
    if theirs or ours_one_thread:
        line += f" {cell(ours_one_thread)}"
    for vals in theirs:
        line += f" {cell(vals)}"
    if keras_ok:
        line += f" {cell(keras_vals)}"
    runs = [v for v in theirs if v]
    if runs:  # against the faster of PyTorch's thread settings
        line += f" {min(_speed(ours, v, unit) for v in runs):8.2f}x"
    if keras_ok and keras_vals:
        line += f" {_speed(ours, keras_vals, unit):8.2f}x"
    return line + f"  {unit}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a one-minute pass")
    parser.add_argument("--only", default="ABCDEFG", help="workload letters to run")
    parser.add_argument(
        "--loaded", action="store_true", help="beside one competing busy process (started here)"
    )
    parser.add_argument(
        "--shendu-only",
        action="store_true",
        help="leave PyTorch and Keras out (shendu's default against its 1-thread setting)",
    )
    args = parser.parse_args()
    PEERS["off"] = args.shendu_only
    competitor = competing_process() if args.loaded else None
    try:
        run_suite(args)
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()


def competing_process():
    """One busy loop in another process: a core's worth of load, as another program."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def run_suite(args):
    quick = args.quick
    repeats = 5
    torch_ok = have_torch()
    from threadpoolctl import threadpool_info

    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
        for i in threadpool_info()
    ]
    print(
        f"shendu vs PyTorch CPU eager | CPUs: {os.cpu_count()} | NumPy {np.__version__} | "
        f"BLAS: {'; '.join(blas)}"
    )
    import shendu

    print(
        f"shendu's choices: elementwise work on {shendu.parallel.num_threads()} threads; "
        f"during fit, OpenBLAS idle spin 2**{shendu.blas.THREAD_TIMEOUT} cycles (else "
        f"2**{shendu.blas.thread_timeout()}) and freed memory kept for reuse"
    )
    print(f"shendu's kernels: {kernels_line(shendu)}")
    if torch_ok:
        import torch

        print(f"PyTorch {torch.__version__}, default threads {torch.get_num_threads()}")
    elif PEERS["off"]:
        print("PyTorch and Keras left out (--shendu-only)")
    else:
        print("PyTorch is not importable: shendu's column only")
    keras, why_not = keras_module()
    if keras is not None:
        print(f"Keras {keras.__version__} on {keras.backend.backend()} (default threads)")
    else:
        print(f"Keras is not importable ({why_not}): no Keras column")
    one_thread = torch_ok or args.loaded or args.shendu_only  # the 1-thread column
    thread_settings = [None, 1] if one_thread else [None]
    if args.loaded:
        print("loaded: one competing busy process runs beside the suite")
    header = f"{'workload':34s} {'shendu (default threads)':>26s}"
    if one_thread:
        header += f" {'shendu (1 thread)':>26s}"
    if torch_ok:
        header += f" {'torch (default threads)':>26s} {'torch (1 thread)':>26s}"
    if keras is not None:
        header += f" {'keras (default threads)':>26s}"
    if torch_ok:
        header += f" {'vs torch':>9s}"
    if keras is not None:
        header += f" {'vs keras':>9s}"
    print(header)
    results = {}
    scale = 0.25 if quick else 1.0
    steps = QUICK_STEPS if quick else STEPS
    cases = {
        "A": ("A seed Iris fit (100 epochs)", iris, torch_iris, scale, "s"),
        "B": ("B MLP 784-512-512-10 b128", mlp, torch_mlp, steps["B"], "samples/s"),
        "C": ("C mnist_convnet b128", cnn, torch_cnn, steps["C"], "samples/s"),
        "D": ("D LSTM(128) T50 F32 b64", lstm, torch_lstm, steps["D"], "samples/s"),
        "E": (
            "E Transformer block d128 h4 T64",
            transformer,
            torch_transformer,
            steps["E"],
            "samples/s",
        ),
        "H": ("H ResNet-20 32x32x3 b128", *RESNET, steps["H"], "samples/s"),
        "I": ("I GPT 4x d256 T256 b8", *GPT, steps["I"], "samples/s"),
    }
    for width in larger.WIDTHS:
        cases[f"W{width}"] = (
            f"W MLP 784-{width}-{width}-10 b128",
            *width_workload(width),
            width_steps(width, quick),
            "samples/s",
        )
    peak = None
    for letter, (name, ours_fn, torch_fn, size, unit) in cases.items():
        if letter[0] not in args.only:
            continue
        ours_vals, ours_one_thread, theirs_vals, keras_vals = None, None, [], None
        choice = None
        for threads in thread_settings:
            limiter = set_threads(threads)
            makers = {"ours": lambda f=ours_fn, s=size: f("shendu", s)}
            if torch_ok:
                makers["torch"] = lambda f=torch_fn, s=size: f(s)
            timed = interleaved(makers, 3 if quick else repeats)
            if keras is not None and threads is None:  # XLA's threads are fixed at start
                # in a block of its own: XLA's idle threads keep spinning after a Keras run
                # and slowed the run after it (shendu's LSTM step: 18.7-26.1 ms right after
                # Keras against 17.6-18.2 ms after PyTorch or nothing)
                timed.update(
                    interleaved(
                        {"keras": lambda f=ours_fn, s=size: f("keras", s)},
                        3 if quick else repeats,
                    )
                )
            if limiter is not None:
                limiter.unregister() if hasattr(limiter, "unregister") else None
            set_threads(None)

            def convert(entry, unit=unit):
                times, samples, _ = entry
                return times if unit == "s" else [samples / t for t in times]

            if threads is None:
                ours_vals = convert(timed["ours"])
                choice = thread_choice(timed["ours"][2])
                if "keras" in timed:
                    keras_vals = convert(timed["keras"])
            else:
                ours_one_thread = convert(timed["ours"])
            if torch_ok:
                theirs_vals.append(convert(timed["torch"]))
        print(
            fmt_row(
                name, ours_vals, theirs_vals, unit, keras_vals, keras is not None, ours_one_thread
            ),
            flush=True,
        )
        if choice:
            print(f"{'  shendu default threads:':34s} {choice}")
        if ours_vals and ours_one_thread:
            default_vs_one = _speed(ours_vals, ours_one_thread, unit)
            print(f"{'  shendu default / 1 thread':34s} {default_vs_one:25.2f}x")
        results[letter] = {
            "shendu": ours_vals,
            "shendu_1_thread": ours_one_thread,
            "torch": theirs_vals,
            "keras": keras_vals,
        }
        flops = products_per_sample(letter)
        if flops:
            peak = peak or gemm_peak_gflops()
            print_peak_fractions(letter, flops, peak, ours_vals, theirs_vals, keras_vals)
    if "M" in args.only:
        memory_table(torch_ok, keras is not None)
    if "F" in args.only:
        inference(torch_ok, keras is not None)
    if "G" in args.only:
        imports = []
        for _ in range(3 if quick else 5):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import time; t=time.perf_counter(); "
                    "import shendu; print(time.perf_counter()-t)",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            imports.append(float(out))
        numpy_imports = []
        for _ in range(3 if quick else 5):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import time; t=time.perf_counter(); "
                    "import numpy; print(time.perf_counter()-t)",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            numpy_imports.append(float(out))
        print(
            f"{'G import shendu':34s} {statistics.median(imports):26.3f}  s "
            f"(import numpy alone: {statistics.median(numpy_imports):.3f} s)"
        )
        wall, rss, out = subprocess_stats(SEED_PROCESS)
        print(
            f"{'A whole process, import->accuracy':34s} {wall:26.3f}  s  ({out.split()[1]} "
            f"accuracy, peak RSS {rss:.0f} MiB)"
        )
        _, rss_c, _ = subprocess_stats(
            "import sys; sys.path.insert(0, 'bench'); import run; f, _ = run.shendu_cnn(4); f()"
        )
        print(f"{'G peak RSS of C (4 steps)':34s} {rss_c:26.0f}  MiB")
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as f:
            json.dump(results, f)


MEMORY_STEPS = 3


def _status_mib(field):
    """A field of this process's /proc/self/status (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def memory_probe(letter, lib):
    """In a fresh process: build workload ``letter`` (C, H or I) with ``lib`` (shendu, keras
    or torch), run a fit of MEMORY_STEPS steps, and print the resident memory before the fit
    and the process's peak after it (MiB)."""
    if lib == "torch":
        run, _ = {"C": torch_cnn, "H": RESNET[1], "I": GPT[1]}[letter](MEMORY_STEPS)
    else:
        run, _ = {"C": cnn, "H": RESNET[0], "I": GPT[0]}[letter](lib, MEMORY_STEPS)
    before = _status_mib("VmRSS")
    run()
    print("MEMORY", before, _status_mib("VmHWM"))


def memory_table(torch_ok, keras_ok):
    """Peak memory of training C, H and I: each library in a fresh process, the memory its
    fit added to what import, data and model held (the process's whole peak beside it)."""
    libs = ["shendu"] + (["torch"] if torch_ok else []) + (["keras"] if keras_ok else [])
    print(f"{'M peak memory of training (MiB)':34s} " + " ".join(f"{n:>26s}" for n in libs))
    for letter, name in (("C", "C mnist_convnet"), ("H", "H ResNet-20"), ("I", "I GPT")):
        cells = []
        for lib in libs:
            code = (
                "import sys; sys.path.insert(0, 'bench'); import run; "
                f"run.memory_probe({letter!r}, {lib!r})"
            )
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
            ).stdout
            before, peak = map(float, out.split("MEMORY")[-1].split())
            cells.append(f"+{peak - before:.0f} (peak {peak:.0f})")
        print(f"{'  ' + name:34s} " + " ".join(f"{c:>26s}" for c in cells), flush=True)


def inference(torch_ok, keras_ok=False):
    """F: predict on 10,000 samples of B's MLP and one-sample latency, against PyTorch at its
    default threads; each figure under its column of the table's header (shendu's one-thread
    and Keras's columns left blank)."""
    import shendu
    from shendu import layers as L
    from shendu.autograd.mode import no_grad

    skip_keras = f" {'':26s}" if keras_ok else ""
    x, _ = mlp_data(10000)
    m = shendu.Sequential(
        [
            L.Input((784,)),
            L.Dense(512, activation="relu"),
            L.Dense(512, activation="relu"),
            L.Dense(10),
        ]
    )
    ours = [_timed(lambda: m.predict(x, batch_size=256, verbose=0)) for _ in range(5)]
    line = f"{'F MLP predict 10,000 samples':34s} {statistics.median(ours):26.4f}"
    if torch_ok:
        import torch

        tm = torch.nn.Sequential(
            torch.nn.Linear(784, 512),
            torch.nn.ReLU(),
            torch.nn.Linear(512, 512),
            torch.nn.ReLU(),
            torch.nn.Linear(512, 10),
        )
        xt = torch.tensor(x)

        def tpredict():
            with torch.no_grad():
                for i in range(0, 10000, 256):
                    tm(xt[i : i + 256])

        theirs = [_timed(tpredict) for _ in range(5)]
        line += (
            f" {'':26s} {statistics.median(theirs):26.4f} {'':26s}{skip_keras} "
            f"{statistics.median(theirs) / statistics.median(ours):8.2f}x"
        )
    print(line + "  s")
    iris = shendu.Sequential(
        [
            L.Input((4,)),
            L.Dense(10, activation="relu"),
            L.Dense(10, activation="relu"),
            L.Dense(3, activation="softmax"),
        ]
    )
    one = np.ones((1, 4), np.float32)

    def call():
        with no_grad():
            iris(one)

    for fn, label in (
        (call, "F Iris model(x), one sample"),
        (lambda: iris.predict(one, verbose=0), "F Iris predict, one sample"),
    ):
        for _ in range(200):
            fn()
        n = 2000
        t = min(_timed(lambda f=fn, k=n: [f() for _ in range(k)]) for _ in range(3)) / n
        line = f"{label:34s} {t * 1e6:26.1f}"
        if torch_ok:
            import torch

            tm = torch.nn.Sequential(
                torch.nn.Linear(4, 10),
                torch.nn.ReLU(),
                torch.nn.Linear(10, 10),
                torch.nn.ReLU(),
                torch.nn.Linear(10, 3),
                torch.nn.Softmax(-1),
            )
            xt = torch.ones(1, 4)

            def tcall(tm=tm, xt=xt):
                with torch.no_grad():
                    tm(xt)

            for _ in range(200):
                tcall()
            tt = min(_timed(lambda k=n, f=tcall: [f() for _ in range(k)]) for _ in range(3)) / n
            line += f" {'':26s} {tt * 1e6:26.1f} {'':26s}{skip_keras} {tt / t:8.2f}x"
        print(line + "  us")


if __name__ == "__main__":
    main()
