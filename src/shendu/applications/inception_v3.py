"""InceptionV3 (Szegedy et al. 2015): Inception modules with factorised 7x7 (1x7, 7x1)
and 3x3 (1x3, 3x1) convolutions, 299x299 inputs."""

from __future__ import annotations

from .. import layers
from . import base, imagenet_utils

_TOP, _NOTOP = "9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63"


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Convolution without bias, batch norm without scale, ReLU."""
    x = layers.Conv2D(
        filters,
        (num_row, num_col),
        strides=strides,
        padding=padding,
        use_bias=False,
        name=None if name is None else f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(
        axis=base.channel_axis(), scale=False, name=None if name is None else f"{name}_bn"
    )(x)
    return layers.Activation("relu", name=name)(x)


def _avg_branch(x, filters):
    pooled = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(pooled, filters, 1, 1)


def _block35(x, pool_filters, name):
    """Mixed 0-2: 1x1, 1x1-5x5, 1x1-3x3-3x3 and average-pool branches."""
    b1 = conv2d_bn(x, 64, 1, 1)
    b5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    b3 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    return layers.concatenate(
        [b1, b5, b3, _avg_branch(x, pool_filters)], axis=base.channel_axis(), name=name
    )


def _block17(x, width, name):
    """Mixed 4-7: 1x1, 1x7-7x1 and double 7x1-1x7 branches of ``width`` channels."""
    b1 = conv2d_bn(x, 192, 1, 1)
    b7 = conv2d_bn(conv2d_bn(conv2d_bn(x, width, 1, 1), width, 1, 7), 192, 7, 1)
    d = conv2d_bn(x, width, 1, 1)
    for filters, rows, cols in ((width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)):
        d = conv2d_bn(d, filters, rows, cols)
    return layers.concatenate(
        [b1, b7, d, _avg_branch(x, 192)], axis=base.channel_axis(), name=name
    )


def _block8(x, index):
    """Mixed 9 and 10: branches that split into 1x3 and 3x1 halves."""
    axis = base.channel_axis()
    b1 = conv2d_bn(x, 320, 1, 1)
    b3 = conv2d_bn(x, 384, 1, 1)
    b3 = layers.concatenate(
        [conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)], axis=axis, name=f"mixed9_{index}"
    )
    d = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    d = layers.concatenate([conv2d_bn(d, 384, 1, 3), conv2d_bn(d, 384, 3, 1)], axis=axis)
    return layers.concatenate(
        [b1, b3, d, _avg_branch(x, 192)], axis=axis, name=f"mixed{9 + index}"
    )


def _build(
    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
):
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, 299, 75, include_top, weights)
    axis = base.channel_axis()
    x = conv2d_bn(x, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _block35(x, 32, "mixed0")
    x = _block35(x, 64, "mixed1")
    x = _block35(x, 64, "mixed2")
    b3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    d = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    d = conv2d_bn(d, 96, 3, 3, strides=(2, 2), padding="valid")
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, d, pool], axis=axis, name="mixed3")
    for index, width in enumerate((128, 160, 160, 192)):
        x = _block17(x, width, f"mixed{4 + index}")
    b3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    b7 = conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    b7 = conv2d_bn(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b7, pool], axis=axis, name="mixed8")
    x = _block8(x, 0)
    x = _block8(x, 1)
    x = base.classifier(
        x,
        include_top,
        pooling,
        classes,
        classifier_activation,
        weights,
        pool_names=("avg_pool", None) if include_top else (None, None),
    )
    files = base.tf_kernels_files("inception_v3")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, (_TOP, _NOTOP), "inception_v3/"
    )


InceptionV3 = base.standard_application(
    _build, "inception_v3", "InceptionV3: 94 convolutions in 11 Inception modules, 299x299."
)


def preprocess_input(x, data_format=None):
    """TF mode: values scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
