"""BackupAndRestore restores every stateful callback, wherever it stands in the callbacks
list: a run that crashes at epoch k and is resumed ends with the same weights, stopping
epoch and callback state as a run that was never interrupted, and its history holds the
epochs from k on (as Keras's)."""

import numpy as np
import pytest

pytest.importorskip("safetensors")

import shendu  # noqa: E402
from shendu import callbacks as C  # noqa: E402
from shendu import layers as L  # noqa: E402

RNG = np.random.default_rng(3)
X = RNG.standard_normal((64, 5)).astype("float32")
Y = (X[:, :1] * X[:, 1:2] + 0.3 * RNG.standard_normal((64, 1))).astype("float32")
EPOCHS = 10


class Crash(Exception):
    pass


class CrashAt(C.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Crash(epoch)


def _model():
    shendu.set_random_seed(0)
    m = shendu.Sequential(
        [
            L.Input((5,)),
            L.Dense(16, activation="relu", name="h"),
            L.Dropout(0.2, seed=7, name="drop"),
            L.Dense(1, name="out"),
        ]
    )
    m.compile(shendu.optimizers.Adam(0.01), "mse")
    return m


def early_stopping_best_weights(tmp):
    return [C.EarlyStopping(patience=2, restore_best_weights=True)]


def early_stopping(tmp):
    return [C.EarlyStopping(monitor="val_loss", patience=3, min_delta=1e-3)]


def reduce_lr(tmp):
    return [C.ReduceLROnPlateau(patience=1, factor=0.5, min_delta=1e-3)]


def checkpoint_best(tmp):
    return [
        C.ModelCheckpoint(
            str(tmp / "best.weights.safetensors"), save_best_only=True, save_weights_only=True
        )
    ]


def all_together(tmp):
    return early_stopping_best_weights(tmp) + reduce_lr(tmp) + checkpoint_best(tmp)


SETUPS = [early_stopping_best_weights, early_stopping, reduce_lr, checkpoint_best, all_together]


def _run(setup, tmp, order, crash_at=None):
    model = _model()
    stateful = setup(tmp)
    backup = C.BackupAndRestore(str(tmp / "backup"))
    cbs = [backup, *stateful] if order == "backup_first" else [*stateful, backup]
    if crash_at is not None:
        cbs.append(CrashAt(crash_at))
    try:
        history = model.fit(
            X, Y, epochs=EPOCHS, batch_size=16, validation_split=0.25, verbose=0, callbacks=cbs
        )
    except Crash:
        return None
    states = [cb.get_state() for cb in stateful]
    return (
        model.get_weights(),
        history.history,
        history.epoch,
        states,
        model.optimizer.learning_rate,
    )


@pytest.mark.parametrize("order", ["backup_first", "backup_last"])
@pytest.mark.parametrize("setup", SETUPS, ids=lambda f: f.__name__)
def test_resumed_run_equals_uninterrupted_run(setup, order, tmp_path):
    straight = _run(setup, tmp_path / "straight", order)
    stopped = len(straight[2])
    for crash_at in sorted({1, 3, max(stopped - 1, 1)}):
        folder = tmp_path / f"crash{crash_at}"
        assert _run(setup, folder, order, crash_at) is None
        resumed = _run(setup, folder, order)
        for a, b in zip(straight[0], resumed[0]):
            np.testing.assert_array_equal(a, b)
        # the resumed fit's History holds the epochs it ran, as Keras's (epoch crash_at on)
        tail = {k: v[crash_at:] for k, v in straight[1].items()}
        assert resumed[1] == tail, f"history differs after a crash at {crash_at}"
        assert resumed[2] == straight[2][crash_at:], f"stopping epoch differs at {crash_at}"
        assert resumed[3] == straight[3], f"callback state differs after a crash at {crash_at}"
        assert resumed[4] == straight[4]


def test_the_setups_do_stop_early_and_reduce():
    """The comparisons above are only meaningful if the callbacks act within the run."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        weights, history, epochs, states, lr = _run(all_together, Path(d), "backup_first")
    assert len(epochs) < EPOCHS  # early stopping fired
    assert lr < 0.01  # the learning rate was reduced
    assert states[0]["best_epoch"] < len(epochs) - 1  # best weights were restored


def test_model_checkpoint_names_a_missing_key(tmp_path):
    m = _model()
    cb = C.ModelCheckpoint(
        str(tmp_path / "m-{val_acc:.2f}.weights.safetensors"), save_weights_only=True
    )
    with pytest.raises(
        KeyError,
        match=r"names 'val_acc', which is not in the logs. "
        r"Available keys: \['epoch', 'loss', 'val_loss'\]",
    ):
        m.fit(X, Y, epochs=1, validation_split=0.25, verbose=0, callbacks=[cb])
