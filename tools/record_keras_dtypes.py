"""Record the dtype of every ``keras.ops`` function's result over Keras's dtypes.

Run where Keras 3 and JAX are installed (the README's oracle environment), from the
project root::

    /path/to/oracle/python tools/record_keras_dtypes.py

It calls each op on the cells of ``tests/ops/keras_op_cases.dtype_cells`` (every dtype,
every pair of dtypes for binary ops, Python scalars as weak operands) on Keras's JAX
backend and writes ``tests/ops/fixtures/keras_dtypes.json``: ``{op: {cell: dtype or
"error"}}``, the dtype of the first output. ``tests/ops/test_keras_dtype_table.py`` holds
shendu to it.

JAX runs twice. By default it narrows every 64-bit array to 32 bits (its setting, not
Keras's rule), so cells with an int64, uint64 or float64 operand are recorded with 64-bit
types on (``JAX_ENABLE_X64=1``, as Keras's own dtype tests run JAX); the other cells with
them off, since with them on JAX makes Python scalars 64-bit where Keras's rule makes them
32-bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "ops" / "fixtures" / "keras_dtypes.json"
LAYER_FIXTURE = ROOT / "tests" / "layers" / "fixtures" / "keras_layer_dtypes.json"
SYMBOLIC_FIXTURE = ROOT / "tests" / "layers" / "fixtures" / "keras_symbolic_shapes.json"
WIDE = ("int64", "uint64", "float64")


def first_dtype(value):
    """The Keras dtype name of a result's first array (``"none"`` when it has none)."""
    from keras import backend

    while isinstance(value, (list, tuple)):
        if not value:
            return "none"
        value = value[0]
    if not hasattr(value, "dtype"):
        return type(value).__name__
    return backend.standardize_dtype(value.dtype)


def record_layers() -> dict:
    """The layer table: {layer: {input dtype: output dtype or "error"}}, each layer new
    for each input (Keras builds it for the first input it sees)."""
    import keras
    from tests.layers.keras_layer_cases import LAYER_CASES, LAYER_DTYPES, layer_input

    table = {}
    for name, (make, kind) in LAYER_CASES.items():
        row = {}
        for dtype in LAYER_DTYPES:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row[dtype] = first_dtype(make(keras)(layer_input(kind, dtype)))
            except Exception:  # noqa: BLE001 (a refusal is a cell of the table)
                row[dtype] = "error"
        table[name] = row
    return table


def record_symbolic() -> dict:
    """The symbolic table: {case: [[shape, dtype] per output]} of functional graphs built
    on Inputs with unknown sizes (``tests/layers/keras_symbolic_cases.py``)."""
    import keras
    from tests.layers.keras_symbolic_cases import SYMBOLIC_CASES

    table = {}
    for name, build in SYMBOLIC_CASES.items():
        try:
            _, outputs = build(keras)
            outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            table[name] = [[list(o.shape), keras.backend.standardize_dtype(o.dtype)] for o in outs]
        except Exception as err:  # noqa: BLE001 (a refusal is a cell of the table)
            table[name] = f"error: {type(err).__name__}"
    return table


def record(out: str) -> None:
    """One pass over the tables in this process's JAX setting, written to ``out``."""
    sys.path.insert(0, str(ROOT))
    import keras
    from tests.ops.keras_op_cases import dtype_cells, keras_op_names

    if os.environ.get("RECORD_ONLY") == "layers":
        Path(out).write_text(json.dumps({"keras": keras.__version__, "layers": record_layers()}))
        return
    if os.environ.get("RECORD_ONLY") == "symbolic":
        table = record_symbolic() if os.environ["JAX_ENABLE_X64"] == "0" else {}
        Path(out).write_text(json.dumps({"keras": keras.__version__, "symbolic": table}))
        return
    table = {}
    for name in keras_op_names(keras.ops):
        row = {}
        for key, args, kwargs in dtype_cells(name):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row[key] = first_dtype(getattr(keras.ops, name)(*args, **kwargs))
            except Exception:  # noqa: BLE001 (a refusal is a cell of the table)
                row[key] = "error"
        if row:
            table[name] = row
    result = {"keras": keras.__version__, "ops": table, "layers": record_layers()}
    if os.environ["JAX_ENABLE_X64"] == "0":
        result["symbolic"] = record_symbolic()
    Path(out).write_text(json.dumps(result))


def main() -> None:
    passes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for x64 in ("0", "1"):
            out = os.path.join(tmp, f"x64_{x64}.json")
            env = dict(os.environ, KERAS_BACKEND="jax", JAX_ENABLE_X64=x64)
            subprocess.run([sys.executable, __file__, "--pass", out], env=env, check=True)
            passes[x64] = json.loads(Path(out).read_text())
    meta = {"keras": passes["0"]["keras"], "backend": "jax"}
    parts = (("ops", FIXTURE), ("layers", LAYER_FIXTURE), ("symbolic", SYMBOLIC_FIXTURE))
    for part, path in parts:
        if part not in passes["0"]:
            continue
        table = (
            passes["0"][part]
            if part == "symbolic"
            else merge(passes["0"][part], passes["1"][part])
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"recorded_with": meta, part: table}, indent=0) + "\n")
        print(f"{sum(len(r) for r in table.values())} cells over {len(table)} {part} -> {path}")


def merge(narrow: dict, wide: dict) -> dict:
    """The cells with a 64-bit operand from the 64-bit pass, the others from the default."""
    return {
        name: {
            key: (wide if any(w in key.split(",") for w in WIDE) else narrow)[name][key]
            for key in row
        }
        for name, row in narrow.items()
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pass":
        record(sys.argv[2])
    else:
        main()
