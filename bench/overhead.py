"""Per-op overhead of the engine, side by side with PyTorch CPU when it is importable.

Times (median of repeats, microseconds per call):
  1. ``a * b`` on 16-element float32 arrays, no backward (grad mode on, no grad needed);
  2. ``(a * b).sum().backward()`` on 16-element arrays that require grad;
  3. a 3-layer MLP (4-10-10-3, relu) forward + backward at batch 10.
Run: ``uv run python bench/overhead.py`` (PyTorch is picked up when installed).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def _time(fn, number=2000, repeats=7):
    for _ in range(number // 10):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(samples)


def shendu_cases():
    import shendu
    from shendu import ops

    rng = np.random.default_rng(0)
    a = shendu.tensor(rng.standard_normal(16).astype(np.float32), requires_grad=True)
    b = shendu.tensor(rng.standard_normal(16).astype(np.float32), requires_grad=True)
    a0 = shendu.tensor(a.numpy())
    b0 = shendu.tensor(b.numpy())
    x = rng.standard_normal((10, 4)).astype(np.float32)
    ws = [
        shendu.tensor(rng.standard_normal(s).astype(np.float32) * 0.3, requires_grad=True)
        for s in [(4, 10), (10,), (10, 10), (10,), (10, 3), (3,)]
    ]

    def mul():
        return a0 * b0

    def mul_backward():
        (a * b).sum().backward()

    def mlp():
        h = ops.relu(ops.linear(x, ws[0], ws[1]))
        h = ops.relu(ops.linear(h, ws[2], ws[3]))
        ops.linear(h, ws[4], ws[5]).sum().backward()

    return {
        "mul (no grad needed)": mul,
        "(a*b).sum().backward()": mul_backward,
        "MLP fwd+bwd b=10": mlp,
    }


def torch_cases():
    import torch

    torch.manual_seed(0)
    a = torch.randn(16, requires_grad=True)
    b = torch.randn(16, requires_grad=True)
    a0, b0 = a.detach(), b.detach()
    x = torch.randn(10, 4)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 10),
        torch.nn.ReLU(),
        torch.nn.Linear(10, 10),
        torch.nn.ReLU(),
        torch.nn.Linear(10, 3),
    )

    def mul():
        return a0 * b0

    def mul_backward():
        (a * b).sum().backward()

    def mlp():
        model(x).sum().backward()

    return {
        "mul (no grad needed)": mul,
        "(a*b).sum().backward()": mul_backward,
        "MLP fwd+bwd b=10": mlp,
    }


def main():
    ours = shendu_cases()
    try:
        import torch

        theirs = {}
        for threads in (torch.get_num_threads(), 1):
            torch.set_num_threads(threads)
            theirs[threads] = torch_cases()
    except ImportError:
        theirs = None
    print(f"{'case':28s} {'shendu us':>10s}", end="")
    if theirs:
        for t in theirs:
            print(f" {'torch us (' + str(t) + 'T)':>14s}", end="")
        print(f" {'ratio':>7s}", end="")
    print()
    for name, fn in ours.items():
        ours_us = _time(fn)
        print(f"{name:28s} {ours_us:10.2f}", end="")
        if theirs:
            best = None
            for t, cases in theirs.items():
                import torch

                torch.set_num_threads(t)
                us = _time(cases[name])
                best = us if best is None else min(best, us)
                print(f" {us:14.2f}", end="")
            print(f" {ours_us / best:7.2f}", end="")
        print()
    if theirs is None:
        print("(PyTorch not importable: install torch==2.13.0 to compare)", file=sys.stderr)


if __name__ == "__main__":
    main()
