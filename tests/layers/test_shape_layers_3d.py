"""The 3-D shape layers (padding, cropping, upsampling, global pooling, spatial dropout):
shapes and values against NumPy (the shapes agree with Keras 3.15 on the same inputs),
channels_first, config round trips, a training step."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

X = np.random.default_rng(0).standard_normal((2, 4, 5, 6, 3)).astype("float32")


@pytest.mark.parametrize(
    "make, expected",
    [
        (
            lambda: layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1))),
            lambda: np.pad(X, ((0, 0), (1, 0), (0, 2), (1, 1), (0, 0))),
        ),
        (lambda: layers.Cropping3D(), lambda: X[:, 1:-1, 1:-1, 1:-1]),
        (lambda: layers.Cropping3D(((0, 1), (1, 1), (2, 0))), lambda: X[:, :-1, 1:-1, 2:]),
        (
            lambda: layers.UpSampling3D((1, 2, 3)),
            lambda: X.repeat(2, axis=2).repeat(3, axis=3),
        ),
        (lambda: layers.GlobalAveragePooling3D(), lambda: X.mean(axis=(1, 2, 3))),
        (
            lambda: layers.GlobalMaxPooling3D(keepdims=True),
            lambda: X.max((1, 2, 3), keepdims=True),
        ),
        (
            lambda: layers.ZeroPadding3D(1, data_format="channels_first"),
            lambda: np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1), (1, 1))),
        ),
    ],
)
def test_values_and_config(make, expected):
    layer = make()
    np.testing.assert_allclose(layer(X).numpy(), expected(), rtol=1e-6)
    assert layer.compute_output_shape(X.shape) == expected().shape
    again = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(again(X).numpy(), expected(), rtol=1e-6)


def test_spatial_dropout_3d_drops_whole_maps():
    layer = layers.SpatialDropout3D(0.5, seed=1)
    np.testing.assert_array_equal(layer(X).numpy(), X)  # inference: identity
    out = layer(X, training=True).numpy()
    dropped = (out == 0).all(axis=(1, 2, 3))  # per (sample, channel)
    assert dropped.any() and not dropped.all()
    kept = ~dropped
    np.testing.assert_allclose(
        out.transpose(0, 4, 1, 2, 3)[kept], 2 * X.transpose(0, 4, 1, 2, 3)[kept], rtol=1e-6
    )
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        layer(X[0])


def test_aliases_and_a_training_step():
    assert layers.GlobalAvgPool3D is layers.GlobalAveragePooling3D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    model = keras.Sequential(
        [
            keras.Input((4, 5, 6, 3)),
            layers.ZeroPadding3D(1),
            layers.Cropping3D(1),
            layers.UpSampling3D(),
            layers.SpatialDropout3D(0.1),
            layers.GlobalAveragePooling3D(),
            layers.Dense(1),
        ]
    )
    model.compile("sgd", "mse")
    before = model.get_weights()[0].copy()
    model.fit(X, np.ones((2, 1)), epochs=1, verbose=0)
    assert not np.array_equal(before, model.get_weights()[0])
