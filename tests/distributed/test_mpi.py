"""Data-parallel training under mpiexec (mpi4py + the mpich wheel): equivalence with one
process, identical parameters, checkpoints, aborts, and the consistency check."""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
if MPIEXEC is None:
    pytest.skip("mpiexec not found", allow_module_level=True)

SCRIPT = r"""
import hashlib, json, os, sys
import numpy as np
import shendu
from shendu import layers as L
args = json.loads(sys.argv[1])
shendu.set_random_seed(0)
rng = np.random.default_rng(1)
x = rng.standard_normal((64, 5)).astype("float32")
y = (x[:, :2].sum(1, keepdims=True) > 0).astype("float32")
units = args.get("units", 8)
if args.get("mismatch") and shendu.distributed.rank() == 1:
    units = 9
model = shendu.Sequential([L.Input((5,)), L.Dense(units, activation="tanh"), L.Dense(1)])
opt = {"sgd": shendu.optimizers.SGD(0.1), "adam": shendu.optimizers.Adam(0.01)}[args["opt"]]
if args.get("load"):
    model = shendu.models.load_model(args["load"])
else:
    model.compile(opt, "mse", distribute="mpi" if args["mpi"] else None)
if args.get("raise_on") is not None and shendu.distributed.rank() == args["raise_on"]:
    raise RuntimeError("deliberate failure on this rank")
if args.get("kill_on") is not None and shendu.distributed.rank() == args["kill_on"]:
    import signal
    os.kill(os.getpid(), signal.SIGKILL)
cbs = []
if args.get("stall_rank") is not None and shendu.distributed.rank() == args["stall_rank"]:
    import time

    class Stall(shendu.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 1 and self.model.history.epoch == []:
                time.sleep(args["stall_s"])

    cbs.append(Stall())
if args.get("checkpoint"):
    cbs.append(shendu.callbacks.ModelCheckpoint(args["checkpoint"], monitor="loss"))
model.fit(x, y, batch_size=args["batch"], epochs=args["epochs"], shuffle=args.get("shuffle", False),
          verbose=0, callbacks=cbs, initial_epoch=args.get("initial_epoch", 0))
rank = shendu.distributed.rank() if args["mpi"] else 0
digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
out = {"rank": rank, "digest": digest, "weights": [w.ravel().tolist() for w in model.get_weights()],
       "loss": model.history.history["loss"]}
with open(os.path.join(args["out"], f"result-{rank}.json"), "w") as f:
    json.dump(out, f)
"""


def _run(tmp_path, args, n=None, timeout=120, env=None):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    args = dict(args, out=str(out))
    cmd = [sys.executable, str(script), json.dumps(args)]
    if n:
        cmd = [MPIEXEC, "-n", str(n)] + cmd
    e = dict(os.environ, **(env or {}))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
    results = [json.loads(p.read_text()) for p in sorted(out.glob("result-*.json"))]
    return r, sorted(results, key=lambda d: d["rank"])


@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("ranks", [2, 4])
def test_ranks_with_split_batches_match_one_process(tmp_path, opt, ranks):
    # 64 samples, global batch 16: 4 steps an epoch; 3 epochs = 12 steps
    _, single = _run(tmp_path, {"opt": opt, "mpi": False, "batch": 16, "epochs": 3})
    r, multi = _run(
        tmp_path, {"opt": opt, "mpi": True, "batch": 16 // ranks, "epochs": 3}, n=ranks
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(multi) == ranks
    for a, b in zip(single[0]["weights"], multi[0]["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(single[0]["loss"], multi[0]["loss"], rtol=1e-5)


def test_parameters_bit_identical_across_ranks_after_100_steps(tmp_path):
    r, results = _run(
        tmp_path,
        {"opt": "adam", "mpi": True, "batch": 8, "epochs": 25, "shuffle": True},
        n=2,
        env={"SHENDU_DISTRIBUTED_DEBUG": "1"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert len({d["digest"] for d in results}) == 1


def test_checkpoint_written_once_loadable_and_resume_continues(tmp_path):
    pytest.importorskip("safetensors")
    ck = str(tmp_path / "ck-{epoch}.shendu")
    r, straight = _run(
        tmp_path, {"opt": "adam", "mpi": True, "batch": 8, "epochs": 4, "shuffle": True}, n=2
    )
    assert r.returncode == 0, r.stderr[-2000:]
    r, _ = _run(
        tmp_path,
        {"opt": "adam", "mpi": True, "batch": 8, "epochs": 2, "shuffle": True, "checkpoint": ck},
        n=2,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.glob("ck-*.shendu")) == ["ck-1.shendu", "ck-2.shendu"]
    r, resumed = _run(
        tmp_path,
        {
            "opt": "adam",
            "mpi": True,
            "batch": 8,
            "epochs": 4,
            "shuffle": True,
            "load": str(tmp_path / "ck-2.shendu"),
            "initial_epoch": 2,
        },
        n=2,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert resumed[0]["digest"] == straight[0]["digest"]


def test_a_rank_that_raises_ends_the_whole_job(tmp_path):
    for trial in range(10):
        t0 = time.monotonic()
        r, _ = _run(
            tmp_path,
            {"opt": "sgd", "mpi": True, "batch": 8, "epochs": 50, "raise_on": trial % 2},
            n=2,
            timeout=60,
        )
        assert r.returncode != 0
        assert time.monotonic() - t0 < 30
    assert "deliberate failure on this rank" in r.stderr and "rank 1 failed" in r.stderr


def test_a_killed_rank_ends_the_job(tmp_path):
    r, _ = _run(
        tmp_path,
        {"opt": "sgd", "mpi": True, "batch": 8, "epochs": 50, "kill_on": 1},
        n=2,
        timeout=60,
    )
    assert r.returncode != 0


def test_consistency_check_fires_on_a_mismatched_model(tmp_path):
    r, _ = _run(
        tmp_path,
        {"opt": "sgd", "mpi": True, "batch": 8, "epochs": 1, "mismatch": True},
        n=2,
        timeout=60,
    )
    assert r.returncode != 0
    assert "rank(s) [1] run a different model" in r.stderr


def test_a_waiting_rank_names_the_missing_ranks(tmp_path):
    r, results = _run(
        tmp_path,
        {"opt": "sgd", "mpi": True, "batch": 8, "epochs": 1, "stall_rank": 1, "stall_s": 4},
        n=2,
        timeout=60,
        env={"SHENDU_WAIT_WARNING_S": "1"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "rank 0 has waited 1 s in the gradient allreduce; missing: rank(s) [1]" in r.stderr
    assert len({d["digest"] for d in results}) == 1
