"""Xception (Chollet 2016): depthwise separable convolutions in residual blocks, 299x299."""

from __future__ import annotations

from .. import layers
from . import base, imagenet_utils

_TOP, _NOTOP = "0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97"


def _bn(name=None):
    return layers.BatchNormalization(axis=base.channel_axis(), name=name)


def _sep(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return _bn(f"{name}_bn")(x)


def _shortcut(x, filters):
    residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return _bn()(residual)


def _entry_block(x, filters, block, first_relu=True, exit_filters=None):
    residual = _shortcut(x, exit_filters or filters)
    if first_relu:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sep(x, filters, f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sep(x, exit_filters or filters, f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def _build(
    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
):
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, 299, 71, include_top, weights)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(_bn("block1_conv1_bn")(x))
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(_bn("block1_conv2_bn")(x))
    x = _entry_block(x, 128, 2, first_relu=False)
    x = _entry_block(x, 256, 3)
    x = _entry_block(x, 728, 4)
    for i in range(8):
        residual, prefix = x, f"block{i + 5}"
        for k in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{k}_act")(x)
            x = _sep(x, 728, f"{prefix}_sepconv{k}")
        x = layers.add([x, residual])
    x = _entry_block(x, 728, 13, exit_filters=1024)
    x = _sep(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sep(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    x = base.classifier(
        x,
        include_top,
        pooling,
        classes,
        classifier_activation,
        weights,
        pool_names=("avg_pool", None) if include_top else (None, None),
    )
    files = base.tf_kernels_files("xception")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, (_TOP, _NOTOP), "xception/"
    )


Xception = base.standard_application(
    _build, "xception", "Xception: 36 separable convolutions in 14 blocks, 299x299 inputs."
)


def preprocess_input(x, data_format=None):
    """TF mode: values scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
