"""Keras 3 API coverage: for each public Keras module, the share of its names shendu has.

    python tools/keras_api_coverage.py            # needs keras (any backend) and shendu

Prints a table (module, Keras's names less the deliberate exclusions, how many shendu has,
the share) and the names still missing. Exclusions (names that only a compiled backend, a
device mesh or TensorFlow can give) are listed in EXCLUDED below with the reason; they are
not counted against shendu.
"""

from __future__ import annotations

import importlib
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

MODULES = [
    "",
    "ops",
    "ops.numpy",
    "ops.nn",
    "ops.linalg",
    "ops.image",
    "random",
    "config",
    "tree",
    "backend",
    "utils",
    "utils.bounding_boxes",
    "saving",
    "models",
    "initializers",
    "constraints",
    "activations",
    "regularizers",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "optimizers.schedules",
    "callbacks",
    "datasets",
    "applications",
    "distillation",
    "preprocessing",
    "visualization",
]

_BACKEND_SPECIFIC = "a wrapper of another framework's modules (JAX/Flax, TensorFlow, PyTorch)"
_QUANT = "quantization needs a compiled backend with low-precision kernels"
EXCLUDED = {
    "": {
        "Quantizer": _QUANT,
        "quantizers": _QUANT,
        "distribution": "device meshes and sharding of a compiled multi-device backend",
        "export": "ExportArchive writes TensorFlow SavedModels",
        "legacy": "Keras 2 (tf.keras) compatibility shims",
        "src": "Keras's private implementation package",
        "wrappers": "scikit-learn wrappers, out of scope for now",
    },
    "utils": {
        "legacy": "Keras 2 (tf.keras) compatibility shims",
    },
    "layers": {
        "FlaxLayer": _BACKEND_SPECIFIC,
        "JaxLayer": _BACKEND_SPECIFIC,
        "TFSMLayer": _BACKEND_SPECIFIC,
        "TorchModuleWrapper": _BACKEND_SPECIFIC,
    },
    "callbacks": {"OrbaxCheckpoint": "Orbax is a JAX checkpointing library"},
    "optimizers": {"legacy": "Keras 2 (tf.keras) compatibility shims"},
}


def names(module):
    return sorted(n for n in dir(module) if not n.startswith("_"))


def main():
    import keras

    import shendu

    rows, missing_all = [], {}
    for path in MODULES:
        k_mod = importlib.import_module("keras" + ("." + path if path else ""))
        try:
            s_mod = importlib.import_module("shendu" + ("." + path if path else ""))
        except ImportError:
            s_mod = None
        excluded = EXCLUDED.get(path, {})
        wanted = [n for n in names(k_mod) if n not in excluded]
        have = set(dir(s_mod)) if s_mod is not None else set()
        missing = [n for n in wanted if n not in have]
        rows.append(
            (path or "(top level)", len(wanted), len(wanted) - len(missing), len(excluded))
        )
        if missing:
            missing_all[path or "(top level)"] = missing
    print(f"Keras {keras.__version__} against shendu {shendu.__version__}\n")
    print("| module | Keras names | shendu has | share | excluded |")
    print("|---|---|---|---|---|")
    total_w = total_h = 0
    for path, wanted, have, excluded in rows:
        total_w += wanted
        total_h += have
        share = 100.0 * have / wanted if wanted else 100.0
        print(f"| {path} | {wanted} | {have} | {share:.0f}% | {excluded} |")
    print(f"| all | {total_w} | {total_h} | {100.0 * total_h / total_w:.0f}% | |")
    print("\nMissing:")
    for path, missing in missing_all.items():
        print(f"- {path}: {', '.join(missing)}")
    print("\nExcluded (not counted):")
    for path, excluded in EXCLUDED.items():
        for name, why in excluded.items():
            print(f"- {path or '(top level)'}.{name}: {why}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    sys.exit(main())
