"""Peak memory (tracemalloc) and time of refusing the worst crafted file of each kind that
hardening round 3 added: ``python fuzz/measure_new_readers.py`` (needs h5py).

Kinds: a Keras weights file whose one dataset is hard-linked from many layers; a data set
``.npz`` declaring 10**12 elements, or holding a compressed member that expands 1000x; a
gzipped IDX file with 64 MiB past its header; a legacy ``.h5`` listing 150,000 layers; a
pickle naming ``os.system``, or declaring an 18 GB byte array, or a memo index of a billion.
"""

import gzip
import io
import os
import pickle
import struct
import tempfile
import time
import tracemalloc
import zipfile

import h5py
import numpy as np

import shendu
from shendu.datasets import restricted_pickle
from shendu.datasets.checked import DataFileError, read_idx, read_npz
from shendu.saving import ModelFileError

TMP = tempfile.mkdtemp()


def _model():
    model = shendu.Sequential(
        [shendu.Input((256,))] + [shendu.layers.Dense(256) for _ in range(32)]
    )
    model.build((None, 256))
    return model


def shared_dataset():
    path = os.path.join(TMP, "shared.weights.h5")
    model = _model()
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        names = sorted(k for k in f["layers"] if k.startswith("dense"))
        first = f[f"layers/{names[0]}/vars/0"]
        for name in names[1:]:
            del f[f"layers/{name}/vars/0"]
            f[f"layers/{name}/vars/0"] = first
    return path, lambda: model.load_weights(path)


def npz_trillion():
    path = os.path.join(TMP, "mnist.npz")
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "|u1", "fortran_order": False, "shape": (10**6, 10**3, 10**3)}
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x_train.npy", buf.getvalue() + b"\0" * 64)
    return path, lambda: read_npz(path, ["x_train"])


def npz_bomb():
    path = os.path.join(TMP, "bomb.npz")
    buf = io.BytesIO()
    np.save(buf, np.zeros((40000, 28, 28), np.uint8))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x_train.npy", buf.getvalue())
    return path, lambda: read_npz(path, ["x_train"])


def idx_gzip_bomb():
    path = os.path.join(TMP, "bomb-idx1-ubyte.gz")
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 0x08, 1, 4) + b"\1\2\3\4" + b"\0" * (64 << 20))
    return path, lambda: read_idx(path)


def legacy_many_names():
    path = os.path.join(TMP, "many.h5")
    with h5py.File(path, "w", libver="latest") as f:
        f.create_group("conv1")
        f.attrs["layer_names"] = np.array([b"conv1"] * 150_000)
    model = _model()
    return path, lambda: model.load_weights(path)


def _pickle_case(name, raw):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(raw)
    return path, lambda: restricted_pickle.read_pickled(raw, path)


class _Gadget:
    def __reduce__(self):
        return (os.system, ("echo reached",))


CASES = {
    "Keras weights, one dataset hard-linked from 32 layers": shared_dataset,
    "data set .npz declaring 10**12 elements": npz_trillion,
    "data set .npz member expanding 1000x": npz_bomb,
    "gzipped IDX, 64 MiB past its header": idx_gzip_bomb,
    "legacy .h5 listing 150,000 layers": legacy_many_names,
    "pickle naming os.system": lambda: _pickle_case("gadget", pickle.dumps(_Gadget(), 2)),
    "pickle declaring an 18 GB byte array": lambda: _pickle_case(
        "bytearray8", b"\x80\x05\x96" + struct.pack("<Q", 18 << 30) + b"abc."
    ),
}


def main():
    print(f"{'crafted file':55} {'file':>10} {'peak':>10} {'time':>8}  refused with")
    for name, make in CASES.items():
        path, load = make()
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            load()
            outcome = "LOADED (a finding)"
        except (ModelFileError, DataFileError) as err:
            outcome = type(err).__name__
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = os.path.getsize(path)
        print(f"{name:55} {size:>10,} {peak:>10,} {elapsed:>7.3f}s  {outcome}")


if __name__ == "__main__":
    main()
