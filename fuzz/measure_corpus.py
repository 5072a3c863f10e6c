"""Peak memory (tracemalloc) and time of refusing each crafted file of the test corpora, and
the worst of each kind: ``python fuzz/measure_corpus.py`` (needs safetensors and h5py)."""

import importlib.util
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests" / "saving"

SIZES = ("10**", "wider", "doubling", "broadcast", "build_config", "huge")
ARCHIVES = (
    "zip",
    "member",
    "archive",
    "version",
    "pickle",
    "empty",
    "compression",
    "deflate",
    "utf8",
    "keras 2",
    "keras 4",
    "bomb",
    "header",
    "offsets",
    "shape",
    "trailing",
    "metadata",
    "dtype",
    "safetensors",
    "json",
)
KINDS = [
    "declared sizes",
    "nesting",
    "config contents",
    "archives, headers, versions",
    "HDF5 features",
]


def kind(name):
    if name.startswith("h5 "):
        return "HDF5 features"
    if any(w in name for w in SIZES):
        return "declared sizes"
    if "nested" in name:
        return "nesting"
    if any(w in name for w in ARCHIVES):
        return "archives, headers, versions"
    return "config contents"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _measure(call):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
        outcome = "LOADED"
    except Exception as err:  # the refusal being measured
        outcome = type(err).__name__
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return outcome, peak, elapsed


def main():
    warnings.simplefilter("ignore")
    from shendu import saving
    from shendu.saving import keras_files

    keras_files.MAX_H5_OBJECTS = 2_000  # as in the tests: the many_objects file has 2,100

    corpus = _load("test_corpus")
    keras_corpus = _load("test_keras_corpus")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus._good_model().save(str(tmp / "good.shendu"))
        with zipfile.ZipFile(tmp / "good.shendu") as zf:
            good = {n: zf.read(n) for n in zf.namelist()}
        for name, make in corpus.CASES.items():
            path = tmp / "c.shendu"
            path.write_bytes(make(good))
            results.append(
                (name, os.path.getsize(path), *_measure(lambda p=path: saving.load_model(str(p))))
            )
        for name, make in keras_corpus.H5_CASES.items():
            folder = tmp / name
            folder.mkdir()
            path = folder / "w.weights.h5"
            make(folder, path)
            model = keras_corpus._model()
            model.build((None, 4))
            results.append(
                (
                    f"h5 {name}",
                    os.path.getsize(path),
                    *_measure(lambda m=model, p=path: saving.load_keras_weights(m, str(p))),
                )
            )
        for name, make in keras_corpus.KERAS_CASES.items():
            path = tmp / "c.keras"
            path.write_bytes(keras_corpus._keras_zip(make()))
            results.append(
                (
                    f"keras {name}",
                    os.path.getsize(path),
                    *_measure(lambda p=path: saving.load_model(str(p))),
                )
            )
    width = max(len(r[0]) for r in results)
    for name, size, outcome, peak, elapsed in results:
        print(
            f"{name:{width}s} {size:>10,d} B  {outcome:15s} peak {peak / 2**20:7.2f} MiB  "
            f"{elapsed * 1000:8.1f} ms"
        )
    print(f"\n{len(results)} files; worst of each kind (peak memory, time):")
    for name in KINDS:
        group = [r for r in results if kind(r[0]) == name]
        if group:
            by_peak = max(group, key=lambda r: r[3])
            by_time = max(group, key=lambda r: r[4])
            print(
                f"  {name:28s} {len(group):3d} files; peak {by_peak[3] / 2**20:.2f} MiB "
                f"({by_peak[0]}, {by_peak[1]:,} B); slowest {by_time[4] * 1000:.1f} ms "
                f"({by_time[0]})"
            )
    loaded = [r[0] for r in results if r[2] == "LOADED"]
    if loaded:
        print("LOADED (findings):", loaded)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
