"""Writes the Keras 3 fixtures of the saving hooks (run by hand with Keras installed, from
the project root: KERAS_BACKEND=jax python tests/saving/keras_files/make_hook_fixtures.py).
The outputs are committed so that the tests run without Keras."""

import os
import sys

import keras
import numpy as np

sys.path.insert(0, os.getcwd())
from tests.saving.keras_hook_classes import define, hooks_model, subclassed_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
keras.utils.set_random_seed(0)
classes = define(keras)
x = np.random.default_rng(0).random((2, 4)).astype("float32")
for name, model in (
    ("hooks", hooks_model(keras, classes)),
    ("subclassed", subclassed_model(keras, classes, x)),
):
    model.save(os.path.join(HERE, f"{name}.keras"))
    np.savez(os.path.join(HERE, f"{name}.npz"), x=x, y=model.predict(x, verbose=0))
