"""Exact resume: 2E epochs straight == E epochs, SIGKILL, resume for E more (bit for bit);
and a process killed at random points during saves always leaves a loadable file."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("safetensors")

SCRIPT = r"""
import hashlib, json, os, signal, sys
import numpy as np
import shendu
from shendu import callbacks, layers as L
mode, backup, epochs, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
shendu.set_random_seed(0)
rng = np.random.default_rng(1)
x = rng.standard_normal((96, 6)).astype("float32")
y = (x[:, 0] * x[:, 1] > 0).astype("int64")
model = shendu.Sequential([L.Input((6,)), L.Dense(16, activation="relu"), L.Dropout(0.3),
                           L.Dense(16, activation="relu"), L.Dropout(0.2, seed=5),
                           L.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

class Kill(callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

cbs = [callbacks.EarlyStopping(monitor="loss", patience=100)]
if mode != "straight":
    cbs.insert(0, callbacks.BackupAndRestore(backup))
if mode == "killed":
    cbs.append(Kill())
h = model.fit(x, y, epochs=epochs, batch_size=16, shuffle=True, verbose=0, callbacks=cbs,
              validation_split=0.25)
digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
print(json.dumps({"digest": digest, "history": h.history}))
"""


def _run(tmp_path, *args, check=True):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True, check=check
    )


def test_killed_and_resumed_training_is_bit_identical(tmp_path):
    backup = tmp_path / "backup"
    e = 3
    straight = json.loads(_run(tmp_path, "straight", backup, 2 * e, -1).stdout)
    killed = _run(tmp_path, "killed", backup, 2 * e, e, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert (backup / "backup.shendu").exists()
    resumed = json.loads(_run(tmp_path, "resume", backup, 2 * e, -1).stdout)
    assert resumed["digest"] == straight["digest"]
    # the resumed fit's history holds the epochs it ran (from e on), as Keras's
    assert resumed["history"] == {k: v[e:] for k, v in straight["history"].items()}
    assert not (backup / "backup.shendu").exists()  # removed at the end


SAVER = r"""
import sys, numpy as np, shendu
from shendu import layers as L
path = sys.argv[1]
m = shendu.Sequential([L.Input((32,)), L.Dense(256), L.Dense(256), L.Dense(8)])
m.compile("adam", "mse")
i = 0
print("ready", flush=True)
while True:
    for w in m.trainable_weights:
        w.assign(np.full(w.shape, float(i), w.dtype))
    m.save(path)
    i += 1
"""


@pytest.mark.slow
def test_kill_at_50_random_points_during_saves_leaves_a_loadable_file(tmp_path):
    from shendu.saving import load_model

    path = tmp_path / "m.shendu"
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(50):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
        )
        proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if path.exists():
            m = load_model(str(path), compile=False)
            values = {float(np.unique(w)[0]) for w in m.get_weights() if np.unique(w).size == 1}
            assert len(values) == 1  # all weights from one save, never a mix
            seen |= values
        leftovers = [p for p in os.listdir(tmp_path) if p.startswith(".shendu-tmp-")]
        for p in leftovers:  # a killed writer's temporary file; the target is intact
            os.remove(tmp_path / p)
    assert path.exists() and len(seen) > 1
