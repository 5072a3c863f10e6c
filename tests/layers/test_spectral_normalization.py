"""SpectralNormalization: the power method and the kernel's division as Keras 3.15 does
them (figures measured with its JAX backend on the same weights), config, training, files."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers as L

X = np.random.default_rng(0).standard_normal((4, 5, 5, 2)).astype("float32")


def _layer():
    sn = L.SpectralNormalization(L.Conv2D(3, 2), power_iterations=2)
    sn.build(X.shape)
    rng = np.random.default_rng(1)
    values = {
        "kernel": rng.standard_normal((2, 2, 2, 3)).astype("float32"),
        "vector_u": rng.standard_normal((1, 3)).astype("float32"),
        "bias": rng.standard_normal(3).astype("float32"),
    }
    sn.set_weights([values[v.path.rsplit("/", 1)[-1]] for v in sn.weights])
    return sn


def test_values_as_keras():
    sn = _layer()
    np.testing.assert_allclose(sn(X).numpy().sum(), 32.21331024169922, rtol=1e-5)  # inference
    np.testing.assert_allclose(sn(X, training=True).numpy().sum(), 18.83496856689453, rtol=1e-5)
    np.testing.assert_allclose(sn(X, training=True).numpy().sum(), 18.688390731811523, rtol=1e-5)
    kernel = sn.layer.kernel.numpy().reshape(-1, 3)
    np.testing.assert_allclose(
        np.linalg.svd(kernel, compute_uv=False)[0], 1.4064337015151978, rtol=1e-5
    )
    np.testing.assert_allclose(sn.vector_u.numpy(), [[-0.74833, -0.49707, -0.43923]], atol=1e-5)


def test_config_errors_and_a_zero_kernel():
    sn = L.SpectralNormalization(L.Dense(2), power_iterations=3)
    again = L.SpectralNormalization.from_config(sn.get_config())
    assert again.power_iterations == 3 and isinstance(again.layer, L.Dense)
    with pytest.raises(ValueError, match="`power_iterations` should be greater than zero"):
        L.SpectralNormalization(L.Dense(2), power_iterations=0)
    with pytest.raises(
        ValueError, match="Flatten object has no attribute 'kernel' nor 'embeddings'"
    ):
        L.SpectralNormalization(L.Flatten())(X)
    zero = L.SpectralNormalization(L.Dense(2, kernel_initializer="zeros"))
    zero(np.ones((1, 3), "float32"), training=True)
    assert not zero.layer.kernel.numpy().any()  # left alone, as Keras


def test_trains_and_round_trips(tmp_path):
    model = keras.Sequential(
        [keras.Input((5, 5, 2)), L.SpectralNormalization(L.Conv2D(3, 2)), L.Flatten(), L.Dense(1)]
    )
    model.compile("adam", "mse")
    model.fit(X, np.ones((4, 1)), epochs=3, verbose=0)
    kernel = model.layers[0].layer.kernel.numpy().reshape(-1, 3)
    assert abs(np.linalg.svd(kernel, compute_uv=False)[0] - 1) < 0.5
    for name in ("m.keras", "m.shendu"):
        model.save(tmp_path / name)
        again = keras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(
            again.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6
        )
