"""Run the keras.io corpus (tests/keras_io/programs) on Keras and/or shendu and print
each program's figures side by side: how the thresholds in tests/keras_io were set.

    python tools/keras_io_corpus.py --keras-python /path/to/python-with-keras [names...]

Keras runs the programs unchanged; shendu runs them with the imports changed (and the
listed extra changes). Needs a Python with Keras 3 (and TensorFlow for the programs that
use its utilities) for the Keras column.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from keras_io import corpus  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="programs to run (default: all)")
    parser.add_argument("--keras-python", help="a Python with Keras 3 (omit: shendu only)")
    parser.add_argument("--no-shendu", action="store_true", help="run Keras only")
    args = parser.parse_args(argv)
    names = args.names or corpus.names()
    unknown = sorted(set(names) - set(corpus.names()))
    if unknown:
        parser.error(f"unknown programs {unknown}; the corpus has {corpus.names()}")
    for name in names:
        row = [name]
        for library, python in (("keras", args.keras_python), ("shendu", sys.executable)):
            if python is None or (library == "shendu" and args.no_shendu):
                continue
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                figures, done = corpus.run(name, library, folder, python)
                took = time.perf_counter() - start
            if done.returncode:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
                row.append(f"{library}: FAILED ({tail[0] if tail else done.returncode})")
            else:
                shown = ", ".join(f"{k}={v:.4g}" for k, v in figures.items())
                row.append(f"{library}: {shown} ({took:.1f} s)")
        print(" | ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
