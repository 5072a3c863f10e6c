"""Grad mode belongs to each thread (PyTorch's is thread-local): ``no_grad`` or
``predict`` in one thread leaves recording on in the others."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import shendu
import shendu as keras


def test_no_grad_in_one_thread_leaves_another_recording():
    entered, done = threading.Event(), threading.Event()

    def hold_no_grad():
        with shendu.no_grad():
            entered.set()
            done.wait(5)

    worker = threading.Thread(target=hold_no_grad)
    worker.start()
    assert entered.wait(5)
    try:
        w = shendu.tensor([1.0, 2.0], requires_grad=True)
        assert shendu.is_grad_enabled()
        assert (w * 2).requires_grad  # was untracked while the other thread sat in no_grad
    finally:
        done.set()
        worker.join()


def test_a_new_thread_starts_recording():
    with shendu.no_grad():
        seen = []
        worker = threading.Thread(target=lambda: seen.append(shendu.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_set_grad_enabled_sets_now_and_restores_as_a_context():
    shendu.set_grad_enabled(False)
    try:
        assert not shendu.is_grad_enabled()
    finally:
        shendu.set_grad_enabled(True)
    with shendu.set_grad_enabled(False):
        assert not shendu.is_grad_enabled()
    assert shendu.is_grad_enabled()


def test_predict_in_a_thread_pool_beside_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.compile("adam", "binary_crossentropy")
    server = keras.models.clone_model(model)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(server.predict, x, verbose=0) for _ in range(16)]
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        for f in futures:
            assert f.result().shape == (256, 1)
    assert shendu.is_grad_enabled()
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.fit(x, y, epochs=1, verbose=0)  # and the next fit trains
