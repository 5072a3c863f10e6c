"""The GPU check (issue "On a GPU through CuPy"): one prepared script for a machine with an
NVIDIA GPU, CuPy and PyTorch with CUDA.

1. the op suite on CuPy against NumPy: every case of tests/test_device.py run on real
   CuPy arrays, forward and gradients compared with the NumPy results (rtol 1e-4);
2. the seed model and the benchmark CNN trained on the GPU (accuracy printed);
3. the benchmark MLP, CNN and LSTM timed side by side with PyTorch CUDA eager.
Run: bash bench/gpu_check.sh
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))


def op_suite():
    import cupy as cp

    import shendu
    import test_device as td

    failures = 0
    cases = td._cases(np.random.default_rng(0))
    for name, (fn, arrays) in sorted(cases.items()):
        results = []
        for to_gpu in (False, True):
            xs = [np.asarray(a).view(np.ndarray) for a in arrays]
            if to_gpu:
                xs = [cp.asarray(a) for a in xs]
            inputs = [shendu.Tensor(a, requires_grad=True) for a in xs]
            out = fn(*inputs)
            (out * out).sum().backward()
            results.append(
                [shendu.backend.to_numpy(out.data)]
                + [shendu.backend.to_numpy(t.grad.data) for t in inputs]
            )
        ok = all(np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(*results))
        failures += not ok
        print(f"  {name:16s} {'ok' if ok else 'MISMATCH'}")
    print(f"op suite on CuPy: {len(cases) - failures}/{len(cases)} match NumPy")


def train_on_gpu():
    import shendu
    from shendu import layers as L

    shendu.set_random_seed(0)
    x, y = shendu.datasets.load_iris()
    x_tr, x_te, y_tr, y_te = shendu.datasets.train_test_split(x, shendu.utils.to_categorical(y))
    m = shendu.Sequential(
        [
            L.Dense(10, input_dim=4, activation="relu"),
            L.Dense(10, activation="relu"),
            L.Dense(3, activation="softmax"),
        ]
    )
    m.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    m.to("gpu")
    m.fit(x_tr, y_tr, epochs=100, batch_size=10, verbose=0)
    print("seed model on the GPU: test accuracy", m.evaluate(x_te, y_te, verbose=0)[1])
    x, y = shendu.datasets.load_digits()
    x = (x / 16.0)[..., None].astype("float32")
    cnn = shendu.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(16, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(10, activation="softmax"),
        ]
    )
    cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cnn.to("gpu")
    cnn.fit(x[:1400], y[:1400], epochs=10, batch_size=32, verbose=0)
    print("digits CNN on the GPU: test accuracy", cnn.evaluate(x[1400:], y[1400:], verbose=0)[1])


def timings():
    import cupy as cp
    import run
    import torch

    for name, ours, theirs, steps in (
        ("MLP", run.shendu_mlp, run.torch_mlp, 20),
        ("CNN", run.shendu_cnn, run.torch_cnn, 8),
        ("LSTM", run.shendu_lstm, run.torch_lstm, 6),
    ):
        f, n = ours(steps)  # built on the GPU: shendu.backend.set_device("gpu") below
        f()
        cp.cuda.Device().synchronize()
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            f()
            cp.cuda.Device().synchronize()
            ts.append(time.perf_counter() - t0)
        torch.set_default_device("cuda")
        g, _ = theirs(steps)
        g()
        tt = []
        for _ in range(5):
            t0 = time.perf_counter()
            g()
            torch.cuda.synchronize()
            tt.append(time.perf_counter() - t0)
        torch.set_default_device("cpu")
        a, b = n / statistics.median(ts), n / statistics.median(tt)
        print(f"{name}: shendu {a:.0f} samples/s, torch CUDA {b:.0f} samples/s, ratio {a / b:.2f}")


if __name__ == "__main__":
    import shendu

    shendu.backend.set_device("gpu")
    op_suite()
    train_on_gpu()
    timings()
