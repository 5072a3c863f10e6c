"""shendu.parallel: memory-bound work split over threads, and the ops that use it."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import shendu
from shendu import ops, parallel


@pytest.fixture
def threads():
    """Run a test at a given thread count and restore the previous one afterwards."""
    before = parallel.num_threads()
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


def test_for_chunks_covers_every_row_once_on_several_threads(threads):
    threads(3)
    seen = []
    parallel.for_chunks(lambda a, b: seen.append((a, b)), 10, parallel.MIN_ELEMENTS)
    seen.sort()
    assert len(seen) == 6  # two chunks per thread
    assert seen[0][0] == 0 and seen[-1][1] == 10
    assert all(prev[1] == nxt[0] for prev, nxt in zip(seen, seen[1:]))


def test_the_caller_does_all_chunks_when_the_pool_threads_are_busy(threads):
    threads(2)
    release = threading.Event()
    parallel._pool().submit(release.wait)  # the only pool thread is now busy
    try:
        names = []
        parallel.for_chunks(lambda a, b: names.append(threading.current_thread().name), 8, 10**6)
        assert names == [threading.current_thread().name] * 4
    finally:
        release.set()


def test_small_work_and_one_thread_run_once_on_the_caller(threads):
    threads(4)
    calls = []
    parallel.for_chunks(lambda a, b: calls.append((a, b)), 10, parallel.MIN_ELEMENTS - 1)
    threads(1)
    parallel.for_chunks(lambda a, b: calls.append((a, b)), 10, 10**9)
    assert calls == [(0, 10), (0, 10)]


def test_an_error_in_a_chunk_is_raised_after_the_other_chunks_ran(threads):
    threads(2)
    done = []

    def chunk(a, b):
        if a <= 5 < b:
            raise RuntimeError("the chunk with row 5 failed")
        done.append(a)

    with pytest.raises(RuntimeError, match="the chunk with row 5 failed"):
        parallel.for_chunks(chunk, 10, parallel.MIN_ELEMENTS)
    assert len(done) == 3


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "2"])
def test_set_num_threads_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match="set_num_threads expects a positive integer"):
        parallel.set_num_threads(bad)


@pytest.mark.parametrize("env, expected", [("3", "3"), ("1", "1")])
def test_thread_count_from_the_environment(env, expected):
    code = "import shendu; print(shendu.parallel.num_threads())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SHENDU_NUM_THREADS": env},
    )
    assert out.stdout.strip() == expected


def test_bad_thread_count_in_the_environment_names_the_variable():
    code = "import shendu; shendu.parallel.num_threads()"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "SHENDU_NUM_THREADS": "many"},
    )
    assert out.returncode != 0
    assert "SHENDU_NUM_THREADS must be a positive integer. Received: 'many'" in out.stderr


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("shape", [(64, 28, 28, 8), (64, 27, 29, 8)])
def test_threaded_pooling_equals_serial_pooling(threads, mode, shape):
    # large enough to be split: the threaded forward and backward must be bit-identical
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x[:, :4] = 0.0  # ties: max's gradient goes to the first maximal entry
    fn = ops.max_pool if mode == "max" else ops.average_pool
    results = []
    for n in (1, 2):
        threads(n)
        t = shendu.tensor(x, requires_grad=True)
        y = fn(t, 2)
        (y * y).sum().backward()
        results.append((y.numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_max_pool_gradient_goes_to_the_first_of_tied_maxima():
    x = shendu.tensor(np.array([[[[1.0], [1.0]], [[1.0], [0.0]]]]), requires_grad=True)
    ops.max_pool(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("channels", [1, 3])
def test_threaded_im2col_equals_serial(threads, channels):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 30, 30, channels)).astype(np.float32)  # im2col: 451k+
    w = rng.standard_normal((3, 3, channels, 4)).astype(np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        results.append(ops.conv(x, w, activation="relu").numpy())
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_attention_split_by_samples_equals_the_whole_batch(threads, masked):
    # 32 samples x 4 heads x 64 x 64 scores: large enough to run blocks of samples on threads
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((32, 64, 4, 16)).astype(np.float32) for _ in range(3))
    mask = rng.random((32, 1, 64, 64)) > 0.2 if masked else None
    results = []
    for n in (1, 2):
        threads(n)
        ts = [shendu.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = ops.dot_product_attention(*ts, mask=mask)
        (y * y).sum().backward()
        results.append([y.numpy()] + [t.grad.numpy() for t in ts])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_lstm_gradient_coefficients_on_threads_equal_serial(threads):
    # 20 steps x 16 samples x 4 gates x 1,024 units: the coefficient arrays split by steps
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 20, 8)).astype(np.float32)
    w = (rng.standard_normal((8, 4096)) * 0.1).astype(np.float32)
    u = (rng.standard_normal((1024, 4096)) * 0.03).astype(np.float32)
    b = np.zeros(4096, np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        ts = [shendu.tensor(a, requires_grad=True) for a in (x, w, u, b)]
        out, h, c = ops.lstm(ts[0], None, None, *ts[1:], return_sequences=True)
        ((out * out).sum() + (c * c).sum()).backward()
        results.append([out.numpy()] + [t.grad.numpy() for t in ts])
    for a, b in zip(*results):
        # the same sums in the same order, but OpenBLAS's sgemm may round a block of 8 rows
        # and one of 16 differently in the last bit (seen on an AMD EPYC: 9e-8); a wrong
        # split (rows or steps mixed up) differs by the values themselves
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(a).max()))


def test_blas_single_threaded_block_restores_the_global_setting():
    lib = shendu.blas._openblas()
    if lib is None or shendu.blas._state["set_local_threads"] is None:
        pytest.skip("no OpenBLAS with per-thread settings here")
    set_local = shendu.blas._state["set_local_threads"]
    before = set_local(0)  # the count this thread uses (the global one when unset)
    with shendu.blas.single_threaded():
        assert set_local(1) == 1  # inside: this thread uses one BLAS thread
    assert set_local(0) == before  # afterwards: the global count again


def test_split_elements_covers_every_element_on_threads(threads):
    threads(3)
    from shendu.ops._util import split_elements

    x = np.arange(parallel.MIN_PASS_ELEMENTS + 7, dtype=np.float32).reshape(-1, 1)
    calls = []

    def double(v, out):
        calls.append(v.size)
        np.multiply(v, 2, out=out)

    out = split_elements(np, double, np.empty_like(x), x)
    np.testing.assert_array_equal(out, x * 2)
    assert len(calls) == 6 and sum(calls) == x.size  # two slices per thread


def test_split_elements_runs_whole_when_small_or_not_contiguous(threads):
    threads(2)
    from shendu.ops._util import split_elements

    big = np.ones((2, parallel.MIN_PASS_ELEMENTS), np.float32)
    cases = [
        (np.ones(parallel.MIN_PASS_ELEMENTS - 1, np.float32),),  # too small
        (big[:, ::2],),  # a strided view
        (big, big[:1]),  # shapes that only broadcast
    ]
    for inputs in cases:
        calls = []

        def add(*arrays, calls=calls):
            calls.append(arrays[0].shape)
            return np.add(*arrays) if len(arrays) == 3 else np.copyto(arrays[1], arrays[0])

        out = np.empty(inputs[0].shape, np.float32)
        split_elements(np, add, out, *inputs)
        assert calls == [inputs[0].shape]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_add_split_over_threads_equal_numpy(threads, dtype):
    """ReLU forward and backward and the addition of two arrays run by slices on threads
    for large arrays: the same bits as NumPy's whole-array expressions."""
    rng = np.random.default_rng(5)
    shape = (4, parallel.MIN_PASS_ELEMENTS // 4 + 3)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, :9] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-42, -1e-42, 3.0, -3.0]
    gy = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    threads(2)
    t = shendu.tensor(x, requires_grad=True)
    y = ops.relu(t)
    y.backward(shendu.tensor(gy))
    np.testing.assert_array_equal(y.numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(t.grad.numpy(), gy * (x > 0))
    assert y.dtype == dtype and t.grad.dtype == dtype
    s = ops.add(shendu.tensor(x), shendu.tensor(b))
    np.testing.assert_array_equal(s.numpy(), x + b)
    assert s.dtype == dtype


def test_batch_norm_on_threads_equals_one_thread(threads):
    """Batch norm's passes split over threads give the same bits as on one thread (its
    column sums are added by fixed blocks of rows)."""
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((16, 32, 32, 16)) * 2 + 1).astype(np.float32)  # 2**18 rows x 16
    x = np.concatenate([x] * 4)  # above MIN_PASS_ELEMENTS
    gamma = rng.standard_normal(16).astype(np.float32)
    beta = rng.standard_normal(16).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        ts = [shendu.tensor(v, requires_grad=True) for v in (x, gamma, beta)]
        y, mean, var = ops.nn.batch_norm_train(*ts, axis=-1, epsilon=1e-3)
        y.backward(shendu.tensor(gy))
        stats = [np.asarray(getattr(v, "data", v)) for v in (mean, var)]
        results.append([y.numpy(), *stats] + [t.grad.numpy() for t in ts])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    exact = x.reshape(-1, 16).astype(np.float64).mean(0)
    np.testing.assert_allclose(results[0][1].ravel(), exact, rtol=1e-6)
