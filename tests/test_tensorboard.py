"""The TensorBoard callback: event files with Keras 3.15's tags and steps (measured with
Keras on the TensorFlow backend for the same fit: the same scalar tags, batch steps every
update_freq batches, evaluation steps at the optimizer's iterations), read back with
tensorboard's own reader."""

import subprocess
import sys

import numpy as np
import pytest

import shendu as keras

pytest.importorskip("tensorboard")


def _fit(log_dir, **options):
    keras.backend.clear_session()  # layer names from dense, dense_1
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile("adam", "mse", metrics=["mae"])
    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    callback = keras.callbacks.TensorBoard(str(log_dir), **options)
    history = model.fit(
        x, x.sum(1, keepdims=True), epochs=3, batch_size=8, validation_split=0.25,
        callbacks=[callback], verbose=0,
    )  # fmt: skip
    return history.history


def _reader(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reader = EventAccumulator(str(path))
    reader.Reload()
    return reader


def test_tags_steps_and_values_as_keras(tmp_path):
    history = _fit(tmp_path, histogram_freq=1, update_freq=2)
    train, val = _reader(tmp_path / "train"), _reader(tmp_path / "validation")
    assert set(train.Tags()["scalars"]) == {
        "batch_loss", "batch_mae", "epoch_loss", "epoch_mae", "epoch_learning_rate",
    }  # fmt: skip
    assert set(val.Tags()["scalars"]) == {
        "epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations", "evaluation_mae_vs_iterations",
    }  # fmt: skip
    # 4 training batches an epoch: every second one is written; evaluations at iterations 4, 8, 12
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8, 10, 12]
    assert [e.step for e in val.Scalars("evaluation_loss_vs_iterations")] == [4, 8, 12]
    np.testing.assert_allclose(
        [e.value for e in train.Scalars("epoch_loss")], history["loss"], rtol=1e-6
    )
    np.testing.assert_allclose(
        [e.value for e in val.Scalars("epoch_mae")], history["val_mae"], rtol=1e-6
    )
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    assert [e.value for e in train.Scalars("epoch_learning_rate")] == pytest.approx([0.001] * 3)
    histograms = train.Tags()["histograms"]
    assert "dense/kernel/histogram" in histograms and len(histograms) == 4
    assert train.Histograms("dense/kernel/histogram")[0].histogram_value.num == 12


def test_epoch_only_by_default_and_steps_per_second(tmp_path):
    _fit(tmp_path, write_steps_per_second=True)
    tags = set(_reader(tmp_path / "train").Tags()["scalars"])
    assert "batch_loss" not in tags and "epoch_steps_per_second" in tags


def test_a_multi_optimizer_logs_no_learning_rate(tmp_path):
    # a MultiOptimizer has no single learning rate (reading it is an AttributeError)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="out")])
    optimizer = keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(keras.optimizers.SGD(0.01))
    )
    model.compile(optimizer, "mse")
    x = np.random.default_rng(0).random((16, 3)).astype("float32")
    callback = keras.callbacks.TensorBoard(str(tmp_path))
    model.fit(x, x.sum(1), epochs=2, batch_size=8, callbacks=[callback], verbose=0)
    tags = set(_reader(tmp_path / "train").Tags()["scalars"])
    assert "epoch_loss" in tags and "epoch_learning_rate" not in tags


def test_errors_and_warnings(tmp_path):
    with pytest.raises(
        ValueError,
        match="`update_freq` must be 'epoch', 'batch' or a positive integer. Received: update_freq=0",
    ):
        keras.callbacks.TensorBoard(str(tmp_path), update_freq=0)
    with pytest.warns(
        UserWarning,
        match="TensorBoard: shendu writes scalars and histograms; write_images not written",
    ):
        keras.callbacks.TensorBoard(str(tmp_path), write_images=True)


def test_without_the_extra_the_message_names_it(tmp_path):
    code = f"""
import sys
sys.modules["tensorboard"] = None
import numpy as np, shendu as keras
m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
m.compile("sgd", "mse")
try:
    m.fit(np.ones((4, 2)), np.ones((4, 1)), callbacks=[keras.callbacks.TensorBoard({str(tmp_path)!r})], verbose=0)
except ImportError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "Install the extra: pip install 'shendu[tensorboard]'" in out.stdout, out.stderr
