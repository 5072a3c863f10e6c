"""The GEMM floor of workloads B-E: what one training step's matrix products cost alone.

Every matrix product one training step of a workload performs (forward, input gradients,
weight gradients) is timed alone with NumPy at the BLAS's default threads into a
preallocated output, and the medians are summed: the floor. Next to it, in the same run,
the measured step of shendu and of PyTorch (default threads; interleaved as in
bench/run.py) and the step the issue's target asks for (PyTorch's step divided by the
target ratio). The target minus the floor is all the time the rest of a step (elementwise
passes, the optimizer, Python) may take; shendu's rest is its step minus the floor.

    python bench/gemm_floor.py [--only BCDE] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import NamedTuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as workloads  # noqa: E402  (bench/run.py: the workloads and their PyTorch twins)

from shendu.ops._util import transposed_product  # noqa: E402


class Product(NamedTuple):
    """``count`` products of ``shape``: (m, k, n) is (m x k) @ (k x n); (b, m, k, n) is b of
    them batched. ``transposed``: a^T @ b with a stored (k x m), as a weight gradient reads
    its layer's input (shendu computes it with ops._util.transposed_product)."""

    label: str
    shape: tuple
    count: int = 1
    transposed: bool = False


P = Product
# one training step of each workload of bench/run.py
PRODUCTS = {
    "B": [  # MLP 784-512-512-10, batch 128 (the input needs no gradient)
        P("forward 784->512", (128, 784, 512)),
        P("forward 512->512", (128, 512, 512)),
        P("forward 512->10", (128, 512, 10)),
        P("input grad 512<-512", (128, 512, 512)),
        P("input grad 512<-10", (128, 10, 512)),
        P("weight grad 784x512", (784, 128, 512), 1, True),
        P("weight grad 512x512", (512, 128, 512), 1, True),
        P("weight grad 512x10", (512, 128, 10), 1, True),
    ],
    "C": [  # mnist_convnet, batch 128: im2col products (the input needs no gradient)
        P("conv1 forward", (128 * 26 * 26, 9, 32)),
        P("conv1 weight grad", (9, 128 * 26 * 26, 32), 1, True),
        P("conv2 forward", (128 * 11 * 11, 288, 64)),
        P("conv2 weight grad", (288, 128 * 11 * 11, 64), 1, True),
        P("conv2 input grad", (128 * 11 * 11, 64, 288)),
        P("dense forward", (128, 1600, 10)),
        P("dense input grad", (128, 10, 1600)),
        P("dense weight grad", (1600, 128, 10), 1, True),
    ],
    "D": [  # LSTM(128) over 50 steps of 32 features, batch 64; four gates of 128
        P("x W, all steps at once", (50 * 64, 32, 512)),
        P("h U, per step", (64, 128, 512), 50),
        P("dz U^T, per step", (64, 512, 128), 50),
        P("kernel grad", (32, 50 * 64, 512), 1, True),
        P("recurrent kernel grad", (128, 50 * 64, 512), 1, True),
        P("Dense(1) forward, input grad, weight grad", (64, 128, 1), 3),
    ],
    "E": [  # Transformer block: 32 x 64 tokens, d_model 128, 4 heads of 32, feed-forward 512
        P("Q, K, V, output projections", (2048, 128, 128), 4),
        P("output projection input grad (Q, K, V read the input)", (2048, 128, 128)),
        P("their weight grads", (128, 2048, 128), 4, True),
        P("feed-forward 128->512", (2048, 128, 512)),
        P("its input grad", (2048, 512, 128)),
        P("its weight grad", (128, 2048, 512), 1, True),
        P("feed-forward 512->128", (2048, 512, 128)),
        P("its input grad", (2048, 128, 512)),
        P("its weight grad", (512, 2048, 128), 1, True),
        P("attention scores q k^T and their grad dP = gO v^T", (128, 64, 32, 64), 2),
        P("attention output P v and dV, dQ, dK", (128, 64, 64, 32), 4),
        P("Dense(1) forward, input grad, weight grad", (32, 128, 1), 3),
    ],
}
TARGETS = {"B": 1.0, "C": 1.0, "D": 1.2, "E": 1.2}
PEAK_TARGET = 0.8  # B's other target: this fraction of the 2048^3 GEMM's GFLOP/s
# each workload's shendu and PyTorch runners in bench/run.py
RUNNERS = {
    "B": (workloads.mlp, workloads.torch_mlp),
    "C": (workloads.cnn, workloads.torch_cnn),
    "D": (workloads.lstm, workloads.torch_lstm),
    "E": (workloads.transformer, workloads.torch_transformer),
}


def product_flops(shape) -> int:
    """2 m k n (times b when batched)."""
    *b, m, k, n = shape
    return 2 * m * k * n * (b[0] if b else 1)


def _timed_product(product, rng):
    """A call that computes one of ``product`` as shendu does."""
    *b, m, k, n = product.shape
    w = rng.standard_normal((*b, k, n), dtype=np.float32)
    if product.transposed:
        a = rng.standard_normal((k, m), dtype=np.float32)
        return lambda: transposed_product(np, a, w)
    a = rng.standard_normal((*b, m, k), dtype=np.float32)
    out = np.empty((*b, m, n), np.float32)
    return lambda: np.matmul(a, w, out=out)


def median_ms(fn, repeats) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def gemm_floor(letter, repeats=30) -> list:
    """(label, count, ms for all of them) for each product of one step of a workload."""
    rng = np.random.default_rng(0)
    rows = []
    for product in PRODUCTS[letter]:
        ms = median_ms(_timed_product(product, rng), repeats)
        rows.append((product.label, product.count, ms * product.count))
    return rows


def step_ms(letter, repeats, torch_ok):
    """Median ms per training step of shendu and (None without it) PyTorch, interleaved."""
    ours, theirs = RUNNERS[letter]
    steps = workloads.STEPS[letter]  # as many steps per timed run as bench/run.py
    makers = {"shendu": lambda: ours("shendu", steps)}
    if torch_ok:
        makers["torch"] = lambda: theirs(steps)
    timed = workloads.interleaved(makers, repeats)
    medians = {k: statistics.median(v[0]) * 1e3 / steps for k, v in timed.items()}
    return medians["shendu"], medians.get("torch")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="BCDE", help="workload letters (of B, C, D, E)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each step")
    args = parser.parse_args(argv)
    if not args.only or set(args.only) - set(PRODUCTS):
        raise SystemExit(f"--only takes letters of BCDE. Received: {args.only!r}")
    torch_ok = workloads.have_torch()
    print(
        f"{'workload':10s} {'GEMM floor':>11s} {'shendu step':>12s} {'torch step':>11s} "
        f"{'target step':>12s} {'rest allowed':>13s} {'shendu rest':>12s}  (ms per step)"
    )
    # the floors first, before any PyTorch run: its OpenMP threads spin for a while after
    # one and would slow the products timed next
    floors = {letter: gemm_floor(letter, max(3, 6 * args.repeats)) for letter in args.only}
    for letter, rows in floors.items():
        floor = sum(ms for _, _, ms in rows)
        ours, theirs = step_ms(letter, args.repeats, torch_ok)
        line = f"{letter} x{TARGETS[letter]:<8} {floor:11.2f} {ours:12.2f}"
        if theirs is not None:
            target = theirs / TARGETS[letter]
            line += f" {theirs:11.2f} {target:12.2f} {target - floor:13.2f}"
        else:
            line += f" {'-':>11s} {'-':>12s} {'-':>13s}"
        print(line + f" {ours - floor:12.2f}")
        if letter == "B":
            peak = workloads.gemm_peak_gflops()
            fraction = workloads.peak_fraction(128e3 / ours, peak)  # batch 128, ms per step
            limit = ours * fraction / PEAK_TARGET  # the step at which the fraction is met
            print(
                f"  {PEAK_TARGET:.0%} of the GEMM peak ({peak:.1f} GFLOP/s) is a step of "
                f"{limit:.2f} ms, {limit - floor:.2f} ms beside the floor; shendu's step is "
                f"{fraction:.1%} of the peak"
            )
        for label, count, ms in rows:
            times = f" x{count}" if count > 1 else ""
            print(f"    {label + times:58s} {ms:7.2f}")


if __name__ == "__main__":
    main()
