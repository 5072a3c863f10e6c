"""A few applications built small, trained one step (the loss falls on a repeated batch)
and saved and reloaded (custom layers included)."""

import numpy as np
import pytest

import shendu as keras

A = keras.applications

SMALL = [
    ("MobileNetV3Small", lambda: A.MobileNetV3Small(
        input_shape=(32, 32, 3), alpha=0.75, minimalistic=True, weights=None, classes=3
    )),
    ("EfficientNetB0", lambda: A.EfficientNetB0(
        input_shape=(32, 32, 3), weights=None, classes=3
    )),
    ("ConvNeXtTiny", lambda: A.ConvNeXtTiny(input_shape=(32, 32, 3), weights=None, classes=3)),
]  # fmt: skip


@pytest.mark.parametrize("name, make", SMALL, ids=[n for n, _ in SMALL])
def test_trains_and_round_trips(name, make, tmp_path):
    keras.utils.set_random_seed(0)
    model = make()
    size = model.input_shape[1]
    rng = np.random.default_rng(0)
    x = (rng.random((8, size, size, 3)) * 255).astype(np.float32)
    y = rng.integers(0, 3, 8)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    first = model.train_on_batch(x, y)
    for _ in range(2):
        last = model.train_on_batch(x, y)
    assert np.isfinite(last) and last < first, (first, last)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(
        again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-4, atol=1e-5
    )
