"""The dtype table: every ``keras.ops`` function over Keras's dtypes (each dtype alone,
every pair for the binary ops, Python scalars as weak operands), against the dtypes Keras
3 gives on its JAX backend, recorded by ``tools/record_keras_dtypes.py`` into
``fixtures/keras_dtypes.json``.

A cell is the dtype of the op's first output, or "error" when the op refuses. Where
shendu still differs, the cell is listed in ``fixtures/known_dtype_differences.json``
with shendu's value: a cell that differs and is not listed fails, and so does a listed
cell that now agrees (take it off the list), so the list only shrinks. Refresh it with
``python -m tests.ops.test_keras_dtype_table --write-known`` after a change that fixes
cells, and read the diff.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from shendu import backend, ops

from .keras_op_cases import dtype_cells

FIXTURES = Path(__file__).parent / "fixtures"
KERAS = json.loads((FIXTURES / "keras_dtypes.json").read_text())["ops"]
KNOWN_PATH = FIXTURES / "known_dtype_differences.json"
KNOWN = json.loads(KNOWN_PATH.read_text()) if KNOWN_PATH.exists() else {}


def _first_dtype(value) -> str:
    while isinstance(value, (list, tuple)):
        if not value:
            return "none"
        value = value[0]
    if not hasattr(value, "dtype"):
        return type(value).__name__
    return backend.standardize_dtype(value.dtype)


def shendu_row(name) -> dict:
    """shendu's cells of op ``name``: {cell: dtype or "error"}."""
    row = {}
    for key, args, kwargs in dtype_cells(name, wrap=ops.convert_to_tensor):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                row[key] = _first_dtype(getattr(ops, name)(*args, **kwargs))
        except Exception:  # noqa: BLE001 (a refusal is a cell of the table)
            row[key] = "error"
    return row


def differences(name) -> dict:
    """{cell: shendu's value} where shendu and Keras differ for op ``name``."""
    want = KERAS[name]
    got = shendu_row(name)
    return {key: got[key] for key in want if got[key] != want[key]}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_op_dtypes_match_keras(name):
    assert hasattr(ops, name), f"shendu.ops has no {name}"
    differ = differences(name)
    known = KNOWN.get(name, {})
    new = {
        k: f"shendu {v}, Keras {KERAS[name][k]}" for k, v in differ.items() if known.get(k) != v
    }
    fixed = sorted(k for k in known if k not in differ)
    assert not new, f"{name}: cells that differ from Keras 3: {new}"
    assert not fixed, f"{name}: cells that now agree with Keras; take them off the list: {fixed}"


def test_table_covers_the_keras_ops():
    """The fixture holds every op with array operands and most cells (a check on the
    recording itself)."""
    assert len(KERAS) >= 250
    assert sum(len(row) for row in KERAS.values()) >= 6000


def test_python_scalars_are_weak_and_lists_are_int32():
    """Keras's rules written out: uint8 + 2 stays uint8, int8 + 2.5 is float32, a Python int
    alone is int32, int8 products accumulate in int32."""
    u8 = np.array([200, 3], "uint8")
    assert ops.add(u8, 2).dtype == "uint8"
    assert ops.add(np.array([1], "int8"), 2.5).dtype == "float32"
    assert ops.add(2, 3).dtype == "int32"
    assert ops.add([1, 2], 1).dtype == "int32"
    a = np.full((2, 2), 100, "int8")
    product = ops.matmul(a, a)
    assert product.dtype == "int32"
    assert int(np.asarray(product)[0, 0]) == 20000  # int8 would wrap around to 32


def test_numpy_float64_constants_beside_a_tensor_stay_float32():
    x = ops.convert_to_tensor(np.ones(3, "float32"))
    assert (x * np.ones(3)).dtype == "float32"
    assert (x + np.float64(1.5)).dtype == "float32"


def test_dtypes_keras_does_not_know_are_refused():
    with pytest.raises(ValueError, match="expected a numeric dtype"):
        ops.zeros((2,), dtype="object")
    with pytest.raises(ValueError, match="expected a numeric dtype"):
        ops.cast(np.ones(2), "object")
    with pytest.raises(ValueError, match="Invalid dtype: 'string'"):
        backend.result_type("string", "int32")


def _write_known() -> None:
    table = {}
    for name in sorted(KERAS):
        if not hasattr(ops, name):
            continue
        differ = differences(name)
        if differ:
            table[name] = dict(sorted(differ.items()))
    KNOWN_PATH.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    cells = sum(len(r) for r in KERAS.values())
    n = sum(len(r) for r in table.values())
    print(f"{cells - n} of {cells} cells equal to Keras; {n} listed in {KNOWN_PATH.name}")


if __name__ == "__main__" and "--write-known" in sys.argv:
    _write_known()
