"""Conv3D, MaxPooling3D and AveragePooling3D: output shapes and sums as Keras 3.15 gives on
the same input (measured with its JAX backend: shapes, sums and weight shapes equal),
config round trips, a training step, the Keras aliases."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

X = np.random.default_rng(0).standard_normal((2, 5, 6, 7, 3)).astype("float32")

# (layer, Keras 3.15's output shape); kernels of ones make the sums checkable by hand
CASES = [
    (lambda: layers.Conv3D(4, (2, 3, 2), kernel_initializer="ones"), (2, 4, 4, 6, 4)),
    (
        lambda: layers.Conv3D(2, 3, strides=2, padding="same", kernel_initializer="ones"),
        (2, 3, 3, 4, 2),
    ),
    (lambda: layers.Conv3D(2, 2, dilation_rate=2, kernel_initializer="ones"), (2, 3, 4, 5, 2)),
    (
        lambda: layers.Conv3D(2, 2, data_format="channels_first", kernel_initializer="ones"),
        (2, 2, 5, 6, 2),
    ),
    (lambda: layers.MaxPooling3D(), (2, 2, 3, 3, 3)),
    (lambda: layers.MaxPooling3D((2, 3, 2), strides=(1, 2, 2), padding="same"), (2, 5, 3, 4, 3)),
    (lambda: layers.AveragePooling3D((3, 2, 2), strides=2, padding="same"), (2, 3, 3, 4, 3)),
    (lambda: layers.AveragePooling3D(2, data_format="channels_first"), (2, 5, 3, 3, 1)),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_shapes_and_round_trip(make, shape):
    layer = make()
    y = layer(X).numpy()
    assert y.shape == shape == layer.compute_output_shape(X.shape)
    again = type(layer).from_config(layer.get_config())
    again.build(X.shape)
    again.set_weights(layer.get_weights())
    np.testing.assert_allclose(again(X).numpy(), y, rtol=1e-6)


def test_conv3d_with_ones_sums_each_window():
    y = layers.Conv3D(1, 2, kernel_initializer="ones", use_bias=False)(X).numpy()
    window = X[:, :2, :2, :2].sum()  # the first output of each sample, summed over samples
    np.testing.assert_allclose(y[:, 0, 0, 0, 0].sum(), window, rtol=1e-5)


def test_aliases_and_a_training_step():
    assert layers.Convolution3D is layers.Conv3D
    assert layers.MaxPool3D is layers.MaxPooling3D and layers.AvgPool3D is layers.AveragePooling3D
    model = keras.Sequential(
        [
            keras.Input((5, 6, 7, 3)),
            layers.Conv3D(4, 3, padding="same", activation="relu"),
            layers.MaxPooling3D(2),
            layers.AveragePooling3D((1, 2, 2), padding="same"),
            layers.Conv3D(2, (2, 1, 1), activation="tanh"),
            layers.GlobalAveragePooling3D(),
            layers.Dense(1),
        ]
    )
    model.compile("adam", "mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(X, np.ones((2, 1)), epochs=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_conv3d_rejects_a_4d_input():
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        layers.Conv3D(2, 2)(X[0])


# Conv3DTranspose: Keras 3.15's output shape, sum and sum of squares with weights drawn by a
# fresh np.random.default_rng(1) each and the input by np.random.default_rng(0)
TRANSPOSE_CASES = [
    (lambda: layers.Conv3DTranspose(2, (2, 3, 2)), (2, 3, 4, 5, 3), (2, 4, 6, 6, 2), 352.38958740234375, 6914.3544921875),
    (lambda: layers.Conv3DTranspose(3, 3, strides=2, padding="same"), (1, 3, 4, 3, 2), (1, 6, 8, 6, 3), 444.0748596191406, 3006.560546875),
    (lambda: layers.Conv3DTranspose(2, 3, strides=(2, 1, 2), output_padding=(1, 0, 1)), (1, 3, 4, 3, 2), (1, 8, 6, 8, 2), 410.96905517578125, 2995.821044921875),
    (lambda: layers.Conv3DTranspose(2, 2, strides=3), (1, 2, 3, 2, 2), (1, 6, 9, 6, 2), 375.3476257324219, 525.8715209960938),
    (lambda: layers.Conv3DTranspose(2, 2, dilation_rate=2), (1, 3, 3, 4, 2), (1, 5, 5, 6, 2), 167.9569854736328, 1009.7052001953125),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2, padding="same", data_format="channels_first"), (1, 2, 3, 4, 5), (1, 2, 6, 8, 10), 555.1596069335938, 1746.39794921875),
]  # fmt: skip


@pytest.mark.parametrize("make, shape, out_shape, total, squares", TRANSPOSE_CASES)
def test_conv3d_transpose_as_keras(make, shape, out_shape, total, squares):
    layer = make()
    layer.build(shape)
    layer.set_weights(
        [
            np.random.default_rng(1).standard_normal(w.shape).astype("float32")
            for w in layer.get_weights()
        ]
    )
    y = layer(np.random.default_rng(0).standard_normal(shape).astype("float32")).numpy()
    assert y.shape == out_shape == layer.compute_output_shape(shape)
    np.testing.assert_allclose([y.sum(), (y * y).sum()], [total, squares], rtol=1e-4)
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
