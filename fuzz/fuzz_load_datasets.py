"""Coverage-guided fuzzing of the data set file readers with atheris (by hand, not in CI).

    pip install atheris
    python fuzz/fuzz_load_datasets.py -max_total_time=300 fuzz/corpus_datasets

The restricted pickle reader (CIFAR batches; IMDB and Reuters object arrays), the checked
``.npz`` reader and the IDX reader must refuse every malformed file with ``DataFileError``;
any other exception, and any call of a global the file names, is a finding. The first byte
picks the reader; the seed corpus holds valid files of each kind and crafted pickles that
try to reach other globals (``os.system``, ``builtins.eval``, ``numpy.zeros``).
"""

import gzip
import io
import os
import pickle
import struct
import sys
import tempfile

import atheris
import numpy as np

with atheris.instrument_imports():
    from shendu.datasets import restricted_pickle
    from shendu.datasets.checked import DataFileError, read_idx, read_npz
    from shendu.datasets.keras_pickled import read_sequences_npz

TMP = tempfile.mkdtemp()
NPZ = os.path.join(TMP, "fuzz.npz")
IDX = os.path.join(TMP, "fuzz-idx1-ubyte.gz")
READERS = 4


class _Gadget:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def seed_corpus(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 256, (2, 3072)).astype(np.uint8), b"labels": [1, 2]}
    seqs = np.empty(3, dtype=object)
    seqs[:] = [[1, 2], [3], [4, 5, 6]]
    seeds = {"batch-p2": pickle.dumps(batch, 2), "batch-p3": pickle.dumps(batch, 3)}
    seeds["objects"] = pickle.dumps(seqs, 3)
    seeds["gadget-system"] = pickle.dumps(_Gadget(os.system, "true"), 2)
    seeds["gadget-eval"] = pickle.dumps(_Gadget(eval, "1"), 2)
    seeds["gadget-zeros"] = pickle.dumps(_Gadget(np.zeros, (10**12,)), 2)
    for name, raw in seeds.items():
        with open(os.path.join(folder, f"pickle-{name}"), "wb") as f:
            f.write(b"\x00" + raw)
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(6, dtype=np.uint8).reshape(2, 3), y=np.arange(2))
    with open(os.path.join(folder, "npz"), "wb") as f:
        f.write(b"\x01" + buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, x=seqs, y=np.arange(3))
    with open(os.path.join(folder, "npz-objects"), "wb") as f:
        f.write(b"\x02" + buf.getvalue())
    idx = struct.pack(">BBBBII", 0, 0, 0x08, 2, 2, 3) + bytes(range(6))
    with open(os.path.join(folder, "idx"), "wb") as f:
        f.write(b"\x03" + gzip.compress(idx))


def test_one(data: bytes):
    if not data:
        return
    mode, body = data[0] % READERS, data[1:]
    try:
        if mode == 0:
            restricted_pickle.read_pickled(body, "fuzz")
            return
        path = IDX if mode == 3 else NPZ
        with open(path, "wb") as f:
            f.write(body)
        if mode == 1:
            read_npz(path, ["x", "y"])
        elif mode == 2:
            read_sequences_npz(path, ["x", "y"])
        else:
            read_idx(path)
    except DataFileError:
        pass


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(corpus[0])
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
