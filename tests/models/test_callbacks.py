"""Each callback's behaviour during fit."""

import csv
import math

import numpy as np
import pytest

import shendu
from shendu import callbacks, layers
from shendu.models import Sequential


def _model(lr=0.01):
    m = Sequential([layers.Input((3,)), layers.Dense(1)])
    m.compile(shendu.optimizers.SGD(lr), "mse")
    return m


X = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
Y = X.sum(1, keepdims=True)


def test_early_stopping_with_patience_and_restore_best_weights():
    m = _model()
    losses = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    snapshots = []

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            snapshots.append(self.model.get_weights())

    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    h = m.fit(X, Y, epochs=7, verbose=0, callbacks=[FakeVal(), es])
    assert len(h.history["loss"]) == 4  # best at epoch 2, two more without improvement
    assert es.stopped_epoch == 3 and es.best_epoch == 1
    for a, b in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


class ConstantVal(callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = 1.0


def test_early_stopping_baseline_and_start_from_epoch():
    es = callbacks.EarlyStopping(patience=1, baseline=0.5)
    h = _model().fit(X, Y, epochs=6, verbose=0, callbacks=[ConstantVal(), es])
    assert len(h.history["loss"]) == 2  # the baseline is never beaten
    es2 = callbacks.EarlyStopping(patience=1, baseline=0.5, start_from_epoch=3)
    h2 = _model().fit(X, Y, epochs=8, verbose=0, callbacks=[ConstantVal(), es2])
    assert len(h2.history["loss"]) == 5


def test_reduce_lr_on_plateau_and_scheduler():
    m = _model(lr=0.1)
    vals = iter([1.0, 1.0, 1.0, 1.0, 1.0])

    class Plateau(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(vals)

    h = m.fit(
        X,
        Y,
        epochs=5,
        verbose=0,
        callbacks=[Plateau(), callbacks.ReduceLROnPlateau(factor=0.5, patience=2)],
    )
    assert m.optimizer.learning_rate == pytest.approx(0.025)  # reduced after epochs 3 and 5
    assert "learning_rate" in h.history
    m2 = _model(lr=0.1)
    m2.fit(
        X,
        Y,
        epochs=3,
        verbose=0,
        callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))],
    )
    assert m2.optimizer.learning_rate == pytest.approx(0.1 / 3)
    with pytest.raises(ValueError, match="the schedule must return a float"):
        _model().fit(
            X,
            Y,
            epochs=1,
            verbose=0,
            callbacks=[callbacks.LearningRateScheduler(lambda e, lr: "x")],
        )


def test_learning_rate_scheduler_takes_keras_old_one_argument_schedules():
    # Keras calls schedule(epoch, lr), and schedule(epoch) when the schedule takes one
    # argument (its older API); shendu raised TypeError on the latter
    m = _model(lr=0.1)
    m.fit(
        X,
        Y,
        epochs=3,
        verbose=0,
        callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.2 / (epoch + 1))],
    )
    assert m.optimizer.learning_rate == pytest.approx(0.2 / 3)


def test_csv_logger_lambda_and_terminate_on_nan(tmp_path):
    path = tmp_path / "log.csv"
    seen = []
    _model().fit(
        X,
        Y,
        epochs=3,
        verbose=0,
        callbacks=[
            callbacks.CSVLogger(path),
            callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch)),
        ],
    )
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"] and "loss" in rows[0]
    assert seen == [0, 1, 2]
    m = _model(lr=1e10)
    with np.errstate(all="ignore"):  # the point is to blow up
        h = m.fit(X * 1e10, Y, epochs=50, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) < 50 and not math.isfinite(h.history["loss"][-1])


def test_custom_callback_stops_training_and_hooks_order():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin{epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append("batch")
            if batch == 1:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            events.append("train_end")

    h = _model().fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[Recorder()])
    assert events == ["train_begin", "epoch_begin0", "batch", "batch", "train_end"]
    assert len(h.history["loss"]) == 1


def test_model_checkpoint_needs_saving(tmp_path):
    pytest.importorskip("safetensors")
    m = _model()
    ck = callbacks.ModelCheckpoint(
        str(tmp_path / "m-{epoch:02d}.weights.safetensors"),
        save_weights_only=True,
        monitor="loss",
        save_best_only=True,
    )
    m.fit(X, Y, epochs=3, verbose=0, callbacks=[ck])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files[0] == "m-01.weights.safetensors" and len(files) == 3


def test_a_callback_chooses_the_starting_epoch():
    class StartLater(shendu.callbacks.Callback):
        def starting_epoch(self, initial_epoch):
            assert initial_epoch == 1  # what fit was given
            return 3

    seen = []
    model = shendu.Sequential([shendu.layers.Input((2,)), shendu.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(
        np.ones((4, 2), np.float32),
        np.ones((4, 1), np.float32),
        epochs=5,
        initial_epoch=1,
        verbose=0,
        callbacks=[
            StartLater(),
            shendu.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e)),
        ],
    )
    assert seen == [3, 4] and history.epoch == [3, 4]


def test_swap_ema_weights_evaluates_with_the_averages():
    import shendu as keras

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype("float32")
    y = x @ np.ones((3, 1), "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5), "mse")
    seen = {"before": [], "after": []}

    def probe(key):
        return keras.callbacks.LambdaCallback(
            on_test_begin=lambda logs: seen[key].append(("begin", model.get_weights()[0].copy())),
            on_test_end=lambda logs: seen[key].append(("end", model.get_weights()[0].copy())),
        )

    callbacks = [probe("before"), keras.callbacks.SwapEMAWeights(), probe("after")]
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_data=(x, y), callbacks=callbacks)
    raw_begin, averaged_begin = seen["before"][0][1], seen["after"][0][1]
    averaged_end, raw_end = seen["before"][1][1], seen["after"][1][1]
    assert not np.allclose(raw_begin, averaged_begin)  # the averages were in the model
    np.testing.assert_array_equal(averaged_begin, averaged_end)
    np.testing.assert_array_equal(raw_begin, raw_end)  # and swapped back after the test


def test_swap_ema_weights_needs_use_ema():
    import shendu as keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match="`use_ema=True` is set on the optimizer"):
        model.fit(x, x[:, :1], validation_data=(x, x[:, :1]), verbose=0,
                  callbacks=[keras.callbacks.SwapEMAWeights()])  # fmt: skip


def test_remote_monitor_posts_each_epoch_to_the_given_url():
    import http.server
    import json
    import threading
    import urllib.parse

    import shendu as keras

    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            received.append((self.path, self.headers["Content-Type"], self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}"
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        x = np.ones((4, 2), "float32")
        form = keras.callbacks.RemoteMonitor(root=root)
        as_json = keras.callbacks.RemoteMonitor(root=root, path="/json", send_as_json=True)
        model.fit(x, x[:, :1], epochs=2, verbose=0, callbacks=[form, as_json])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    forms = [r for r in received if r[0] == "/publish/epoch/end/"]
    jsons = [r for r in received if r[0] == "/json"]
    assert len(forms) == 2 and len(jsons) == 2
    data = json.loads(urllib.parse.parse_qs(forms[1][2].decode())["data"][0])
    assert data["epoch"] == 1 and "loss" in data
    assert json.loads(jsons[0][2])["epoch"] == 0 and jsons[0][1] == "application/json"


def test_remote_monitor_warns_when_unreachable():
    import shendu as keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((4, 2), "float32")
    monitor = keras.callbacks.RemoteMonitor(root="http://127.0.0.1:9")  # discard port
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[monitor])


def test_remote_monitor_with_a_malformed_url_warns_and_training_goes_on():
    import shendu as keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((4, 2), "float32")
    monitor = keras.callbacks.RemoteMonitor(root="notaurl")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server at notaurl"):
        history = model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[monitor])
    assert len(history.history["loss"]) == 3  # it stopped after the first epoch before
