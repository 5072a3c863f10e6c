"""Record Keras 3's bounding-box figures, for tests/test_bounding_boxes.py.

    KERAS_BACKEND=jax python tools/record_keras_bounding_boxes.py   # needs keras, not shendu

Runs the cases of ``tests/bounding_box_cases.py``: each function of
``keras.utils.bounding_boxes``, and each geometric layer given 2 images of 60 x 80 with their
boxes and labels. Written to ``tests/fixtures/keras_bounding_boxes.json``.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from bounding_box_cases import LAYER_LABELS, function_cases, layer_cases  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "fixtures", "keras_bounding_boxes.json")


def as_arrays(value):
    if isinstance(value, dict):
        return {k: as_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        array = np.asarray(value)
        return array.astype("float32") if array.dtype.kind == "f" else array
    return value


def as_lists(value):
    if isinstance(value, dict):
        return {k: as_lists(v) for k, v in value.items()}
    return np.asarray(value).tolist()


def main():
    functions = {}
    for name, function, kwargs in function_cases():
        result = getattr(keras.utils.bounding_boxes, function)(**as_arrays(kwargs))
        functions[name] = as_lists(result)
    layers = {}
    for name, layer_name, kwargs, box_format, boxes in layer_cases():
        layer = getattr(keras.layers, layer_name)(bounding_box_format=box_format, **kwargs)
        data = {
            "images": np.zeros((2, 60, 80, 3), "float32"),
            "bounding_boxes": {
                "boxes": np.asarray(boxes, "float32"),
                "labels": np.asarray(LAYER_LABELS, "int32"),
            },
        }
        out = layer(data, training=True)
        layers[name] = {
            "boxes": as_lists(out["bounding_boxes"]["boxes"]),
            "labels": as_lists(out["bounding_boxes"]["labels"]),
            "image_shape": list(np.shape(out["images"])),
        }
    record = {"keras": keras.__version__, "functions": functions, "layers": layers}
    with open(OUT, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    print(f"{len(functions)} function cases, {len(layers)} layer cases -> {OUT}")


if __name__ == "__main__":
    main()
