"""The keras.io corpus: Keras 3 programs (tests/keras_io/programs) run unchanged on
real Keras, and on shendu with ``import keras`` changed to ``import shendu as keras``.

Each program prints ``RESULT <figure> <value>`` lines. ``run`` executes one in a fresh
process inside a scratch folder (checkpoints land there); ``tools/keras_io_corpus.py``
runs the corpus on Keras to set the thresholds the test holds shendu to.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")

#: the change every program gets on shendu: Keras's imports become shendu's
IMPORTS = [
    (re.compile(r"^import keras$", re.M), "import shendu as keras"),
    (re.compile(r"^from keras import ", re.M), "from shendu import "),
    (re.compile(r"^from keras\.", re.M), "from shendu."),
]

#: programs that need more than the imports changed, with what and why
_TORCH_IDIOM = [
    ("import torch\n", "import contextlib\n", "shendu has no torch: the import goes"),
    (
        "with torch.no_grad():",
        "with contextlib.nullcontext():",
        "optimizer.apply records no graph in shendu, so the no_grad block is a plain block",
    ),
]
EXTRA_CHANGES: dict[str, list[tuple[str, str, str]]] = {
    "custom_fit_torch": _TORCH_IDIOM,
    "gan_torch": _TORCH_IDIOM,
}

#: the backend each program runs on in Keras (jax unless it needs another)
KERAS_BACKEND: dict[str, str] = {
    "training_with_built_in_methods": "tensorflow",  # its metric returns a Variable
    "structured_data_lookups": "tensorflow",  # its lookup layers run on TensorFlow
    "understanding_masking_and_padding": "torch",
    "custom_fit_torch": "torch",
    "gan_torch": "torch",
}


def names() -> list[str]:
    return sorted(
        f[:-3]
        for f in os.listdir(PROGRAMS)
        if f.endswith(".py") and f != "corpus_data.py" and not f.startswith("_")
    )


def source(name: str, library: str) -> str:
    """The program's text as run on ``library`` ("keras": unchanged; "shendu": imports
    changed, and the program's EXTRA_CHANGES)."""
    with open(os.path.join(PROGRAMS, name + ".py"), encoding="utf-8") as f:
        text = f.read()
    if library == "keras":
        return text
    for pattern, replacement in IMPORTS:
        text = pattern.sub(replacement, text)
    for old, new, _why in EXTRA_CHANGES.get(name, []):
        if old not in text:
            raise ValueError(f"{name}: the change {old!r} does not apply")
        text = text.replace(old, new)
    return text


def run(name: str, library: str, folder: str, python: str | None = None, timeout=600):
    """Run the program in ``folder``; returns (figures, completed process)."""
    script = os.path.join(folder, name + ".py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(source(name, library))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [PROGRAMS] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["KERAS_BACKEND"] = KERAS_BACKEND.get(name, "jax")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    done = subprocess.run(
        [python or sys.executable, script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    figures = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            _, key, value = line.split()
            figures[key] = float(value)
    return figures, done
