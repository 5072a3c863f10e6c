"""Record Keras 3's operation classes: for each ``keras.ops`` function's class (``ExpandDims``,
``Concatenate``, ``Sum``...), its module and which of its arguments Keras keeps in the
operation's config (``__init__``) and which it passes when calling it (``call``).

Run where Keras 3 is installed (the README's oracle environment), from the project root::

    KERAS_BACKEND=jax /path/to/oracle/python tools/record_keras_operations.py

It writes ``src/shendu/layers/keras_operations.json``, which the ``.keras`` writer and
reader use to put a functional graph's operation nodes where Keras puts them.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "shendu" / "layers" / "keras_operations.json"


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    from keras.src.ops import core, image, linalg, math, nn, numpy
    from keras.src.ops.operation import Operation

    table = {}
    for module in (numpy, nn, math, linalg, image, core):
        for name, cls in vars(module).items():
            if not (isinstance(cls, type) and issubclass(cls, Operation)):
                continue
            if cls.__module__ != module.__name__:
                continue
            try:
                init = inspect.signature(cls.__init__).parameters.values()
                call = inspect.signature(cls.call).parameters.values()
            except (TypeError, ValueError):
                continue
            skip = ("self", "name")
            table[name] = {
                "module": module.__name__,
                "init": [
                    p.name
                    for p in init
                    if p.name not in skip
                    and p.kind == p.POSITIONAL_OR_KEYWORD
                    or p.kind == p.KEYWORD_ONLY
                    and p.name not in skip
                ],
                "call": [
                    ("*" + p.name) if p.kind == p.VAR_POSITIONAL else p.name
                    for p in call
                    if p.name != "self" and p.kind != p.VAR_KEYWORD
                ],
            }
    meta = {"keras": keras.__version__}
    OUT.write_text(
        json.dumps({"recorded_with": meta, "operations": table}, indent=0, sort_keys=True) + "\n"
    )
    print(f"{len(table)} operations -> {OUT}")


if __name__ == "__main__":
    main()
