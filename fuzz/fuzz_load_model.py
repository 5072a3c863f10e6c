"""Coverage-guided fuzzing of ``load_model`` with atheris (by hand, not in CI).

    pip install atheris && python fuzz/fuzz_load_model.py -max_total_time=300 fuzz/corpus

Any exception other than ``ModelFileError`` (or the file being refused by the OS) is a
finding: a malformed file must always be refused with the documented exception.
The seed corpus is a valid model plus a few crafted files, written at start.
"""

import io
import os
import sys
import tempfile
import zipfile

import atheris

with atheris.instrument_imports():
    import numpy as np

    import shendu
    import shendu.saving.tensor_file  # noqa: F401
    from shendu.saving import ModelFileError, load_model

TMP = tempfile.mkdtemp()
PATH = os.path.join(TMP, "fuzz.shendu")


def seed_corpus(folder):
    os.makedirs(folder, exist_ok=True)
    m = shendu.Sequential([shendu.layers.Input((3,)), shendu.layers.Dense(2)])
    m.compile("adam", "mse")
    m.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    good = os.path.join(folder, "good.shendu")
    m.save(good)
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    GOOD.update(members)
    for i, (name, data) in enumerate(members.items()):
        with open(os.path.join(folder, f"member-{name}"), "wb") as f:
            f.write(bytes([i + 1]) + data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", members["config.json"])
    with open(os.path.join(folder, "no-weights.shendu"), "wb") as f:
        f.write(buf.getvalue())


GOOD = {}


def _wrap(data: bytes) -> bytes:
    """Structure-aware: the first byte picks raw bytes, or a valid archive whose config or
    weights member is the fuzzed bytes (so that the inner parsers are reached)."""
    if not data:
        return data
    mode, body = data[0] % 3, data[1:]
    if mode == 0 or not GOOD:
        return body
    members = dict(GOOD)
    members["config.json" if mode == 1 else "model.safetensors"] = body
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, member in members.items():
            zf.writestr(name, member)
    return buf.getvalue()


def test_one(data: bytes):
    with open(PATH, "wb") as f:
        f.write(_wrap(data))
    try:
        load_model(PATH)
    except ModelFileError:
        pass


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(corpus[0])
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
