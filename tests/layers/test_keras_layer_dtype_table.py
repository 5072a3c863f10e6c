"""The layer dtype table: built-in layers called on bool, uint8, int32, int64, float16,
float32 and float64 data, each output dtype against Keras 3's (recorded by
``tools/record_keras_dtypes.py`` into ``fixtures/keras_layer_dtypes.json``).

Keras converts a float input to the layer's compute dtype (float64 data into a float32
layer computes in float32) and leaves integers to the layer's ops, which promote them by
its dtype rules (a uint8 image into Conv2D gives float32). Cells where shendu still
differs are listed below with the reason; a listed cell that agrees fails too.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import shendu
from shendu import backend

from .keras_layer_cases import LAYER_CASES, LAYER_DTYPES, layer_input

KERAS = json.loads((Path(__file__).parent / "fixtures" / "keras_layer_dtypes.json").read_text())[
    "layers"
]

#: (layer, input dtype) -> shendu's dtype, where shendu differs from Keras on purpose:
#: Keras 3.15 on JAX refuses integer and bool inputs to these layers (its convolutions
#: and normalisations of mixed dtypes fail in JAX), where shendu promotes them to float32
#: as Keras's Conv2D and Dense do; and with 64-bit types on, JAX gives float64 for int64
#: inputs to float functions, where Keras's rule (and shendu) gives floatx.
KNOWN = {
    **{
        (name, dtype): "float32"
        for name in ("Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "UnitNormalization")
        for dtype in ("bool", "uint8", "int32", "int64")
    },
    **{(name, "bool"): "float32" for name in ("AveragePooling2D", "Softmax")},
    **{(name, "int64"): "float32" for name in ("AveragePooling2D", "Softmax")},
}


def _dtype(value) -> str:
    while isinstance(value, (list, tuple)):
        value = value[0]
    return backend.standardize_dtype(value.dtype)


def shendu_cell(name, dtype) -> str:
    make, kind = LAYER_CASES[name]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _dtype(make(shendu)(layer_input(kind, dtype)))
    except Exception:  # noqa: BLE001 (a refusal is a cell of the table)
        return "error"


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer_dtypes_match_keras(name):
    differ = {}
    for dtype in LAYER_DTYPES:
        got, want = shendu_cell(name, dtype), KERAS[name][dtype]
        if got != want and KNOWN.get((name, dtype)) != got:
            differ[dtype] = f"shendu {got}, Keras {want}"
        if got == want and (name, dtype) in KNOWN:
            differ[dtype] = "agrees now: take it off KNOWN"
    assert not differ, f"{name}: {differ}"
