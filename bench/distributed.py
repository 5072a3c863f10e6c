"""Allreduce time against message size, and MLP training throughput at 1 and N ranks.

    mpiexec -n 2 python bench/distributed.py      (and: python bench/distributed.py)

Prints, on rank 0: for each message size, the median Allreduce time (float32, in place),
and the benchmark MLP's (784-512-512-10, Adam) training samples/s over all ranks with
per-rank batch 128. The numbers feed the scaling model in README.md.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import shendu
from shendu import distributed


def allreduce_times():
    comm = distributed.init()
    from mpi4py import MPI

    out = []
    for size in (1 << 10, 1 << 14, 1 << 18, 1 << 20, 1 << 22, 1 << 24):
        buf = np.ones(size // 4, np.float32)
        times = []
        for _ in range(10):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(time.perf_counter() - t0)
        out.append((size, statistics.median(times)))
    return out


def mlp_throughput(steps=20):
    from shendu import layers as L

    n = distributed.size()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128 * n * steps, 784)).astype(np.float32)
    y = rng.integers(0, 10, len(x))
    m = shendu.Sequential(
        [
            L.Input((784,)),
            L.Dense(512, activation="relu"),
            L.Dense(512, activation="relu"),
            L.Dense(10),
        ]
    )
    m.compile(
        "adam", shendu.losses.SparseCategoricalCrossentropy(from_logits=True), distribute="mpi"
    )
    m.fit(x[: 128 * n * 2], y[: 128 * n * 2], batch_size=128, epochs=1, verbose=0)
    t0 = time.perf_counter()
    m.fit(x, y, batch_size=128, epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - t0)


if __name__ == "__main__":
    times = allreduce_times()
    rate = mlp_throughput()
    if distributed.is_main():
        print(f"ranks: {distributed.size()}")
        for size, t in times:
            print(
                f"  allreduce {size / 1024:10.0f} KiB: {t * 1e6:10.1f} us "
                f"({size / t / 1e9:6.2f} GB/s algorithmic)"
            )
        print(f"  MLP training: {rate:,.0f} samples/s over all ranks")
