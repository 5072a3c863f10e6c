"""InceptionResNetV2 (Szegedy et al. 2016): Inception branches whose 1x1-projected sum is
added, scaled, to the block's input (residual), 299x299 inputs."""

from __future__ import annotations

from .. import layers
from ..naming import register_serializable
from . import base, imagenet_utils

_TOP, _NOTOP = "e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4"


@register_serializable(package="keras.applications")
class CustomScaleLayer(layers.Layer):
    """``inputs[0] + scale * inputs[1]``: the scaled residual sum of the blocks."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def conv2d_bn(
    x,
    filters,
    kernel_size,
    strides=1,
    padding="same",
    activation="relu",
    use_bias=False,
    name=None,
):
    """Convolution; without a bias, batch norm (no scale); then the activation."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name
    )(x)
    if not use_bias:
        x = layers.BatchNormalization(
            axis=base.channel_axis(), scale=False, name=None if name is None else f"{name}_bn"
        )(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """block35 / block17 / block8: branches, concatenated, projected by a 1x1 convolution
    (with bias) to the input's channels and added scaled by ``scale``."""
    if block_type == "block35":
        branches = [
            conv2d_bn(x, 32, 1),
            conv2d_bn(conv2d_bn(x, 32, 1), 32, 3),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 32, 1), 48, 3), 64, 3),
        ]
    elif block_type == "block17":  # (layers made in Keras's order: the same default names)
        branches = [
            conv2d_bn(x, 192, 1),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 128, 1), 160, [1, 7]), 192, [7, 1]),
        ]
    elif block_type == "block8":
        branches = [
            conv2d_bn(x, 192, 1),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1), 224, [1, 3]), 256, [3, 1]),
        ]
    else:
        raise ValueError(
            "Unknown Inception-ResNet block type. Expects 'block35', 'block17' or 'block8', "
            f"but got: {block_type}"
        )
    block_name = f"{block_type}_{block_idx}"
    axis = base.channel_axis()
    mixed = layers.Concatenate(axis=axis, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(
        mixed, x.shape[axis], 1, activation=None, use_bias=True, name=f"{block_name}_conv"
    )
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def _build(
    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
):
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, 299, 75, include_top, weights)
    axis = base.channel_axis()
    x = conv2d_bn(x, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = layers.Concatenate(axis=axis, name="mixed_5b")(
        [
            conv2d_bn(x, 96, 1),
            conv2d_bn(conv2d_bn(x, 48, 1), 64, 5),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3),
            conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1),
        ]
    )
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, 0.17, "block35", block_idx)
    x = layers.Concatenate(axis=axis, name="mixed_6a")(
        [
            conv2d_bn(x, 384, 3, strides=2, padding="valid"),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid"),
            layers.MaxPooling2D(3, strides=2, padding="valid")(x),
        ]
    )
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, 0.1, "block17", block_idx)
    x = layers.Concatenate(axis=axis, name="mixed_7a")(
        [
            conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid"),
            conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid"),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid"),
            layers.MaxPooling2D(3, strides=2, padding="valid")(x),
        ]
    )
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, 0.2, "block8", block_idx)
    x = inception_resnet_block(x, 1.0, "block8", 10, activation=None)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    x = base.classifier(
        x,
        include_top,
        pooling,
        classes,
        classifier_activation,
        weights,
        pool_names=("avg_pool", None) if include_top else (None, None),
    )
    files = base.tf_kernels_files("inception_resnet_v2")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, (_TOP, _NOTOP), "inception_resnet_v2/"
    )


InceptionResNetV2 = base.standard_application(
    _build,
    "inception_resnet_v2",
    "InceptionResNetV2: 10 + 20 + 10 residual Inception blocks, 299x299 inputs.",
)


def preprocess_input(x, data_format=None):
    """TF mode: values scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
